"""The lifecycle every service shares: settings → logging → migrations → NATS → streams →
shared clock → outbox relay → consumers → endpoints → health. SIGTERM/SIGINT stop taking
requests, finish the batch and requests in hand, flush the outbox, drain NATS, then exit."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nats
import nats.js.errors
import sqlalchemy as sa

from contracts import naming
from contracts.catalogue import CONSUMES
from runtime.api import ApiServer
from runtime.auth import OidcProvider, TokenVerifier
from runtime.clock import Clock, follow_shared_clock, read_shared_offset
from runtime.consumer import EventConsumer
from runtime.db import UnitOfWork, make_engine, migrate, outbox_backlog, session_factory
from runtime.health import HealthServer
from runtime.logging import configure_logging, get_logger
from runtime.metrics import (
    CONSUMER_ACK_PENDING,
    CONSUMER_LAG,
    DEAD_LETTERS,
    OUTBOX_OLDEST_AGE,
    OUTBOX_PENDING,
    REMINDERS_DUE,
)
from runtime.relay import OutboxRelay
from runtime.replay import ReplayConsumer
from runtime.scheduler import due_count
from runtime.settings import ServiceSettings
from runtime.streams import ensure_streams
from runtime.tracing import configure_tracing, shutdown_tracing
from runtime.wiring import Wiring


@dataclass(frozen=True)
class ServiceDefinition:
    """What a service brings; the runtime does the rest. `bootstrap` is its composition root:
    given the running plumbing, it builds the service's dependencies once and returns its
    `Wiring` (endpoint table, subscription table, background jobs)."""

    name: str
    migrations: Path
    bootstrap: Callable[[Runtime], Wiring]
    uow_class: type[UnitOfWork] = UnitOfWork
    version: str = "0.1.0"


class Runtime:
    """The running plumbing of one service process."""

    def __init__(self, definition: ServiceDefinition, settings: ServiceSettings) -> None:
        self.definition = definition
        self.settings = settings
        self.log = get_logger(definition.name)
        self.clock = Clock()
        self.engine = make_engine(settings.db_url)
        self.sessions = session_factory(self.engine)
        oidc = (OidcProvider(settings.oidc_issuer, settings.oidc_jwks_url, settings.oidc_audience,
                             settings.oidc_person_claim) if settings.oidc_issuer and settings.oidc_jwks_url else None)
        self.verifier = TokenVerifier(settings.jwks_path, issuer=settings.auth_issuer, audience=settings.auth_audience,
                                      oidc=oidc)
        self.nc: Any = None
        self.js: Any = None
        self.relay: OutboxRelay | None = None
        self.consumers: list[EventConsumer] = []
        self.replays: list[ReplayConsumer] = []
        self.api: ApiServer | None = None
        self.health: HealthServer | None = None
        self._tasks: list[asyncio.Task[Any]] = []
        self._stop = asyncio.Event()
        self.failed = False  # a background task died
        self.wiring = Wiring(endpoints={})  # the service's, once started

    def uow(self) -> UnitOfWork:
        return self.definition.uow_class(self.sessions, source=naming.source_for(self.definition.name),
                                         now=self.clock.now, on_commit=self._wake_relay)

    def _wake_relay(self) -> None:
        if self.relay:
            self.relay.wake()

    async def start(self) -> None:
        s = self.settings
        # Health first: a taken port is the most common start-up failure and should say so plainly.
        self.health = HealthServer(s.http_host, s.http_port, {"database": self._check_db, "nats": self._check_nats,
                                                             "consumers": self._check_consumers}, s.service)
        await self.health.start()
        await migrate(self.engine, self.definition.migrations)
        self.nc = await nats.connect(
            s.nats_servers, name=f"congdoan-{s.service}-{s.instance}", max_reconnect_attempts=-1,
            reconnect_time_wait=1, connect_timeout=5, allow_reconnect=True, **s.nats_connect_options(),
            error_cb=self._nats_error, disconnected_cb=self._nats_disconnected, reconnected_cb=self._nats_reconnected)
        self.js = self.nc.jetstream(timeout=10)
        await self._patiently("streams", lambda: ensure_streams(self.js, s.stream_replicas))
        if not s.clock_locked:  # the embedded/demo stack: follow the shared clock
            self.clock.set_offset(await self._patiently("shared clock", lambda: read_shared_offset(self.js)))
            self._spawn(follow_shared_clock(self.js, self.clock), "clock")
        self.relay = OutboxRelay(self.engine, self.js, batch=s.relay_batch, poll_s=s.relay_poll_s, service=s.service)
        self._spawn(self.relay.run(), "relay")
        self.wiring = self.definition.bootstrap(self)
        subscriptions = list(self.wiring.subscriptions)
        handled = {t for sub in subscriptions for t in sub.handlers}
        declared = set(CONSUMES.get(s.service, ()))
        if handled != declared:  # the AsyncAPI documents are generated from CONSUMES: keep them true
            raise RuntimeError(f"{s.service} handles {sorted(handled)} but contracts declare {sorted(declared)}")
        for sub in subscriptions:
            consumer = EventConsumer(service=s.service, subscription=sub, js=self.js, uow_factory=self.uow,
                                     batch=s.fetch_batch, max_deliver=s.max_deliver, nak_delay_s=s.nak_delay_s,
                                     ack_wait_s=s.ack_wait_s, max_message_bytes=s.max_message_bytes)
            await self._patiently(consumer.durable, consumer.start)
            self.consumers.append(consumer)
            self._spawn(consumer.run(), consumer.durable)
            replays = ReplayConsumer(consumer, self.js, ack_wait_s=s.ack_wait_s)  # operators' replay asks
            await self._patiently(replays.durable, replays.start)
            self.replays.append(replays)
            self._spawn(replays.run(), replays.durable)
        for job in self.wiring.background:
            self._spawn(job(), getattr(job, "__name__", "job"))
        self.api = ApiServer(self.nc, s.service, dict(self.wiring.endpoints), version=self.definition.version,
                             max_bytes=s.max_message_bytes, concurrency=s.request_concurrency, verifier=self.verifier)
        await self.api.start()
        self._spawn(self._gauges(), "gauges")
        self.log.info("service started", http=f"http://{s.http_host}:{s.http_port}", nats=s.nats_url,
                      database=_redact(s.db_url), clock="locked" if s.clock_locked else f"shared ({self.clock.now():%d/%m/%Y %H:%M})")

    async def _patiently(self, what: str, step: Callable[[], Awaitable[Any]]) -> Any:
        """A JetStream step of the start: while a cluster forms or elects a leader (every replica
        of every service starting at once, a node restarting) its API answers "timeout" or "503"
        for a while; that is waited out (up to startup_patience_s), not a failed start."""
        deadline = time.monotonic() + self.settings.startup_patience_s
        delay = 0.5
        while True:
            try:
                return await step()
            except JETSTREAM_BUSY as exc:
                if time.monotonic() + delay > deadline:
                    raise
                self.log.info("jetstream busy at start; retrying", step=what, error=repr(exc), retry_in_s=delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)

    def _spawn(self, coro: Awaitable[Any], name: str) -> None:
        task = asyncio.ensure_future(coro)
        task.set_name(name)
        task.add_done_callback(self._task_done)
        self._tasks.append(task)

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        if not task.cancelled() and task.exception() is not None and not self._stop.is_set():
            self.log.error("background task died; stopping", task=task.get_name(), error=repr(task.exception()))
            self.failed = True  # the process then exits 1: a supervisor sees a failure, not a clean stop
            self._stop.set()

    async def stop(self) -> None:
        """Stop in order (requests, consumers, relay, tasks, NATS), each step bounded and each failure
        logged and passed over: the database is always disposed at the end, since an open SQLite
        connection's thread would keep the process alive after the loop ends."""
        self._stop.set()
        grace = self.settings.shutdown_grace_s
        try:
            if self.api:
                await self._step("requests", self.api.stop(grace), grace + 2)
            if self.consumers:  # at once: each waits at most for the batch in hand
                await self._step("consumers", asyncio.gather(*(c.stop() for c in self.consumers),
                                                             *(r.stop() for r in self.replays)), grace)
            if self.relay:
                await self._step("relay", self.relay.stop(), 7)
            for t in self._tasks:
                t.cancel()
            await self._step("tasks", asyncio.gather(*self._tasks, return_exceptions=True), 5)
            if self.nc and not self.nc.is_closed:
                await self._step("nats", self.nc.drain(), 5)
                if not self.nc.is_closed:
                    await self._step("nats close", self.nc.close(), 2)
            if self.health:
                await self._step("health", self.health.stop(), 2)
        finally:
            await self._step("database", self.engine.dispose(), 5)
        self.log.info("service stopped")

    async def _step(self, what: str, aw: Awaitable[Any], timeout: float) -> None:
        started = time.perf_counter()
        try:
            await asyncio.wait_for(aw, timeout=timeout)
        except TimeoutError:
            self.log.warning("shutdown step timed out; going on", step=what, timeout_s=timeout)
        except Exception as exc:  # NATS already gone, a task that died: nothing left to do for it
            self.log.info("shutdown step failed; going on", step=what, error=repr(exc))
        else:
            self.log.debug("shutdown step done", step=what, seconds=round(time.perf_counter() - started, 3))

    async def wait(self) -> None:
        await self._stop.wait()

    async def _check_db(self) -> None:
        async with self.engine.connect() as conn:
            await conn.execute(sa.text("SELECT 1"))

    async def _check_nats(self) -> None:
        if self.nc is None or not self.nc.is_connected:
            raise RuntimeError("not connected")
        await self.nc.flush(timeout=1)

    async def _check_consumers(self) -> None:
        if self.api is None or not all(c.ready.is_set() for c in self.consumers):
            raise RuntimeError("starting")

    async def _gauges(self) -> None:
        while True:
            try:
                await self.refresh_gauges()
            except Exception as exc:  # NATS or the database away: the next pass
                self.log.debug("gauges not refreshed", error=repr(exc)[:300])
            await asyncio.sleep(self.settings.metrics_interval_s)

    async def refresh_gauges(self) -> None:
        """The backlog gauges of /metrics: outbox rows and the oldest one's age, reminders due, and
        per durable consumer its lag, its messages awaiting an ack and its parked dead letters."""
        service = self.settings.service
        async with self.engine.connect() as conn:
            pending, oldest = await outbox_backlog(conn)
            now = self.clock.now()
            due = await due_count(conn, now)
        OUTBOX_PENDING.labels(service).set(pending)
        OUTBOX_OLDEST_AGE.labels(service).set(max(0.0, (now - oldest).total_seconds()) if oldest else 0.0)
        REMINDERS_DUE.labels(service).set(due)
        for c in self.consumers:
            info = await self.js.consumer_info(c.stream, c.durable)
            CONSUMER_LAG.labels(service, c.durable).set(info.num_pending or 0)
            CONSUMER_ACK_PENDING.labels(service, c.durable).set(info.num_ack_pending or 0)
            subject = naming.dlq_subject(service, c.durable)
            try:
                dlq = await self.js.stream_info(naming.DLQ_STREAM, subjects_filter=subject)
                parked = int((dlq.state.subjects or {}).get(subject, 0))
            except nats.js.errors.NotFoundError:
                parked = 0
            DEAD_LETTERS.labels(service, c.durable).set(parked)

    async def _nats_error(self, exc: Exception) -> None:
        # While reconnecting every failed attempt reports here: once a second is noise, not news.
        if self.nc is not None and self.nc.is_reconnecting:
            self.log.debug("nats reconnect attempt failed", error=repr(exc))
        else:
            self.log.warning("nats error", error=repr(exc))

    async def _nats_disconnected(self) -> None:
        if self._stop.is_set():
            return
        self.log.warning("nats disconnected; reconnecting")

    async def _nats_reconnected(self) -> None:
        self.log.info("nats reconnected")


# What JetStream answers while it cannot yet (no meta leader, a stream's leader being elected).
JETSTREAM_BUSY = (TimeoutError, nats.errors.TimeoutError, nats.errors.NoRespondersError,
                  nats.js.errors.ServiceUnavailableError)


def _redact(url: str) -> str:
    return sa.engine.make_url(url).render_as_string(hide_password=True)


async def _main(definition: ServiceDefinition, settings: ServiceSettings) -> int:
    rt = Runtime(definition, settings)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, rt._stop.set)
    try:
        await rt.start()
    except OSError as exc:
        if "address already in use" in str(exc).lower() or getattr(exc, "errno", None) == 98:
            print(f"{settings.service}: port {settings.http_port} is taken; set "
                  f"CONGDOAN_{settings.service.upper()}_HTTP_PORT to a free port", file=sys.stderr)
            return 2
        print(f"{settings.service}: cannot start: {exc}", file=sys.stderr)
        await rt.stop()
        return 1
    except nats.errors.NoServersError:
        print(f"{settings.service}: no NATS server at {settings.nats_url}; set NATS_URL", file=sys.stderr)
        await rt.stop()
        return 1
    await rt.wait()
    await rt.stop()
    return 1 if rt.failed else 0


def run_service(definition: ServiceDefinition, settings: ServiceSettings) -> None:
    configure_logging(settings.log_level, settings.log_json, service=settings.service)
    configure_tracing(settings)
    code = asyncio.run(_main(definition, settings))
    shutdown_tracing()  # before os._exit: spans still buffered are exported
    # The stop sequence is complete and everything is committed: a stray non-daemon worker thread
    # (aiosqlite keeps one per connection a cancelled task still held) must not keep the process up.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
