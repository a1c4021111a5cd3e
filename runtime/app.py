"""The lifecycle every service shares: settings → logging → migrations → NATS → streams →
shared clock → outbox relay → consumers → endpoints → health. SIGTERM/SIGINT stop taking
requests, finish the batch and requests in hand, flush the outbox, drain NATS, then exit."""

from __future__ import annotations

import asyncio
import signal
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nats
import sqlalchemy as sa

from contracts import naming
from contracts.catalogue import CONSUMES
from runtime.api import ApiHandler, ApiServer
from runtime.auth import OidcProvider, TokenVerifier
from runtime.clock import Clock, follow_shared_clock, read_shared_offset
from runtime.consumer import EventConsumer, Subscription
from runtime.db import UnitOfWork, make_engine, migrate, session_factory
from runtime.health import HealthServer
from runtime.logging import configure_logging, get_logger
from runtime.metrics import OUTBOX_PENDING
from runtime.relay import OutboxRelay
from runtime.settings import ServiceSettings
from runtime.streams import ensure_streams


@dataclass
class ServiceDefinition:
    """What a service brings; the runtime does the rest."""

    name: str
    migrations: Path
    # Build the service's handlers once the plumbing exists (so they can close over its parts).
    api: Callable[[Runtime], dict[str, ApiHandler]]
    subscriptions: Callable[[Runtime], list[Subscription]] = lambda rt: []
    background: Callable[[Runtime], list[Callable[[], Awaitable[None]]]] = lambda rt: []
    uow_class: type[UnitOfWork] = UnitOfWork
    version: str = "0.1.0"
    extra: dict[str, Any] = field(default_factory=dict)


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
        self.api: ApiServer | None = None
        self.health: HealthServer | None = None
        self._tasks: list[asyncio.Task[Any]] = []
        self._stop = asyncio.Event()

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
            s.nats_url, name=f"congdoan-{s.service}-{s.instance}", max_reconnect_attempts=-1,
            reconnect_time_wait=1, connect_timeout=5, allow_reconnect=True, **s.nats_connect_options(),
            error_cb=self._nats_error, disconnected_cb=self._nats_disconnected, reconnected_cb=self._nats_reconnected)
        self.js = self.nc.jetstream(timeout=10)
        await ensure_streams(self.js)
        if not s.clock_locked:  # the embedded/demo stack: follow the shared clock
            self.clock.set_offset(await read_shared_offset(self.js))
            self._spawn(follow_shared_clock(self.js, self.clock), "clock")
        self.relay = OutboxRelay(self.engine, self.js, batch=s.relay_batch, poll_s=s.relay_poll_s, service=s.service)
        self._spawn(self.relay.run(), "relay")
        subscriptions = self.definition.subscriptions(self)
        handled = {t for sub in subscriptions for t in sub.handlers}
        declared = set(CONSUMES.get(s.service, ()))
        if handled != declared:  # the AsyncAPI documents are generated from CONSUMES: keep them true
            raise RuntimeError(f"{s.service} handles {sorted(handled)} but contracts declare {sorted(declared)}")
        for sub in subscriptions:
            consumer = EventConsumer(service=s.service, subscription=sub, js=self.js, uow_factory=self.uow,
                                     batch=s.fetch_batch, max_deliver=s.max_deliver, nak_delay_s=s.nak_delay_s,
                                     ack_wait_s=s.ack_wait_s, max_message_bytes=s.max_message_bytes)
            await consumer.start()
            self.consumers.append(consumer)
            self._spawn(consumer.run(), consumer.durable)
        for job in self.definition.background(self):
            self._spawn(job(), getattr(job, "__name__", "job"))
        self.api = ApiServer(self.nc, s.service, self.definition.api(self), version=self.definition.version,
                             max_bytes=s.max_message_bytes, concurrency=s.request_concurrency, verifier=self.verifier)
        await self.api.start()
        self._spawn(self._gauge_outbox(), "outbox-gauge")
        self.log.info("service started", http=f"http://{s.http_host}:{s.http_port}", nats=s.nats_url,
                      database=_redact(s.db_url), clock="locked" if s.clock_locked else f"shared ({self.clock.now():%d/%m/%Y %H:%M})")

    def _spawn(self, coro: Awaitable[Any], name: str) -> None:
        task = asyncio.ensure_future(coro)
        task.set_name(name)
        task.add_done_callback(self._task_done)
        self._tasks.append(task)

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        if not task.cancelled() and task.exception() is not None and not self._stop.is_set():
            self.log.error("background task died; stopping", task=task.get_name(), error=repr(task.exception()))
            self._stop.set()

    async def stop(self) -> None:
        self._stop.set()
        grace = self.settings.shutdown_grace_s
        if self.api:
            await self.api.stop(grace)
        for c in self.consumers:
            await asyncio.wait_for(c.stop(), timeout=grace)
        if self.relay:
            await self.relay.stop()
        for t in self._tasks:
            t.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self.nc and not self.nc.is_closed:
            try:
                await asyncio.wait_for(self.nc.drain(), timeout=5)
            except Exception:  # NATS already gone: nothing left to flush
                try:
                    await self.nc.close()
                except Exception:
                    pass
        if self.health:
            await self.health.stop()
        await self.engine.dispose()
        self.log.info("service stopped")

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

    async def _gauge_outbox(self) -> None:
        while True:
            try:
                OUTBOX_PENDING.labels(self.settings.service).set(await self.relay.pending())  # type: ignore[union-attr]
            except Exception:
                pass
            await asyncio.sleep(5)

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
    return 0


def run_service(definition: ServiceDefinition, settings: ServiceSettings) -> None:
    configure_logging(settings.log_level, settings.log_json, service=settings.service)
    sys.exit(asyncio.run(_main(definition, settings)))
