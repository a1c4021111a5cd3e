"""The background jobs of the notify service: the delivery worker, the held-events sweeper and the
daily digest's scheduler."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any, Protocol

from runtime.logging import get_logger
from services.notify.domain.model import Outcome, Outgoing, Result, TokenBucket
from services.notify.service_layer import delivery, fanout
from services.notify.service_layer.metrics import CHANNEL_DOWN, HELD_NOW, PENDING
from services.notify.service_layer.policy import Policy

log = get_logger("notify.worker")


class Sender(Protocol):
    channel: str
    concurrency: int

    async def send(self, job: Outgoing) -> Result: ...

    async def close(self) -> None: ...


class DeliveryWorker:
    """Claims due deliveries, sends them through their channel (rate-limited, concurrently), and
    records outcomes every `record_every_s` as they come in, so that little is sent-but-unmarked
    at any moment (which is what a crash would resend)."""

    def __init__(self, uow_factory: Callable[[], Any], policy: Policy,
                 senders: list[Sender], rates: dict[str, tuple[float, float]], *, batch: int = 200,
                 poll_s: float = 0.25, record_every_s: float = 0.1,
                 hold_back: Callable[[], bool] | None = None) -> None:
        self.uow_factory = uow_factory
        self.policy = policy
        self.senders = {s.channel: s for s in senders}
        now = time.monotonic()
        self.buckets = {c: TokenBucket(rate, burst, now) for c, (rate, burst) in rates.items() if c in self.senders}
        self.slots = {c: asyncio.Semaphore(s.concurrency) for c, s in self.senders.items()}
        self.batch = batch
        self.poll_s = poll_s
        self.record_every_s = record_every_s
        self.paused_until: dict[str, float] = {}
        self.pause_s: dict[str, float] = {}
        self.down_reason: dict[str, str] = {}
        self.sent = 0
        self.hold_back = hold_back  # true while recording needs the process more than sending does

    async def run(self) -> None:
        try:
            while True:
                try:
                    n = await self.pass_once()
                except asyncio.CancelledError:
                    raise
                except Exception as exc:  # the database busy or away: try again shortly
                    log.warning("delivery pass failed; retrying", error=repr(exc))
                    n = 0
                    await asyncio.sleep(1.0)
                if n == 0:
                    await asyncio.sleep(self._idle_wait())
        finally:
            for s in self.senders.values():
                try:
                    await s.close()
                except Exception:
                    pass

    def _idle_wait(self) -> float:
        now = time.monotonic()
        paused = [t - now for t in self.paused_until.values() if t > now]
        if paused and len(paused) == len(self.senders):
            return max(0.05, min(paused))
        return self.poll_s

    async def pass_once(self) -> int:
        if self.hold_back is not None and self.hold_back():
            return 0
        now = time.monotonic()
        channels = [c for c in self.senders if self.paused_until.get(c, 0.0) <= now]
        if not channels:
            return 0
        async with self.uow_factory() as uow:
            jobs = await delivery.claim(uow, self.policy, channels, self.batch)
        if not jobs:
            return 0
        tasks = {asyncio.ensure_future(self._send(j)) for j in jobs}
        try:
            while tasks:
                done, tasks = await asyncio.wait(tasks, timeout=self.record_every_s)
                if done:
                    await self._record([t.result() for t in done])
        except asyncio.CancelledError:
            # Stopping: let sends in flight finish briefly and write down what went out, so that a
            # clean stop does not resend; what is left stays leased and goes again after the lease.
            done, rest = await asyncio.wait(tasks, timeout=5) if tasks else (set(), set())
            for t in rest:
                t.cancel()
            finished = [t.result() for t in done if not t.cancelled() and t.exception() is None]
            if finished:
                await self._record(finished)
            raise
        return len(jobs)

    async def _record(self, results: list[tuple[Outgoing, Result]]) -> None:
        pause = {c: delivery.wall_now() + timedelta(seconds=max(0.0, t - time.monotonic()))
                 for c, t in self.paused_until.items()}
        async with self.uow_factory() as uow:
            await delivery.record(uow, self.policy, results, pause)
        self.sent += sum(1 for _, r in results if r.outcome is Outcome.SENT)

    async def _send(self, job: Outgoing) -> tuple[Outgoing, Result]:
        channel = job.channel.value
        async with self.slots[channel]:
            if self.paused_until.get(channel, 0.0) > time.monotonic():
                return job, Result(job.delivery_id, Outcome.CHANNEL_DOWN, self.down_reason.get(channel, "paused"))
            bucket = self.buckets.get(channel)
            while bucket is not None and (wait := bucket.take(time.monotonic())) > 0:  # noqa: ASYNC110 - a token bucket
                await asyncio.sleep(wait)
            try:
                result = await self.senders[channel].send(job)
            except Exception as exc:  # a bug in a sender must not stop the others
                log.exception("sender failed", channel=channel, delivery_id=job.delivery_id)
                result = Result(job.delivery_id, Outcome.TRANSIENT, f"{type(exc).__name__}: {exc}")
        if result.outcome is Outcome.CHANNEL_DOWN:
            self._pause(channel, result.detail)
        elif result.outcome is Outcome.SENT and channel in self.pause_s:
            self.pause_s.pop(channel, None)
            CHANNEL_DOWN.labels(channel).set(0)
            log.info("channel back", channel=channel)
        return job, result

    def _pause(self, channel: str, reason: str) -> None:
        now = time.monotonic()
        if self.paused_until.get(channel, 0.0) > now:
            return  # already paused by another send of the same batch
        pause = min(self.policy.channel_pause_cap_s,
                    self.pause_s.get(channel, self.policy.channel_pause_s / 2) * 2)
        self.pause_s[channel] = pause
        self.paused_until[channel] = now + pause
        self.down_reason[channel] = reason
        CHANNEL_DOWN.labels(channel).set(1)
        log.warning("channel unreachable; pausing it", channel=channel, pause_s=round(pause, 1), reason=reason[:300])


class Sweeper:
    """Releases held events when the directory learns of their recipients (poked after a directory
    event commits), and every `interval_s` in any case; updates the pending-deliveries gauge."""

    def __init__(self, uow_factory: Callable[[], Any], policy: Policy, handlers: dict[str, Any],
                 interval_s: float = 30.0) -> None:
        self.uow_factory = uow_factory
        self.policy = policy
        self.handlers = handlers
        self.interval_s = interval_s
        self._poked = asyncio.Event()

    def poke(self) -> None:
        self._poked.set()

    async def run(self) -> None:
        while True:
            periodic = False
            try:
                await asyncio.wait_for(self._poked.wait(), timeout=self.interval_s)
                await asyncio.sleep(0.2)  # let a burst of directory events settle
            except TimeoutError:
                periodic = True
            self._poked.clear()
            try:
                async with self.uow_factory() as uow:
                    released, _ = await fanout.sweep_held(uow, self.policy, self.handlers)
                if released:
                    self._poked.set()  # there may be more
                if periodic:
                    async with self.uow_factory() as uow:
                        counts = await uow.notify.counts()
                        held = await uow.notify.held_count()
                    for channel in ("email", "webhook"):
                        PENDING.labels(channel).set(counts.get((channel, "pending"), 0))
                    HELD_NOW.set(held)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("sweep failed; retrying", error=repr(exc))
                await asyncio.sleep(1.0)
