"""Webhooks: an HTTP POST of the notification as JSON, signed with the person's secret.

Headers: `X-Congdoan-Signature: t=<unix>,v1=<HMAC-SHA256 hex of "<t>.<body>">`,
`X-Congdoan-Timestamp: <unix>`, `Idempotency-Key: <delivery id>` (the same on every retry: the
receiver drops a repeat — HTTP delivery is at-least-once, like SMTP), `X-Congdoan-Kind`.

A 2xx is delivered. 410 Gone and other 4xx (but 408 and 429) are permanent: the receiver refuses it
for good, and retrying would not change its mind. Everything else — 5xx, 408, 429, timeouts,
refused connections — is retried with backoff, then parked after the last attempt.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from typing import Any

import aiohttp

from services.notify.domain.model import Outcome, Outgoing, Result
from services.notify.domain.signing import IDEMPOTENCY_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, sign

RETRYABLE_4XX = {408, 425, 429}


def payload(job: Outgoing, url: Callable[[str | None], str | None]) -> bytes:
    body: dict[str, Any] = {
        "delivery_id": job.delivery_id, "notification_id": job.notification_id, "event_id": job.event_id,
        "kind": job.kind, "recipient_id": job.recipient_id, "title": job.title, "body": job.body,
        "link": job.link, "url": url(job.link),
        "created_at": job.created_at.isoformat() if job.created_at else None,
    }
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()


class WebhookSender:
    channel = "webhook"

    def __init__(self, *, url: Callable[[str | None], str | None], timeout_s: float = 10.0, concurrency: int = 8,
                 clock: Callable[[], float] = time.time) -> None:
        self.url = url
        self.timeout_s = timeout_s
        self.concurrency = concurrency
        self.clock = clock  # real time: the receiver compares the signature's timestamp with its own clock
        self._session: aiohttp.ClientSession | None = None

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.timeout_s),
                                                  connector=aiohttp.TCPConnector(limit=self.concurrency))
        return self._session

    async def send(self, job: Outgoing) -> Result:
        if not job.secret or not job.address:
            return Result(job.delivery_id, Outcome.PERMANENT, "the person removed their webhook")
        body = payload(job, self.url)
        ts = int(self.clock())
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            SIGNATURE_HEADER: sign(job.secret, ts, body),
            TIMESTAMP_HEADER: str(ts),
            IDEMPOTENCY_HEADER: job.delivery_id,
            "X-Congdoan-Kind": job.kind,
            "User-Agent": "congdoan-notify/1",
        }
        try:
            async with self._http().post(job.address, data=body, headers=headers, allow_redirects=False) as resp:
                await resp.content.read(4096)
                status = resp.status
        except (aiohttp.ClientError, asyncio.TimeoutError, OSError, ValueError) as exc:
            return Result(job.delivery_id, Outcome.TRANSIENT, f"POST {job.address}: {type(exc).__name__}: {exc}"[:1000])
        if 200 <= status < 300:
            return Result(job.delivery_id, Outcome.SENT)
        if 400 <= status < 500 and status not in RETRYABLE_4XX:
            return Result(job.delivery_id, Outcome.PERMANENT, f"POST {job.address}: HTTP {status} (refused)")
        return Result(job.delivery_id, Outcome.TRANSIENT, f"POST {job.address}: HTTP {status}")

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
