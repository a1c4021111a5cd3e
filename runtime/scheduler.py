"""Durable reminders that fire exactly once — across replicas, restarts and moves of the shared clock.

A service schedules a reminder (a key, a kind, a due time on the shared clock, a JSON payload) in
the same transaction as the state that calls for it: `await schedule(uow.session, …)`. The
scheduler loop of every replica claims due reminders with a conditional UPDATE
(`… SET fired_at = now WHERE key = :key AND fired_at IS NULL`): only the replica whose update hit
the row runs the handler, in that same transaction, so the handler's effects (usually an event in
the outbox) and the claim commit together or not at all. A crash before the commit leaves the
reminder unclaimed for the next pass; a clock moved forward makes everything now due fire, once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from runtime import tracing
from runtime.clock import Clock
from runtime.db import AwareDateTime, UnitOfWork, insert_new
from runtime.logging import get_logger

log = get_logger("runtime.scheduler")

scheduling = sa.MetaData()

reminders = sa.Table(
    "reminders", scheduling,
    sa.Column("key", sa.String(300), primary_key=True),
    sa.Column("kind", sa.String(64), nullable=False),
    sa.Column("due_at", AwareDateTime, nullable=False),
    sa.Column("payload", sa.JSON, nullable=False),
    sa.Column("fired_at", AwareDateTime, nullable=True),
    sa.Column("cancelled", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Index("ix_reminders_due", "due_at", sqlite_where=sa.text("fired_at IS NULL"),
             postgresql_where=sa.text("fired_at IS NULL")),
)

async def due_count(conn: Any, now: datetime) -> int:
    """Reminders due by `now` (the shared clock) and neither fired nor cancelled: the backlog of
    `congdoan status` and of the congdoan_reminders_due gauge."""
    due = sa.and_(reminders.c.fired_at.is_(None), reminders.c.cancelled.is_(sa.false()), reminders.c.due_at <= now)
    return int((await conn.execute(sa.select(sa.func.count()).select_from(reminders).where(due))).scalar_one())


# The unit of work is the service's own (its ServiceDefinition.uow_class), hence Any; a result is ignored.
ReminderHandler = Callable[[dict[str, Any], Any], Awaitable[Any]]


async def schedule(session: AsyncSession, key: str, kind: str, due_at: datetime, payload: dict[str, Any]) -> bool:
    """Add a reminder unless one with this key exists (idempotent). Returns True when added."""
    result = await session.execute(insert_new(session, reminders).values(
        key=key, kind=kind, due_at=due_at, payload=payload, cancelled=False))
    return bool(getattr(result, "rowcount", 0))


async def schedule_many(session: AsyncSession, rows: list[dict[str, Any]]) -> int:
    """Bulk variant: rows of {key, kind, due_at, payload}; existing keys are left alone. Returns
    how many were new (looked up first: executemany does not count what ON CONFLICT skipped)."""
    if not rows:
        return 0
    keys = [r["key"] for r in rows]
    existing: set[str] = set()
    for i in range(0, len(keys), 500):
        existing |= set((await session.execute(sa.select(reminders.c.key)
                                               .where(reminders.c.key.in_(keys[i:i + 500])))).scalars())
    new = [{**r, "cancelled": False} for r in rows if r["key"] not in existing]
    if new:
        await session.execute(insert_new(session, reminders), new)
    return len(new)


async def cancel(session: AsyncSession, key_prefix: str) -> None:
    """Cancel pending reminders whose key starts with `key_prefix` (e.g. a task done early)."""
    await session.execute(reminders.update().where(reminders.c.key.startswith(key_prefix, autoescape=True),
                                                   reminders.c.fired_at.is_(None)).values(cancelled=True))


class Scheduler:
    def __init__(self, uow_factory: Callable[[], UnitOfWork], clock: Clock, handlers: dict[str, ReminderHandler],
                 *, batch: int = 200, max_sleep_s: float = 1.0) -> None:
        self.uow_factory = uow_factory
        self.clock = clock
        self.handlers = handlers
        self.batch = batch
        self.max_sleep_s = max_sleep_s
        self.fired = 0
        self._tracer = tracing.tracer("scheduler")  # None: tracing off

    async def run(self) -> None:
        while True:
            try:
                n = await self.fire_due()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # database busy, a handler bug: log and try again shortly
                log.warning("scheduler pass failed; retrying", error=repr(exc))
                n = 0
            if n >= self.batch:
                continue
            nxt = await self._next_due()
            until = nxt if nxt is not None else self.clock.now().replace(year=self.clock.now().year + 1)
            await self.clock.sleep_until(until, max_wait=self.max_sleep_s)

    async def _next_due(self) -> datetime | None:
        try:
            async with self.uow_factory() as uow:
                return (await uow.session.execute(sa.select(sa.func.min(reminders.c.due_at)).where(
                    reminders.c.fired_at.is_(None), reminders.c.cancelled.is_(False)))).scalar_one_or_none()
        except Exception:
            return None

    async def fire_due(self) -> int:
        """One pass: claim and handle what is due now. Returns how many were claimed here."""
        now = self.clock.now()
        claimed = 0
        async with self.uow_factory() as uow:
            q = (sa.select(reminders.c.key, reminders.c.kind, reminders.c.payload)
                 .where(reminders.c.fired_at.is_(None), reminders.c.cancelled.is_(False), reminders.c.due_at <= now)
                 .order_by(reminders.c.due_at, reminders.c.key).limit(self.batch))
            if uow.session.get_bind().dialect.name == "postgresql":
                q = q.with_for_update(skip_locked=True)
            rows = (await uow.session.execute(q)).all()
            for row in rows:
                result = await uow.session.execute(reminders.update().where(
                    reminders.c.key == row.key, reminders.c.fired_at.is_(None)).values(fired_at=now))
                if result.rowcount != 1:  # type: ignore[attr-defined]  # an UPDATE's CursorResult
                    continue  # another replica got it first
                handler = self.handlers.get(row.kind)
                if handler is not None:
                    if self._tracer is None:
                        await handler(dict(row.payload), uow)
                    else:  # a reminder starts a trace: the events it records (and their consumers) carry it on
                        with self._tracer.start_as_current_span(
                                f"reminder {row.kind}", context=tracing.extract(None),
                                attributes={"congdoan.reminder.kind": row.kind, "congdoan.reminder.key": row.key}):
                            await handler(dict(row.payload), uow)
                claimed += 1
            await uow.commit()
        self.fired += claimed
        return claimed
