"""runtime.scheduler: each reminder fires once, with two replicas racing on one database, across a
restart, and when the clock jumps forward (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import sqlalchemy as sa

from runtime.clock import TZ, FixedClock
from runtime.db import UnitOfWork, make_engine, session_factory
from runtime.scheduler import Scheduler, reminders, schedule, schedule_many, scheduling


async def test_reminders_fire_exactly_once_across_replicas_restarts_and_clock_moves(make_db_url):
    url = await make_db_url("sched")
    engine = make_engine(url)
    async with engine.begin() as conn:
        await conn.run_sync(scheduling.create_all)
    start = datetime(2026, 10, 1, 8, tzinfo=TZ)
    clock = FixedClock(start)
    fired: list[str] = []

    async def handler(payload, uow):  # type: ignore[no-untyped-def]
        fired.append(payload["k"])

    def uow_factory() -> UnitOfWork:
        return UnitOfWork(session_factory(engine), source="/test", now=clock.now)

    due = datetime(2026, 11, 30, 23, 59, tzinfo=TZ)
    async with uow_factory() as uow:
        rows = [{"key": f"occ-{i}:{off}", "kind": "deadline", "due_at": due - timedelta(days=off),
                 "payload": {"k": f"occ-{i}:{off}"}} for i in range(150) for off in (30, 7, 1, 0)]
        assert await schedule_many(uow.session, rows) == 600
        assert await schedule_many(uow.session, rows[:10]) == 0  # idempotent
        await uow.commit()

    replicas = [Scheduler(uow_factory, clock, {"deadline": handler}, batch=50) for _ in range(2)]
    assert sum(await asyncio.gather(*(r.fire_due() for r in replicas))) == 0  # nothing due yet
    clock.set_offset(due - timedelta(days=7) - start)  # jump: the 30- and 7-day reminders are due
    for _ in range(10):
        await asyncio.gather(*(r.fire_due() for r in replicas))
    assert len(fired) == 300 and len(set(fired)) == 300
    # "Restart": new scheduler objects, the clock moved past the due date.
    clock.set_offset(due + timedelta(days=1) - start)
    replicas = [Scheduler(uow_factory, clock, {"deadline": handler}, batch=50) for _ in range(2)]
    for _ in range(10):
        await asyncio.gather(*(r.fire_due() for r in replicas))
    assert len(fired) == 600 and len(set(fired)) == 600
    async with engine.connect() as conn:
        pending = (await conn.execute(sa.select(sa.func.count()).select_from(reminders)
                                      .where(reminders.c.fired_at.is_(None)))).scalar_one()
    assert pending == 0
    await engine.dispose()


async def test_a_fired_reminder_starts_a_trace_its_events_carry(make_db_url):  # type: ignore[no-untyped-def]
    """With tracing on (runtime/tracing.py), each reminder runs in a span of its own, a new trace,
    and an event its handler records carries that span (so notify's handling joins it)."""
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    from runtime import tracing

    url = await make_db_url("sched")
    engine = make_engine(url)
    async with engine.begin() as conn:
        await conn.run_sync(scheduling.create_all)
    clock = FixedClock(datetime(2026, 10, 1, 8, tzinfo=TZ))
    carried: list[dict[str, str]] = []

    async def handler(payload, uow):  # type: ignore[no-untyped-def]
        carried.append(tracing.current_context_attributes())  # what uow.emit writes into an event

    def uow_factory() -> UnitOfWork:
        return UnitOfWork(session_factory(engine), source="/test", now=clock.now)

    async with uow_factory() as uow:
        await schedule_many(uow.session, [{"key": f"r-{i}", "kind": "deadline", "due_at": clock.now(), "payload": {}}
                                          for i in range(2)])
        await uow.commit()
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracing.use(provider)
    try:
        assert await Scheduler(uow_factory, clock, {"deadline": handler}).fire_due() == 2
    finally:
        tracing.use(None)
        provider.shutdown()
        await engine.dispose()
    spans = exporter.get_finished_spans()
    assert [s.name for s in spans] == ["reminder deadline"] * 2
    assert all(s.parent is None for s in spans) and spans[0].context.trace_id != spans[1].context.trace_id
    assert [c["traceparent"].split("-")[1:3] for c in carried] == [
        [f"{s.context.trace_id:032x}", f"{s.context.span_id:016x}"] for s in spans]
    assert spans[0].attributes is not None and spans[0].attributes["congdoan.reminder.key"] == "r-0"


async def test_two_replicas_scheduling_the_same_reminder_at_once(make_db_url):
    """Two notify replicas starting together both plan today's digest: the second insert waits for
    the first transaction and adds nothing, instead of failing on the key (which stopped a replica
    in the deployment test)."""
    url = await make_db_url("sched_race")
    engine = make_engine(url)
    async with engine.begin() as conn:
        await conn.run_sync(scheduling.create_all)
    clock = FixedClock(datetime(2026, 10, 1, 8, tzinfo=TZ))

    def uow_factory() -> UnitOfWork:
        return UnitOfWork(session_factory(engine), source="/test", now=clock.now)

    due = datetime(2026, 10, 1, 17, tzinfo=TZ)
    first, second = uow_factory(), uow_factory()
    async with first:
        assert await schedule(first.session, "digest:2026-10-01", "digest", due, {}) is True
        later = asyncio.ensure_future(_schedule_in(second, due))
        await asyncio.sleep(0.2)  # let the second insert reach the database (it waits there on PostgreSQL)
        await first.commit()
    assert await asyncio.wait_for(later, 10) is False
    async with engine.connect() as conn:
        assert (await conn.execute(sa.select(sa.func.count()).select_from(reminders))).scalar_one() == 1
    await engine.dispose()


async def _schedule_in(uow: UnitOfWork, due: datetime) -> bool:
    async with uow:
        added = await schedule(uow.session, "digest:2026-10-01", "digest", due, {})
        await uow.commit()
        return added
