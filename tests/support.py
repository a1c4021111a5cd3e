"""Helpers shared by the integration and end-to-end tests."""

from __future__ import annotations

import importlib
import json
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

from runtime.app import Runtime
from runtime.launcher import free_port
from runtime.settings import load_settings


def definition(name: str) -> Any:
    return importlib.import_module(f"services.{name}.entrypoints.main").DEFINITION


@asynccontextmanager
async def running(name: str, nats_url: str, db_url: str, **overrides: Any):  # type: ignore[no-untyped-def]
    """One service in this process (real NATS, real database), stopped cleanly at the end."""
    settings = load_settings(name, nats_url=nats_url, database_url=db_url, http_port=free_port(), **overrides)
    rt = Runtime(definition(name), settings)
    await rt.start()
    try:
        yield rt
    finally:
        await rt.stop()


async def call(nc: Any, subject: str, body: Any, timeout: float = 10) -> tuple[dict[str, str], Any]:
    """Request/reply; returns (headers, decoded JSON body)."""
    data = body if isinstance(body, bytes) else json.dumps(body, ensure_ascii=False).encode()
    msg = await nc.request(subject, data, timeout=timeout)
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
