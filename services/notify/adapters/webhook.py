"""Webhooks: an HTTP POST of the notification as JSON, signed in the Standard Webhooks scheme
(domain/signing.py) with the person's secret, to a target checked against server-side request
forgery (domain/targets.py).

Headers: `webhook-id` (the delivery id: one per event and person, the same on every retry — the
receiver drops a repeat, HTTP delivery being at-least-once like SMTP), `webhook-timestamp`,
`webhook-signature`, `Idempotency-Key` (= webhook-id), `X-Congdoan-Kind`.

The target is checked when the person saves it (`WebhookGuard.vet`) and again on every connection:
the connector's resolver (`VettingResolver`) resolves the name, checks every address, and hands the
connector exactly those addresses — it connects to what was checked, never to a second lookup that
a rebinding DNS server could answer differently. Address literals, which aiohttp does not resolve,
are checked before the request. Redirects are not followed; no proxy is taken from the environment.

A 2xx is delivered. 410 Gone and other 4xx (but 408, 425 and 429) are permanent, and so is a
target refused by the checks: retrying would not change either. Everything else — 5xx, 408, 429,
timeouts, refused connections, names that do not resolve — is retried with backoff, then parked
after the last attempt.
"""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import Callable
from datetime import datetime
from typing import Any

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult

from services.notify.adapters.secret_box import SecretBox, SecretUnreadable
from services.notify.domain.model import Outcome, Outgoing, Result
from services.notify.domain.signing import IDEMPOTENCY_HEADER, signed_headers
from services.notify.domain.targets import (
    ADDRESS_REFUSED,
    AllowList,
    Target,
    TargetRefused,
    check_addresses,
    check_url,
    parse_address,
    unresolvable,
)

RETRYABLE_4XX = {408, 425, 429}
RESOLVE_TIMEOUT_S = 5.0


class WebhookGuard:
    """The SSRF checks with name resolution: `vet` when a person saves a URL, `addresses` when the
    sender connects. `resolver` is aiohttp's kind (the system's getaddrinfo in a thread by default;
    tests put their own)."""

    def __init__(self, allow: AllowList, resolver: AbstractResolver | None = None,
                 timeout_s: float = RESOLVE_TIMEOUT_S) -> None:
        self.allow = allow
        self.resolver = resolver
        self.timeout_s = timeout_s

    def check_url(self, url: str) -> Target:
        return check_url(url, self.allow)

    async def vet(self, url: str) -> Target:
        """Raises TargetRefused for a URL this service would not call."""
        target = check_url(url, self.allow)
        if target.address is None:
            try:
                await self.addresses(target.host, target.port, socket.AF_UNSPEC)
            except OSError as exc:  # TimeoutError among them
                raise unresolvable(target.host, str(exc) or type(exc).__name__) from None
        return target

    async def addresses(self, host: str, port: int, family: int = socket.AF_UNSPEC) -> list[ResolveResult]:
        """What `host` resolves to, every address checked; raises TargetRefused, or OSError when
        the name does not resolve now."""
        if self.resolver is None:
            self.resolver = aiohttp.ThreadedResolver()
        found = await asyncio.wait_for(self.resolver.resolve(host, port, family=family), self.timeout_s)  # type: ignore[arg-type]
        if not found:
            raise socket.gaierror(socket.EAI_NONAME, f"{host}: no address")
        addresses = []
        for r in found:
            ip = parse_address(r["host"])
            if ip is None:  # a resolver must hand back addresses; anything else is not checked, so not used
                raise TargetRefused(ADDRESS_REFUSED, f"webhook target refused: {host} resolved to {r['host']!r}",
                                    f"Không gửi webhook tới {host}.", host=host)
            addresses.append(ip)
        check_addresses(host, addresses, self.allow)
        return found


class VettingResolver(AbstractResolver):
    """The connector's resolver: resolves through the guard, so that every connection goes to an
    address that was checked just now."""

    def __init__(self, guard: WebhookGuard) -> None:
        self.guard = guard

    async def resolve(self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET) -> list[ResolveResult]:
        try:
            return await self.guard.addresses(host, port, family)
        except TimeoutError as exc:
            raise OSError(f"resolving {host} took more than {self.guard.timeout_s} s") from exc

    async def close(self) -> None:
        pass  # the guard's resolver is shared with the requests that vet URLs


def _refused(exc: BaseException) -> TargetRefused | None:
    """The TargetRefused behind an aiohttp error, if any (aiohttp may wrap what the resolver raised)."""
    seen = 0
    while exc is not None and seen < 5:
        if isinstance(exc, TargetRefused):
            return exc
        exc = exc.__cause__ or exc.__context__ or getattr(exc, "os_error", None)  # type: ignore[assignment]
        seen += 1
    return None


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

    def __init__(self, *, url: Callable[[str | None], str | None], guard: WebhookGuard, box: SecretBox,
                 now: Callable[[], datetime], timeout_s: float = 10.0, concurrency: int = 8) -> None:
        self.url = url
        self.guard = guard
        self.box = box
        self.now = now  # the service's clock (runtime.clock): webhook-timestamp
        self.timeout_s = timeout_s
        self.concurrency = concurrency
        self._session: aiohttp.ClientSession | None = None

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(limit=self.concurrency, resolver=VettingResolver(self.guard))
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.timeout_s),
                                                  connector=connector, trust_env=False)
        return self._session

    async def send(self, job: Outgoing) -> Result:
        if not job.secret or not job.address:
            return Result(job.delivery_id, Outcome.PERMANENT, "the person removed their webhook")
        try:
            self.guard.check_url(job.address)  # shape, scheme and address literals (names: at connect)
        except TargetRefused as exc:
            return Result(job.delivery_id, Outcome.PERMANENT, f"POST {job.address}: {exc.reason}"[:1000])
        try:
            secret = self.box.open(job.secret)
        except SecretUnreadable as exc:  # the key file is not the one it was sealed with: an operator can fix that
            return Result(job.delivery_id, Outcome.TRANSIENT, f"webhook secret unreadable: {exc}"[:1000])
        body = payload(job, self.url)
        try:
            signed = signed_headers(secret, job.delivery_id, self.now(), body)
        except ValueError as exc:
            return Result(job.delivery_id, Outcome.PERMANENT, str(exc)[:1000])
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            **signed,
            IDEMPOTENCY_HEADER: job.delivery_id,
            "X-Congdoan-Kind": job.kind,
            "User-Agent": "congdoan-notify/1",
        }
        try:
            async with self._http().post(job.address, data=body, headers=headers, allow_redirects=False) as resp:
                await resp.content.read(4096)
                status = resp.status
        except TargetRefused as exc:
            return Result(job.delivery_id, Outcome.PERMANENT, f"POST {job.address}: {exc.reason}"[:1000])
        except (TimeoutError, aiohttp.ClientError, OSError, ValueError) as exc:
            if (refused := _refused(exc)) is not None:
                return Result(job.delivery_id, Outcome.PERMANENT, f"POST {job.address}: {refused.reason}"[:1000])
            return Result(job.delivery_id, Outcome.TRANSIENT, f"POST {job.address}: {type(exc).__name__}: {exc}"[:1000])
        if 200 <= status < 300:
            return Result(job.delivery_id, Outcome.SENT)
        if 400 <= status < 500 and status not in RETRYABLE_4XX:
            return Result(job.delivery_id, Outcome.PERMANENT, f"POST {job.address}: HTTP {status} (refused)")
        return Result(job.delivery_id, Outcome.TRANSIENT, f"POST {job.address}: HTTP {status}")

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
