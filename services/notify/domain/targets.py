"""Where a webhook may point: the server-side request forgery rules, without I/O.

A webhook URL is typed by a person and fetched by this service from inside the operator's network,
so an unchecked one reaches what the person could not: the loopback interface, the private network,
the cloud's metadata service (169.254.169.254 hands out credentials). The rules:

* `https://` only; `http://` just for a host the operator's allow-list names (a listed name, or an
  address literal inside a listed network) — say, a receiver on the same machine in tests;
* no user name or password in the URL (they would be stored and shown in plain text);
* every address the host resolves to must be public (`classify` is None), unless the allow-list
  names the host or holds a network the address is in. One refused address refuses the whole
  name: a name that resolves to a public and a private address is exactly what a rebinding attack
  looks like.

The service checks twice: when the preference is saved, and when it connects (the name may resolve
elsewhere by then), connecting to the very addresses it checked (adapters/webhook.py).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

# Codes of refusals (stable: programs read them in error details and delivery reasons).
INVALID_URL = "invalid_url"
HTTPS_REQUIRED = "https_required"
ADDRESS_REFUSED = "address_refused"
UNRESOLVABLE = "unresolvable"

# Cloud metadata and host-agent endpoints: named as such, whatever range they are in (Azure's is
# even a public address).
METADATA = frozenset(ipaddress.ip_address(a) for a in (
    "169.254.169.254",  # AWS, GCP, Azure, OpenStack, DigitalOcean…
    "169.254.170.2",  # AWS ECS task credentials
    "fd00:ec2::254",  # AWS over IPv6
    "100.100.100.200",  # Alibaba Cloud
    "168.63.129.16",  # Azure wire server
))
SHARED_V4 = ipaddress.ip_network("100.64.0.0/10")  # carrier-grade NAT (RFC 6598)
NAT64 = ipaddress.ip_network("64:ff9b::/96")  # well-known NAT64 prefix: the last 32 bits are IPv4
UNIQUE_LOCAL = ipaddress.ip_network("fc00::/7")

# What each category is called in the messages people read.
CATEGORY_VI = {
    "unspecified": "địa chỉ không xác định",
    "loopback": "địa chỉ nội bộ của chính máy chủ (loopback)",
    "metadata": "dịch vụ metadata của máy chủ đám mây",
    "link_local": "địa chỉ liên kết cục bộ (link-local)",
    "multicast": "địa chỉ multicast",
    "shared": "dải địa chỉ dùng chung của nhà mạng (CGNAT)",
    "unique_local": "mạng riêng IPv6 (unique-local)",
    "private": "mạng nội bộ",
    "reserved": "dải địa chỉ dành riêng",
    "non_public": "địa chỉ không công khai",
}


class TargetRefused(Exception):
    """A webhook URL this service will not call. `code` is stable; `reason` is for logs and the
    delivery log (English, like the other reasons there); `message_vi` is for the person."""

    def __init__(self, code: str, reason: str, message_vi: str, *, host: str = "", address: str = "",
                 category: str = "") -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason
        self.message_vi = message_vi
        self.host = host
        self.address = address
        self.category = category


def embedded_ipv4(ip: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one carries and is routed to: IPv4-mapped (::ffff:a.b.c.d), the
    NAT64 prefix, 6to4 (2002::/16)."""
    if not isinstance(ip, ipaddress.IPv6Address):
        return None
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip in NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return ip.sixtofour


def classify(ip: IPAddress) -> str | None:
    """Why this address is not for a webhook (a category of CATEGORY_VI), or None if it is public."""
    if (inner := embedded_ipv4(ip)) is not None:
        return classify(inner)
    if ip in METADATA:
        return "metadata"
    if ip.is_unspecified:
        return "unspecified"
    if ip.is_loopback:
        return "loopback"
    if ip.is_link_local:
        return "link_local"
    if ip.is_multicast:
        return "multicast"
    if isinstance(ip, ipaddress.IPv4Address) and ip in SHARED_V4:
        return "shared"
    if isinstance(ip, ipaddress.IPv6Address) and ip in UNIQUE_LOCAL:
        return "unique_local"
    if ip.is_reserved:  # 240/4 (broadcast among them), ::/8 (IPv4-compatible ::a.b.c.d among them)
        return "reserved"
    if ip.is_private or (isinstance(ip, ipaddress.IPv6Address) and ip.is_site_local):
        return "private"
    if not ip.is_global:
        return "non_public"
    return None


def parse_address(text: str) -> IPAddress | None:
    """An IP address literal (IPv6 maybe in brackets, maybe with a zone), else None."""
    try:
        return ipaddress.ip_address(text.strip("[]"))
    except ValueError:
        return None


def normal_host(host: str) -> str:
    return host.strip("[]").rstrip(".").lower()


@dataclass(frozen=True)
class AllowList:
    """Hosts and networks the operator admits although they are not public
    (CONGDOAN_NOTIFY_WEBHOOK_ALLOW: names, addresses and CIDRs, comma- or space-separated)."""

    hosts: frozenset[str] = frozenset()
    networks: tuple[IPNetwork, ...] = ()

    @classmethod
    def parse(cls, text: str | Iterable[str]) -> AllowList:
        entries = text.replace(",", " ").split() if isinstance(text, str) else list(text)
        hosts: set[str] = set()
        networks: list[IPNetwork] = []
        for entry in entries:
            try:
                networks.append(ipaddress.ip_network(entry.replace("[", "").replace("]", ""), strict=False))
                continue
            except ValueError:
                pass
            name = normal_host(entry)
            if not name or "/" in name or ":" in name or not all(c.isalnum() or c in "-._" for c in name):
                raise ValueError(f"webhook allow-list entry {entry!r} is neither a host name, an address nor a CIDR")
            hosts.add(name)
        return cls(frozenset(hosts), tuple(networks))

    def admits_address(self, ip: IPAddress) -> bool:
        candidates = [ip] + ([inner] if (inner := embedded_ipv4(ip)) is not None else [])
        return any(c in net for c in candidates for net in self.networks)

    def admits_host(self, host: str) -> bool:
        """The host itself is listed: by name, or as an address literal inside a listed network."""
        if normal_host(host) in self.hosts:
            return True
        ip = parse_address(host)
        return ip is not None and self.admits_address(ip)


@dataclass(frozen=True)
class Target:
    url: str
    scheme: str
    host: str  # as in the URL, lower-cased, without brackets
    port: int
    address: IPAddress | None  # the host was an address literal


def check_url(url: str, allow: AllowList) -> Target:
    """The checks that need no name resolution: shape, scheme, an address literal's range."""
    def bad_url(why: str, vi: str) -> TargetRefused:  # why: for the log; vi: for the person
        return TargetRefused(INVALID_URL, f"invalid webhook URL: {why}", f"Địa chỉ webhook không hợp lệ: {vi}.")

    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise bad_url("cannot be parsed", "không đọc được địa chỉ (kiểm tra cổng và dấu ngoặc)") from None
    scheme = parts.scheme.lower()
    if scheme not in ("https", "http"):
        raise bad_url(f"scheme {scheme or '(none)'}", "chỉ dùng https://")
    host = normal_host(parts.hostname or "")
    if not host:
        raise bad_url("no host", "thiếu tên máy chủ")
    if parts.username is not None or parts.password is not None:
        raise bad_url("user name or password in the URL",
                      "không ghi tên đăng nhập hay mật khẩu trong địa chỉ (chữ ký webhook đã xác thực người gửi)")
    address = parse_address(host)
    if address is None:
        try:
            host.encode("idna")
        except UnicodeError:
            raise bad_url(f"host {host!r}", "tên máy chủ không hợp lệ") from None
    if scheme == "http" and not allow.admits_host(host):
        raise TargetRefused(HTTPS_REQUIRED, f"webhook URL must be https: {host} is not allow-listed for http",
                            "Địa chỉ webhook phải bắt đầu bằng https:// (http:// chỉ dùng được với máy chủ "
                            "quản trị viên đã cho phép).", host=host)
    target = Target(url=url, scheme=scheme, host=host, port=port or (443 if scheme == "https" else 80),
                    address=address)
    if address is not None:
        check_addresses(target.host, [address], allow)
    return target


def check_addresses(host: str, addresses: Iterable[IPAddress], allow: AllowList) -> None:
    """Every address `host` resolved to must be public or allow-listed; raises TargetRefused."""
    if allow.admits_host(host) and parse_address(host) is None:
        return  # the operator vouches for this name, wherever it points
    for ip in addresses:
        category = classify(ip)
        if category is None or allow.admits_address(ip):
            continue
        literal = parse_address(host) is not None
        what = f"{ip} is" if literal else f"{host} resolves to {ip},"
        # A person learns the category, not the address a name resolves to (no map of the network).
        said = f"{host} là {CATEGORY_VI[category]}" if literal else f"tên {host} trỏ tới {CATEGORY_VI[category]}"
        raise TargetRefused(
            ADDRESS_REFUSED, f"webhook target refused: {what} a {category.replace('_', '-')} address",
            f"Không gửi webhook tới {host}: {said}. Hãy dùng một địa chỉ công khai, "
            f"hoặc đề nghị quản trị viên cho phép máy chủ này.",
            host=host, address=str(ip), category=category)


def unresolvable(host: str, why: str) -> TargetRefused:
    return TargetRefused(UNRESOLVABLE, f"webhook host {host} does not resolve: {why}",
                         f"Không tìm thấy máy chủ {host}: hãy kiểm tra lại địa chỉ webhook.", host=host)
