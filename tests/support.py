"""Helpers shared by the integration and end-to-end tests.

Identity in tests: one signing key for the whole session (`TEST_SECRETS`), made the way the
embedded stack makes its own, so that tests mint the tokens plans would issue at login — a
person's (`person_token`) or a machine identity's (`service_token`). Services started by
`running()` or by a `Stack` with `auth_env()` verify them. Logging in for real is tested in
tests/integration/test_auth.py.

NATS in tests: every nats-server a test starts (`test_nats_server`) runs with the accounts and
permissions of runtime/natsauth.py, the users' seeds in `TEST_SECRETS/nats`; services connect as
their own users (`running()`, a `Stack` with `nats_secrets=TEST_NATS.folder`) and the shared clock
is unlocked, as in the embedded stack. One more user exists only in tests: `harness`, with every
right, which stands in for the producers a test fakes and clears streams between tests (the `nc`
fixture). Tests of the permissions themselves connect as the real users (`connect_as`).

`call(nc, subject, body, as_=…)` sends a request with the bearer token of `as_`: a person id, or
`LOADER` (the embedded loader: directory_admin + plan_issuer), the default. As a convenience of
these tests, a body may name the caller as `actor_id`: the helper takes it out of the body (the
contracts have no such field) and calls as that person.
"""

from __future__ import annotations

import importlib
import json
import tempfile
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from runtime.app import Runtime
from runtime.auth import LOADER_CLIENT, LOADER_ROLES, TokenIssuer, auth_headers, ensure_embedded_identities
from runtime.client import ApiClient, request_patiently
from runtime.launcher import NatsServer, free_port
from runtime.natsauth import NatsUsers, connect_options, new_seed, public_key
from runtime.settings import load_settings

TEST_SECRETS = Path(tempfile.mkdtemp(prefix="congdoan-test-")) / "secrets"
_IDS = ensure_embedded_identities(TEST_SECRETS)
_ISSUER = TokenIssuer(_IDS["signing_key"])
LOADER = f"svc:{LOADER_CLIENT}"

TEST_NATS = NatsUsers(TEST_SECRETS / "nats")
TEST_NATS.ensure_builtin()
_HARNESS_SEED = TEST_SECRETS / "harness.nk"
_HARNESS_SEED.write_bytes(new_seed())
_HARNESS_SEED.chmod(0o600)
HARNESS = {"nkey": public_key(_HARNESS_SEED.read_bytes())}  # no permissions block: every right


def test_nats_server(store_dir: Path, **kw: Any) -> NatsServer:
    """A nats-server with congdoan's users and permissions (and the tests' harness user)."""
    return NatsServer(store_dir, users=TEST_NATS, extra_users=[HARNESS], **kw)


test_nats_server.__test__ = False  # type: ignore[attr-defined]  # not a test, whatever pytest thinks


def nats_options(user: str) -> dict[str, Any]:
    """`nats.connect` keyword arguments as one of congdoan's NATS users (on a test server)."""
    return connect_options(user, creds=TEST_NATS.seed_path(user))


async def connect_as(url: str, user: str, **kw: Any) -> Any:
    import nats

    return await nats.connect(url, **{**nats_options(user), **kw})


async def connect_harness(url: str, **kw: Any) -> Any:
    import nats

    return await nats.connect(url, nkeys_seed=str(_HARNESS_SEED), **kw)


def auth_settings() -> dict[str, Any]:
    """Settings overrides that make a service verify (and plans sign) the tests' tokens."""
    return {"auth_jwks_file": _IDS["jwks"], "auth_signing_key_file": _IDS["signing_key"],
            "auth_clients_file": _IDS["clients"]}


def auth_env() -> dict[str, str]:
    """The same, as environment variables for services in subprocesses (runtime.launcher.Stack)."""
    return {"CONGDOAN_AUTH_JWKS_FILE": str(_IDS["jwks"]), "CONGDOAN_AUTH_SIGNING_KEY_FILE": str(_IDS["signing_key"]),
            "CONGDOAN_AUTH_CLIENTS_FILE": str(_IDS["clients"])}


def loader_secret() -> str:
    return Path(_IDS["loader_secret"]).read_text().strip()


def person_token(person_id: str, **kw: Any) -> str:
    return _ISSUER.issue("person", person_id, **kw)[0]


def service_token(name: str = LOADER_CLIENT, roles: frozenset[str] | set[str] = LOADER_ROLES, **kw: Any) -> str:
    return _ISSUER.issue("service", name, roles=roles, **kw)[0]


def token_for(as_: str) -> str:
    if as_.startswith("svc:"):
        name = as_.removeprefix("svc:")
        return service_token(name, LOADER_ROLES if name == LOADER_CLIENT else frozenset({"reader"}))
    return person_token(as_)


def client(nc: Any, as_: str = LOADER) -> ApiClient:
    """An API client calling as `as_` (a person id, or LOADER), for helpers that take one."""
    return ApiClient.with_token(nc, token_for(as_))


def definition(name: str) -> Any:
    return importlib.import_module(f"services.{name}.entrypoints.main").DEFINITION


@asynccontextmanager
async def running(name: str, nats_url: str, db_url: str, **overrides: Any):  # type: ignore[no-untyped-def]
    """One service in this process (real NATS, real database), stopped cleanly at the end."""
    settings = load_settings(name, nats_url=nats_url, database_url=db_url, http_port=free_port(),
                             **{**auth_settings(), "nats_creds": TEST_NATS.seed_path(name), "clock_locked": False,
                                **overrides})
    rt = Runtime(definition(name), settings)
    await rt.start()
    try:
        yield rt
    finally:
        await rt.stop()


async def call(nc: Any, subject: str, body: Any, timeout: float = 10, *, as_: str | None = None,
               token: str | None = None) -> tuple[dict[str, str], Any]:
    """Request/reply with a bearer token; returns (headers, decoded JSON body). `token=""` sends
    none."""
    if isinstance(body, dict) and "actor_id" in body:
        body = dict(body)
        named = body.pop("actor_id")
        as_ = as_ or named
    if token is None:
        token = token_for(as_ or LOADER)
    data = body if isinstance(body, bytes) else json.dumps(body, ensure_ascii=False).encode()
    msg = await request_patiently(nc, subject, data, auth_headers(token) if token else None, timeout=timeout,
                                  attempts=25)  # a service that just started (CI saw one)
    return dict(msg.headers or {}), json.loads(msg.data) if msg.data else None


def api(service: str, endpoint: str) -> str:
    return f"congdoan.api.{service}.v1.{endpoint}"


def verify_webhook(secret: str, body: bytes, headers: Any, now: datetime) -> Any:
    """Check a webhook with the stock Standard Webhooks verifier (`standardwebhooks.Webhook.verify`),
    as a receiver whose clock reads `now` would: the tests' stack runs on a pinned shared clock, and
    a receiver's clock agrees with its sender's (the verifier refuses timestamps 5 minutes off).
    Returns the parsed body; raises WebhookVerificationError."""
    import standardwebhooks.webhooks as stock

    class ReceiverTime(datetime):
        @classmethod
        def now(cls, tz: Any = None) -> Any:  # type: ignore[override]
            return now.astimezone(tz)

    real, stock.datetime = stock.datetime, ReceiverTime  # type: ignore[misc]
    try:
        return stock.Webhook(secret).verify(body, dict(headers))
    finally:
        stock.datetime = real  # type: ignore[misc]


class FakeDns:
    """A resolver (aiohttp's AbstractResolver interface) the test controls: name -> addresses;
    other names do not resolve. For the webhook guard of notify, which resolves through one."""

    def __init__(self, table: dict[str, list[str]]) -> None:
        self.table = table
        self.asked: list[str] = []

    async def resolve(self, host: str, port: int = 0, family: int = 0) -> list[dict[str, Any]]:
        import socket

        self.asked.append(host)
        if host not in self.table:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [{"hostname": host, "host": a, "port": port, "family": socket.AF_INET6 if ":" in a else socket.AF_INET,
                 "proto": 0, "flags": socket.AI_NUMERICHOST | socket.AI_NUMERICSERV} for a in self.table[host]]

    async def close(self) -> None:
        pass


# A small report form for tests that only need *a* report (the slice, bursts, probes): reports
# takes reports only for requirements it knows, checked against their form.
TEST_FORM = {"form_id": "bc-thu-nghiem", "version": 1, "title": "Báo cáo thử nghiệm", "fields": [
    {"key": "study_sessions", "kind": "number", "label": "Số buổi học tập", "compulsory": False},
    {"key": "participants", "kind": "number", "label": "Số lượt người tham gia", "compulsory": False},
    {"key": "note", "kind": "text", "label": "Ghi chú", "compulsory": False}]}


async def open_requirements(nc: Any, requirement_ids: list[str], issuer: str = "prov", period: str = "2026",
                            due_date: str = "2026-11-30", kinds: tuple[str, ...] = ("grassroots_union",),
                            timeout: float = 30) -> None:
    """Register TEST_FORM and open these requirements (as the loader, a plan issuer), once reports
    knows the issuer from plans' events."""
    from tests.conftest import wait_until  # here: tests.conftest imports this module

    def body(rid: str) -> dict[str, Any]:
        return {"requirement_id": rid, "name": f"Báo cáo thử nghiệm {rid}", "issuer_unit_id": issuer,
                "reporting_kinds": list(kinds), "period": period, "due_date": due_date,
                "form_id": TEST_FORM["form_id"]}

    async def first_opened() -> bool:
        h, reply = await call(nc, api("reports", "register_form"), {"definition": TEST_FORM})
        assert "Nats-Service-Error" not in h, reply
        h, reply = await call(nc, api("reports", "open_requirement"), body(requirement_ids[0]))
        return "Nats-Service-Error" not in h  # 404 until reports knows the issuer

    await wait_until(first_opened, timeout=timeout, what=f"reports to know {issuer} and open a requirement")
    for rid in requirement_ids[1:]:
        h, reply = await call(nc, api("reports", "open_requirement"), body(rid))
        assert "Nats-Service-Error" not in h, reply


async def stream_events(nc: Any, subject: str, stream: str) -> list[dict[str, Any]]:
    """Every event on `subject` in `stream`, as an outside subscriber reads them (an ephemeral
    pull consumer: the `subscriber` user may make one); unparseable payloads (the chaos suite's
    poison) are left out."""
    import nats.errors

    sub = await nc.jetstream(timeout=10).pull_subscribe(subject, stream=stream)
    out: list[dict[str, Any]] = []
    try:
        while True:
            try:
                msgs = await sub.fetch(batch=500, timeout=2)
            except (TimeoutError, nats.errors.TimeoutError):
                return out
            for m in msgs:
                await m.ack()
                try:
                    out.append(json.loads(m.data))
                except (ValueError, RecursionError):
                    pass
    finally:
        await sub.unsubscribe()


async def rows(url: str, sql: str) -> list[tuple[Any, ...]]:
    """The rows of one query on a service's database (a fresh engine: the service may be down)."""
    import sqlalchemy as sa
    from sqlalchemy.ext.asyncio import create_async_engine

    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            return [tuple(r) for r in (await conn.execute(sa.text(sql))).all()]
    finally:
        await engine.dispose()


async def settled(js: Any, urls: dict[str, str], *, reminders_due_by: str | None = None) -> bool:
    """Every outbox published, every durable consumer of the four streams with nothing pending
    or unacknowledged, and (if given) every reports reminder due by then fired or cancelled."""
    for url in urls.values():
        if (await rows(url, "SELECT count(*) FROM outbox WHERE published_at IS NULL"))[0][0]:
            return False
    if reminders_due_by is not None and (await rows(
            urls["reports"], "SELECT count(*) FROM reminders WHERE fired_at IS NULL AND NOT cancelled "
                             f"AND due_at <= '{reminders_due_by}'"))[0][0]:
        return False
    for stream in ("CONGDOAN_PLANS", "CONGDOAN_REPORTS", "CONGDOAN_NOTIFY", "CONGDOAN_AWARDS"):
        for c in await js.consumers_info(stream):
            if c.num_pending or c.num_ack_pending:
                return False
    return True
