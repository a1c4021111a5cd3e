"""Helpers shared by the integration and end-to-end tests.

Identity in tests: one signing key for the whole session (`TEST_SECRETS`), made the way the
embedded stack makes its own, so that tests mint the tokens plans would issue at login — a
person's (`person_token`) or a machine identity's (`service_token`). Services started by
`running()` or by a `Stack` with `auth_env()` verify them. Logging in for real is tested in
tests/integration/test_auth.py.

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
from runtime.client import ApiClient
from runtime.launcher import free_port
from runtime.settings import load_settings

TEST_SECRETS = Path(tempfile.mkdtemp(prefix="congdoan-test-")) / "secrets"
_IDS = ensure_embedded_identities(TEST_SECRETS)
_ISSUER = TokenIssuer(_IDS["signing_key"])
LOADER = f"svc:{LOADER_CLIENT}"


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
                             **{**auth_settings(), **overrides})
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
    msg = await nc.request(subject, data, timeout=timeout, headers=auth_headers(token) if token else None)
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
