"""The NATS permissions follow from the contracts (runtime/natsauth.py): the rule, as data."""

from __future__ import annotations

import json
import stat

import pytest

from contracts import naming
from contracts.catalogue import CONSUMES, EVENTS, EVENTS_BY_TYPE, endpoints_of
from runtime.natsauth import (
    BUILTIN_USERS,
    NatsUsers,
    connect_options,
    durables_of,
    permissions,
    public_key,
)

EVENT_SUBJECTS = {e.subject for e in EVENTS}


def _pub(role: str) -> set[str]:
    return set(permissions(role).publish)


def test_each_event_subject_is_published_by_its_producer_alone():
    for e in EVENTS:
        publishers = [u for u in BUILTIN_USERS if e.subject in _pub(u)]
        assert publishers == [e.producer], e.subject
    for user in BUILTIN_USERS:  # and no one holds a wildcard over events, requests or everything
        for s in _pub(user):
            assert s not in (">", "congdoan.>", "congdoan.evt.>", "$JS.API.>", "$KV.>"), (user, s)


def test_a_service_serves_its_endpoints_consumes_its_durables_parks_its_own():
    for service in naming.SERVICES:
        p = permissions(service)
        assert p.allow_responses
        endpoints = {e.subject for e in endpoints_of(service)}
        assert endpoints <= set(p.subscribe)
        assert not [s for s in p.subscribe if s.startswith("congdoan.api.") and s not in endpoints]
        assert not [s for s in p.subscribe if s.startswith("congdoan.evt.")]  # events come through its durables
        producers = {EVENTS_BY_TYPE[t].producer for t in CONSUMES[service]}
        assert {d for _, d in durables_of(service)} == {naming.durable_name(service, x) for x in producers}
        dlq = {s for s in p.publish if s.startswith(naming.DLQ_PREFIX)}
        assert dlq == {naming.dlq_subject(service, naming.durable_name(service, x)) for x in producers}
        assert f"_INBOX.{service}.>" in p.subscribe
        assert not [s for s in p.publish if s.startswith("$KV.")]  # reads the clock, never writes it
        assert not [s for s in p.publish if ".DELETE." in s or ".PURGE." in s]


def test_the_client_sends_requests_and_reads_its_inbox_nothing_else():
    p = permissions("client")
    assert p.publish == ("congdoan.api.>",)
    assert p.subscribe == ("_INBOX.client.>",)
    assert not p.allow_responses
    assert permissions("client", "hr-portal").subscribe == ("_INBOX.hr-portal.>",)


def test_the_subscriber_reads_event_streams_and_keeps_off_the_services_durables():
    p = permissions("subscriber")
    assert not EVENT_SUBJECTS & set(p.publish)
    assert not [s for s in p.publish if s.startswith(("congdoan.", "$KV.")) or naming.DLQ_STREAM in s]
    for stream, durable in ((s, d) for svc in naming.SERVICES for s, d in durables_of(svc)):
        assert f"$JS.API.CONSUMER.MSG.NEXT.{stream}.{durable}" in p.publish_deny
        assert f"$JS.API.CONSUMER.DELETE.{stream}.{durable}" in p.publish_deny
        assert f"$JS.ACK.{stream}.{durable}.>" in p.publish_deny
    assert p.subscribe == ("_INBOX.subscriber.>",)


def test_the_operator_alone_writes_the_clock_and_cleans_dead_letters():
    writers = [u for u in BUILTIN_USERS if f"$KV.{naming.CLOCK_BUCKET}.>" in _pub(u)]
    assert writers == ["operator"]
    cleaners = [u for u in BUILTIN_USERS if f"$JS.API.STREAM.PURGE.{naming.DLQ_STREAM}" in _pub(u)]
    assert cleaners == ["operator"]
    assert not EVENT_SUBJECTS & _pub("operator")


def test_users_are_made_once_as_private_seeds_and_the_config_holds_only_public_keys(tmp_path):
    users = NatsUsers(tmp_path / "nats")
    seeds = users.ensure_builtin()
    assert set(seeds) == set(BUILTIN_USERS)
    first = {n: p.read_bytes() for n, p in seeds.items()}
    assert users.ensure_builtin() and {n: p.read_bytes() for n, p in seeds.items()} == first  # idempotent
    for path in seeds.values():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert path.read_bytes().startswith(b"SU")
    conf = users.accounts_config()
    assert "no_auth_user" not in conf
    assert not any(seed.strip().decode() in conf for seed in first.values())
    account = json.loads(conf.removeprefix("accounts: "))["CONGDOAN"]
    assert account["jetstream"] == "enabled"
    assert {u["nkey"] for u in account["users"]} == {public_key(b) for b in first.values()}


def test_integrators_are_added_rotated_and_removed(tmp_path):
    users = NatsUsers(tmp_path / "nats")
    users.ensure_builtin()
    seed = users.add("bi-warehouse", "subscriber", note="BI")
    old = seed.read_bytes()
    assert users.all()["bi-warehouse"].role == "subscriber"
    users.rotate("bi-warehouse")
    assert seed.read_bytes() != old and users.all()["bi-warehouse"].nkey == public_key(seed.read_bytes())
    assert users.remove("bi-warehouse") and not seed.exists() and "bi-warehouse" not in users.all()
    for bad in (("reports", "client"), ("x", "client"), ("Bad_Name", "client"), ("ops-2", "operator")):
        with pytest.raises(ValueError):
            users.add(*bad)
    with pytest.raises(ValueError):
        users.remove("operator")


def test_connect_options_take_creds_then_user_password_then_the_embedded_seed(tmp_path):
    users = NatsUsers(tmp_path / "secrets" / "nats")
    users.ensure_builtin()
    assert connect_options("reports", secrets_dir=tmp_path / "secrets") == {
        "inbox_prefix": "_INBOX.reports", "nkeys_seed": str(users.seed_path("reports"))}
    creds = tmp_path / "ext.creds"
    creds.write_text("-----BEGIN NATS USER JWT-----\neyJ…\n------END NATS USER JWT------\n")
    assert connect_options("reports", secrets_dir=tmp_path / "secrets", creds=creds)["user_credentials"] == str(creds)
    assert connect_options("reports", nats_user="r", nats_password="p") == {
        "inbox_prefix": "_INBOX.reports", "user": "r", "password": "p"}
    assert connect_options("reports", secrets_dir=tmp_path / "nowhere") == {"inbox_prefix": "_INBOX.reports"}
    junk = tmp_path / "junk"
    junk.write_text("hello")
    with pytest.raises(ValueError):
        connect_options("reports", creds=junk)


def test_services_keep_real_time_unless_unlocked_and_take_their_own_credentials(tmp_path, monkeypatch):
    from runtime.settings import load_settings

    for var in ("CONGDOAN_CLOCK_LOCKED", "CONGDOAN_NATS_CREDS", "CONGDOAN_REPORTS_NATS_CREDS", "CONGDOAN_NATS_USER"):
        monkeypatch.delenv(var, raising=False)
    assert load_settings("reports").clock_locked is True
    monkeypatch.setenv("CONGDOAN_CLOCK_LOCKED", "false")
    assert load_settings("reports").clock_locked is False
    users = NatsUsers(tmp_path / "secrets" / "nats")
    users.ensure_builtin()
    monkeypatch.setenv("CONGDOAN_DATA_DIR", str(tmp_path))
    assert load_settings("reports").nats_connect_options()["nkeys_seed"] == str(users.seed_path("reports"))
    monkeypatch.setenv("CONGDOAN_NATS_CREDS", str(users.seed_path("client")))
    monkeypatch.setenv("CONGDOAN_REPORTS_NATS_CREDS", str(users.seed_path("reports")))
    assert load_settings("reports").nats_connect_options()["nkeys_seed"] == str(users.seed_path("reports"))
    assert load_settings("awards").nats_connect_options()["nkeys_seed"] == str(users.seed_path("client"))
