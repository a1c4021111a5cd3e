"""Webhook targets checked against server-side request forgery, secrets sealed at rest, and the
sender refusing at connect time what the checks refuse — without the network: the resolver is one
the test controls (or the system's, for address forms it answers without DNS), and every refused
target is refused before any connection is made."""

from __future__ import annotations

import ipaddress
import os
import stat
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from cryptography.fernet import Fernet

from services.notify.adapters.secret_box import SecretBox, SecretUnreadable
from services.notify.adapters.webhook import WebhookGuard, WebhookSender
from services.notify.domain.model import Channel, Outcome, Outgoing
from services.notify.domain.signing import new_secret
from services.notify.domain.targets import AllowList, TargetRefused, check_addresses, check_url, classify
from services.notify.settings import NotifySettings
from tests.support import FakeDns

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
PUBLIC = "93.184.216.34"  # never connected to: refusals come before any connection, and no test here sends


REFUSED = [  # address, category
    ("127.0.0.1", "loopback"),
    ("127.255.255.254", "loopback"),
    ("10.0.0.1", "private"),
    ("172.16.0.1", "private"),
    ("172.31.255.255", "private"),
    ("192.168.1.10", "private"),
    ("169.254.169.254", "metadata"),
    ("169.254.170.2", "metadata"),
    ("100.100.100.200", "metadata"),
    ("168.63.129.16", "metadata"),
    ("169.254.1.1", "link_local"),
    ("100.64.0.1", "shared"),
    ("100.127.255.254", "shared"),
    ("0.0.0.0", "unspecified"),
    ("0.1.2.3", "private"),  # "this network"
    ("224.0.0.1", "multicast"),
    ("239.255.255.250", "multicast"),
    ("240.0.0.1", "reserved"),
    ("255.255.255.255", "reserved"),  # broadcast
    ("192.0.2.10", "private"),  # documentation
    ("198.18.0.1", "private"),  # benchmarking
    ("::1", "loopback"),
    ("::", "unspecified"),
    ("fe80::1", "link_local"),
    ("fe80::1%eth0", "link_local"),
    ("fc00::1", "unique_local"),
    ("fd12:3456:789a::1", "unique_local"),
    ("fd00:ec2::254", "metadata"),
    ("fec0::1", "private"),  # site-local, deprecated
    ("ff02::1", "multicast"),
    ("2001:db8::1", "private"),  # documentation
    ("::ffff:127.0.0.1", "loopback"),  # IPv4-mapped
    ("::ffff:10.1.2.3", "private"),
    ("::ffff:169.254.169.254", "metadata"),
    ("::ffff:100.64.0.1", "shared"),
    ("64:ff9b::a00:1", "private"),  # NAT64 of 10.0.0.1
    ("64:ff9b::a9fe:a9fe", "metadata"),  # NAT64 of 169.254.169.254
    ("2002:a00:1::1", "private"),  # 6to4 of 10.0.0.1
    ("2002:7f00:1::1", "loopback"),  # 6to4 of 127.0.0.1
    ("::127.0.0.1", "reserved"),  # IPv4-compatible, deprecated
    ("100::1", "reserved"),  # discard-only
]
PUBLIC_ADDRESSES = ["93.184.216.34", "8.8.8.8", "1.1.1.1", "100.128.0.1", "100.63.255.255", "172.32.0.1",
                    "192.167.255.255", "2606:4700:4700::1111", "2001:4860:4860::8888", "::ffff:8.8.8.8",
                    "64:ff9b::808:808", "2002:808:808::1"]


@pytest.mark.parametrize(("address", "category"), REFUSED)
def test_non_public_addresses_are_refused(address: str, category: str) -> None:
    ip = ipaddress.ip_address(address)
    assert classify(ip) == category
    with pytest.raises(TargetRefused) as refused:
        check_addresses("hooks.example.vn", [ip], AllowList())
    assert refused.value.code == "address_refused" and refused.value.category == category
    assert refused.value.address == str(ip) and "hooks.example.vn" in refused.value.reason


@pytest.mark.parametrize("address", PUBLIC_ADDRESSES)
def test_public_addresses_are_admitted(address: str) -> None:
    assert classify(ipaddress.ip_address(address)) is None
    check_addresses("hooks.example.vn", [ipaddress.ip_address(address)], AllowList())


@pytest.mark.parametrize(("allow", "address", "admitted"), [
    ("127.0.0.1", "127.0.0.1", True),
    ("127.0.0.1", "127.0.0.2", False),
    ("10.20.0.0/16", "10.20.3.4", True),
    ("10.20.0.0/16", "10.21.0.1", False),
    ("10.20.0.0/16", "::ffff:10.20.3.4", True),  # the same host, written as IPv6
    ("::1", "::1", True),
    ("::1", "127.0.0.1", False),
    ("[fd00::]/8, 127.0.0.1", "fd12::1", True),
    ("", "127.0.0.1", False),
])
def test_the_allow_list_admits_listed_networks(allow: str, address: str, admitted: bool) -> None:
    ip = ipaddress.ip_address(address)
    if admitted:
        check_addresses("hooks.intranet.vn", [ip], AllowList.parse(allow))
    else:
        with pytest.raises(TargetRefused):
            check_addresses("hooks.intranet.vn", [ip], AllowList.parse(allow))


def test_the_allow_list_admits_listed_names_wherever_they_point() -> None:
    allow = AllowList.parse("Hooks.Intranet.VN., 10.9.0.0/16")
    check_addresses("hooks.intranet.vn", [ipaddress.ip_address("10.1.2.3")], allow)
    with pytest.raises(TargetRefused):
        check_addresses("other.intranet.vn", [ipaddress.ip_address("10.1.2.3")], allow)
    for bad in ("http://x/", "a b/c", "10.0.0.0/33", "user@host"):
        with pytest.raises(ValueError):
            AllowList.parse(bad)
    with pytest.raises(ValueError, match="neither a host name"):
        NotifySettings(webhook_allow="10.0.0.0/8, ftp://x")


@pytest.mark.parametrize(("url", "code"), [
    ("http://hooks.example.vn/x", "https_required"),
    ("http://8.8.8.8/x", "https_required"),
    ("ftp://hooks.example.vn/x", "invalid_url"),
    ("https:///x", "invalid_url"),
    ("https://user:pw@hooks.example.vn/x", "invalid_url"),
    ("https://hooks.example.vn:99999/x", "invalid_url"),
    ("https://[::1/x", "invalid_url"),
    ("https://127.0.0.3/x", "address_refused"),
    ("https://[::1]:8443/x", "address_refused"),
    ("https://[::ffff:169.254.169.254]/latest/meta-data/", "address_refused"),
    ("https://169.254.169.254/latest/meta-data/", "address_refused"),
    ("https://10.0.0.1/x", "address_refused"),
    ("http://127.0.0.2:8080/x", "https_required"),
])
def test_urls_refused_without_resolving(url: str, code: str) -> None:
    with pytest.raises(TargetRefused) as refused:
        check_url(url, AllowList.parse("127.0.0.1, hooks.intranet.vn"))
    assert refused.value.code == code
    assert refused.value.message_vi and refused.value.message_vi[0].isupper()


def test_http_only_for_allow_listed_hosts() -> None:
    allow = AllowList.parse("127.0.0.1, hooks.intranet.vn")
    assert check_url("http://127.0.0.1:8025/hooks/a", allow).port == 8025
    assert check_url("http://hooks.intranet.vn/x", allow).host == "hooks.intranet.vn"
    assert check_url("https://hooks.example.vn/x", allow).port == 443


async def test_names_are_resolved_and_every_address_checked() -> None:
    dns = FakeDns({"hooks.example.vn": [PUBLIC, "2606:4700:4700::1111"], "intranet.example.vn": ["10.0.0.5"],
                   "mixed.example.vn": [PUBLIC, "10.0.0.5"], "six.example.vn": ["fd00::5"],
                   "meta.example.vn": ["169.254.169.254"], "hooks.intranet.vn": ["10.0.0.6"]})
    guard = WebhookGuard(AllowList.parse("hooks.intranet.vn"), dns)
    await guard.vet("https://hooks.example.vn/x")
    await guard.vet("http://hooks.intranet.vn/x")  # listed by name: admitted, http too
    for url, code, category in [("https://intranet.example.vn/x", "address_refused", "private"),
                                ("https://mixed.example.vn/x", "address_refused", "private"),  # one is enough
                                ("https://six.example.vn/x", "address_refused", "unique_local"),
                                ("https://meta.example.vn/x", "address_refused", "metadata"),
                                ("https://nowhere.example.vn/x", "unresolvable", "")]:
        with pytest.raises(TargetRefused) as refused:
            await guard.vet(url)
        assert (refused.value.code, refused.value.category) == (code, category), url
        assert "10.0.0.5" not in refused.value.message_vi  # people are told the kind of address, not which
    with pytest.raises(TargetRefused):
        await guard.vet("https://10.0.0.1/x")
    assert "10.0.0.1" not in dns.asked  # an address literal is checked as it is


async def test_address_forms_the_system_resolver_maps_to_loopback() -> None:
    """Decimal, short and hex forms of 127.0.0.1 are names to urllib, but the system resolver turns
    them into the address (no DNS needed): they are refused like the address, and so is localhost."""
    guard = WebhookGuard(AllowList())
    for url in ("https://2130706433/x", "https://127.1/x", "https://0x7f000001/x", "https://localhost/x"):
        with pytest.raises(TargetRefused) as refused:
            await guard.vet(url)
        assert refused.value.category == "loopback", url


def _job(address: str, sealed: str | None) -> Outgoing:
    return Outgoing(delivery_id="n-1.webhook", notification_id="n-1", event_id="e-1", recipient_id="p1",
                    recipient_name="Nguyễn Văn A", channel=Channel.WEBHOOK, kind="deadline_approaching",
                    address=address, attempts=0, title="Còn 7 ngày", body="…", secret=sealed)


async def test_the_sender_refuses_at_connect_time_for_good() -> None:
    """Checked when saved, then the name rebinds to a private address: the connection is refused
    before it is made, and the delivery fails for good (no retrying a refusal)."""
    dns = FakeDns({"rebind.example.vn": [PUBLIC]})
    guard = WebhookGuard(AllowList.parse("127.0.0.1"), dns)
    await guard.vet("https://rebind.example.vn/hook")
    box = SecretBox([Fernet.generate_key()])
    sender = WebhookSender(url=lambda link: link, guard=guard, box=box, now=lambda: datetime(2026, 10, 15, 9, tzinfo=TZ))
    sealed = box.seal(new_secret())
    try:
        dns.table["rebind.example.vn"] = ["127.0.0.2"]  # loopback, and not the allow-listed 127.0.0.1
        result = await sender.send(_job("https://rebind.example.vn/hook", sealed))
        assert result.outcome is Outcome.PERMANENT
        assert "rebind.example.vn resolves to 127.0.0.2, a loopback address" in result.detail
        for url, detail in [("https://[::ffff:7f00:2]/hook", "::ffff:7f00:2 is a loopback address"),
                            ("http://rebind.example.vn/hook", "must be https")]:
            result = await sender.send(_job(url, sealed))
            assert result.outcome is Outcome.PERMANENT and detail in result.detail
        result = await sender.send(_job("https://gone.example.vn/hook", sealed))  # DNS down: try again later
        assert result.outcome is Outcome.TRANSIENT
        other = SecretBox([Fernet.generate_key()])  # sealed under a key this service no longer has
        result = await sender.send(_job("https://rebind.example.vn/hook", other.seal(new_secret())))
        assert result.outcome is Outcome.TRANSIENT and "unreadable" in result.detail
    finally:
        await sender.close()


def test_secrets_are_sealed_and_keys_rotate(tmp_path: Path) -> None:
    path = tmp_path / "secrets" / "notify-webhook.key"
    old = SecretBox.from_file(path)  # made on first use, owner-only
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert SecretBox.from_file(path).open(old.seal("whsec_x")) == "whsec_x"  # the same key next time
    secret = new_secret()
    sealed = old.seal(secret)
    assert secret not in sealed and secret[6:] not in sealed and old.open(sealed) == secret
    assert old.seal(secret) != sealed  # a fresh IV every time

    # rotation: a new key first, the old one after it
    old_key = [ln for ln in path.read_text().splitlines() if ln and not ln.startswith("#")][0]
    path.write_text(f"# rotated\n{Fernet.generate_key().decode()}\n\n{old_key}\n")
    rotated = SecretBox.from_file(path)
    assert rotated.key_count == 2 and rotated.open(sealed) == secret and not rotated.is_current(sealed)
    resealed = rotated.reseal(sealed)
    assert rotated.is_current(resealed) and rotated.open(resealed) == secret
    path.write_text(path.read_text().replace(old_key, ""))  # the old key retired
    assert SecretBox.from_file(path).open(resealed) == secret
    with pytest.raises(SecretUnreadable):
        SecretBox.from_file(path).open(sealed)

    bad = tmp_path / "bad.key"
    bad.write_text("not-a-key\n")
    with pytest.raises(ValueError, match="line 1: not a Fernet key"):
        SecretBox.from_file(bad)
    bad.write_text("# nothing but a comment\n")
    with pytest.raises(ValueError, match="no key"):
        SecretBox.from_file(bad)
    with pytest.raises(FileNotFoundError):
        SecretBox.from_file(tmp_path / "absent.key", create=False)


def test_two_processes_making_the_key_at_once_end_with_one(tmp_path: Path) -> None:
    path = tmp_path / "k" / "notify-webhook.key"
    boxes = [SecretBox.from_file(path) for _ in range(2)]
    assert boxes[1].open(boxes[0].seal("whsec_x")) == "whsec_x"
    assert [p.name for p in path.parent.iterdir()] == ["notify-webhook.key"]  # no temporary file left
    assert os.stat(path).st_nlink == 1
