"""The outbox relay: publishes committed outbox rows to JetStream with `Nats-Msg-Id` = event id,
marks them published only when JetStream acknowledged them, and retries (with backoff) until it
does — across restarts, since the rows stay in the database until then.

Several replicas may run the relay: on PostgreSQL rows are claimed with FOR UPDATE SKIP LOCKED;
a row published twice (a crash between the publish and the mark) is dropped by the stream's
duplicate window, and beyond it by the consumers' inbox."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from runtime import tracing
from runtime.db import outbox
from runtime.logging import get_logger
from runtime.metrics import OUTBOX_PUBLISH_ERRORS, OUTBOX_PUBLISHED

log = get_logger("runtime.relay")


class OutboxRelay:
    def __init__(self, engine: AsyncEngine, js, *, batch: int = 500, poll_s: float = 0.5,
                 service: str = "", max_backoff_s: float = 10.0) -> None:
        self._engine = engine
        self._js = js
        self._batch = batch
        self._poll_s = poll_s
        self._service = service
        self._max_backoff = max_backoff_s
        self._wake = asyncio.Event()
        self._stopping = False
        self._pg = engine.dialect.name == "postgresql"
        self.published = 0
        self._tracer = tracing.tracer(service)  # None: tracing off

    def wake(self) -> None:
        """Called after a commit that wrote outbox rows: publish now rather than at the next poll."""
        self._wake.set()

    async def pending(self) -> int:
        async with self._engine.connect() as conn:
            return int((await conn.execute(
                sa.select(sa.func.count()).select_from(outbox).where(outbox.c.published_at.is_(None)))).scalar_one())

    async def run(self) -> None:
        backoff = 0.1
        while not self._stopping:
            try:
                n = await self.publish_once()
                backoff = 0.1
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # NATS down, stream missing, database busy: try again later
                OUTBOX_PUBLISH_ERRORS.labels(self._service).inc()
                log.warning("outbox publish failed; retrying", error=repr(exc), retry_in_s=backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, self._max_backoff)
                continue
            if n >= self._batch:
                continue  # more waiting: go on at once
            self._wake.clear()
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=self._poll_s)
            except TimeoutError:
                pass

    async def stop(self) -> None:
        """Publish what is committed (best effort), then stop."""
        self._stopping = True
        self._wake.set()
        try:
            await asyncio.wait_for(self.publish_once(), timeout=5)
        except Exception:  # left for the next start: the rows are still pending
            pass

    async def publish_once(self) -> int:
        q = (sa.select(outbox.c.id, outbox.c.event_id, outbox.c.subject, outbox.c.payload)
             .where(outbox.c.published_at.is_(None)).order_by(outbox.c.id).limit(self._batch))
        if self._pg:
            # Several replicas: the claim (FOR UPDATE SKIP LOCKED) lasts until the rows are marked.
            async with self._engine.connect() as conn:
                rows = (await conn.execute(q.with_for_update(skip_locked=True))).all()
                if not rows:
                    await conn.rollback()
                    return 0
                ok, failed = await self._publish(rows)
                await self._mark(conn, ok, failed)
                await conn.commit()
        else:
            # SQLite: one process per file, so one relay, and one connection for the whole service.
            # It is not held while JetStream acknowledges (a network round trip): the requests and
            # consumers waiting for it would queue behind every publish.
            async with self._engine.connect() as conn:
                rows = (await conn.execute(q)).all()
                await conn.rollback()
            if not rows:
                return 0
            ok, failed = await self._publish(rows)
            async with self._engine.begin() as conn:
                await self._mark(conn, ok, failed)
        self.published += len(ok)
        OUTBOX_PUBLISHED.labels(self._service).inc(len(ok))
        if failed:
            raise RuntimeError(f"{len(failed)} of {len(rows)} outbox rows not acknowledged: {failed[0][1]!r}")
        return len(rows)

    async def _publish(self, rows: Sequence[Any]) -> tuple[list[int], list[tuple[int, BaseException]]]:
        spans = self._start_spans(rows) if self._tracer is not None else None
        # A window of publishes in flight at once; each awaits its PubAck.
        results = await asyncio.gather(
            *(self._js.publish(r.subject, r.payload.encode(), headers={"Nats-Msg-Id": r.event_id}, timeout=10)
              for r in rows),
            return_exceptions=True)
        if spans is not None:
            for span, res in zip(spans, results, strict=True):
                if isinstance(res, BaseException):
                    span.record_exception(res)
                    tracing.fail(span, type(res).__name__)
                elif getattr(res, "duplicate", False):
                    span.set_attribute("congdoan.duplicate", True)  # the stream had it already
                span.end()
        ok = [r.id for r, res in zip(rows, results, strict=True) if not isinstance(res, BaseException)]
        failed = [(r.id, res) for r, res in zip(rows, results, strict=True) if isinstance(res, BaseException)]
        return ok, failed

    def _start_spans(self, rows: Sequence[Any]) -> list[tracing.Span]:
        """A producer span per event, child of the context the event was recorded in (its
        `traceparent` attribute), however long ago that was."""
        assert self._tracer is not None
        spans = []
        for r in rows:
            try:
                ev = json.loads(r.payload)
            except ValueError:
                ev = {}
            spans.append(self._tracer.start_span(
                f"publish {r.subject}", context=tracing.extract(ev), kind=tracing.SpanKind.PRODUCER,
                attributes=tracing.event_attributes(self._service, r.event_id, str(ev.get("type", "")), r.subject)))
        return spans

    @staticmethod
    async def _mark(conn: AsyncConnection, ok: list[int], failed: list[tuple[int, BaseException]]) -> None:
        now = datetime.now(UTC)
        if ok:
            await conn.execute(outbox.update().where(outbox.c.id.in_(ok)).values(published_at=now))
        for row_id, err in failed:
            await conn.execute(outbox.update().where(outbox.c.id == row_id)
                               .values(attempts=outbox.c.attempts + 1, last_error=repr(err)[:2000]))
