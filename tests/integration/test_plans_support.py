"""Helpers of the plans integration tests (no tests here)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import nats.errors

from tests.support import api, call

STREAM = "CONGDOAN_PLANS"


async def _call(nc: Any, endpoint: str, body: dict[str, Any], timeout: float) -> tuple[dict[str, str], Any]:
    for attempt in range(50):  # right after start-up the endpoints may not be on the server yet
        try:
            return await call(nc, api("plans", endpoint), body, timeout=timeout)
        except nats.errors.NoRespondersError:
            if attempt == 49:
                raise
            await asyncio.sleep(0.1)
    raise AssertionError("unreachable")


async def ok(nc: Any, endpoint: str, body: dict[str, Any], timeout: float = 30) -> Any:
    """A request that must succeed; its reply body."""
    h, reply = await _call(nc, endpoint, body, timeout)
    assert "Nats-Service-Error" not in h, (endpoint, reply)
    return reply


async def fails(nc: Any, endpoint: str, body: dict[str, Any], status: str, timeout: float = 30) -> dict[str, Any]:
    """A request that must fail with `status`; its error body."""
    h, reply = await _call(nc, endpoint, body, timeout)
    assert h.get("Nats-Service-Error-Code") == status, (endpoint, h, reply)
    return reply["error"]


async def stream_count(js: Any, subject: str | None = None) -> int:
    info = await js.stream_info(STREAM, subjects_filter=subject) if subject else await js.stream_info(STREAM)
    if subject:
        return sum((info.state.subjects or {}).values())
    return int(info.state.messages)


async def events(js: Any, action: str | None = None) -> list[dict[str, Any]]:
    """Every event in plans' stream (optionally of one `entity.action`), in stream order."""
    subject = f"congdoan.evt.plans.{action}.v1" if action else "congdoan.evt.plans.>"
    total = await stream_count(js, subject)
    if total == 0:
        return []
    psub = await js.pull_subscribe(subject, stream=STREAM)
    out: list[dict[str, Any]] = []
    try:
        while len(out) < total:
            for m in await psub.fetch(batch=min(1000, total - len(out)), timeout=5):
                out.append(json.loads(m.data))
                await m.ack()
    finally:
        await psub.unsubscribe()
    return out
