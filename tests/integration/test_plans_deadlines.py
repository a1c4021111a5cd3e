"""Deadline events exactly once per (occurrence, offset): two replicas of plans on the SAME
database (one SQLite file; one PostgreSQL database), the shared clock moved forward twice, and a
restart of both replicas in between. Counted in the stream CONGDOAN_PLANS."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime

import sqlalchemy as sa

from runtime.clock import TZ, set_shared_time
from services.plans.cli import import_units, load_seed
from services.plans.seed.demo import CHAIR_ID, PROVINCE_ID, demo_hierarchy, units_csv
from tests.conftest import wait_until
from tests.integration.test_plans_support import events, ok
from tests.support import client, running

START = datetime(2026, 11, 1, 9, 0)
FIRST_JUMP = datetime(2026, 12, 1, 9, 0)  # past 23/11, 29/11 (report due 30/11), its end, and 1/12 (30 days before 31/12)
SECOND_JUMP = datetime(2027, 1, 2, 9, 0)  # past 24/12, 30/12 and the end of 31/12
UNION_LEVELS = 15 + 10  # upper-level + grassroots unions of demo_hierarchy(10): "các cấp công đoàn"


async def _settled(rts, js, approaching: int, missed: int) -> None:  # type: ignore[no-untyped-def]
    async def done() -> bool:
        for rt in rts:
            if await rt.relay.pending():
                return False
        async with rts[0].engine.connect() as conn:
            due = (await conn.execute(sa.text(
                "SELECT count(*) FROM reminders WHERE fired_at IS NULL AND cancelled = :f AND due_at <= :now"),
                {"f": False, "now": rts[0].clock.now()})).scalar_one()
        if due:
            return False
        info = await js.stream_info("CONGDOAN_PLANS", subjects_filter="congdoan.evt.plans.deadline.>")
        subjects = info.state.subjects or {}
        return (subjects.get("congdoan.evt.plans.deadline.approaching.v1", 0) >= approaching
                and subjects.get("congdoan.evt.plans.deadline.missed.v1", 0) >= missed)

    await wait_until(done, timeout=60, what=f"{approaching} approaching and {missed} missed deadline events")


async def _clock_at(js, rts, at: datetime) -> None:  # type: ignore[no-untyped-def]
    await set_shared_time(js, at)

    async def moved() -> bool:
        return all(abs((rt.clock.now() - at.replace(tzinfo=TZ)).total_seconds()) < 60 for rt in rts)

    await wait_until(moved, what="every replica to follow the shared clock")


async def test_deadline_events_exactly_once_with_two_replicas_a_moved_clock_and_a_restart(
        nc, nats_server, make_db_url, monkeypatch):
    monkeypatch.setenv("CONGDOAN_PLANS_DEADLINE_OFFSETS_DAYS", "30,7,1")
    js = nc.jetstream()
    await set_shared_time(js, START)
    url = await make_db_url("plans")  # one database for both replicas
    async with running("plans", nats_server.url, url, instance="a") as a:
        units, _ = demo_hierarchy(10)
        await import_units(client(nc), units_csv(units))
        await ok(nc, "register_person", {"person_id": CHAIR_ID, "unit_id": PROVINCE_ID, "full_name": "Nguyễn Mạnh Hùng",
                                         "roles": ["chairperson", "executive_member"]})
        await ok(nc, "register_person", {"person_id": "g-chair", "unit_id": "cdcs-00001", "full_name": "Lê Thị Hoa",
                                         "roles": ["chairperson"]})
        seed = await load_seed(client(nc), issued_on=date(2026, 11, 1))
        assert seed["issue"]["reminders"] > 0
        # One unit sends its 30/11 report early: none of that occurrence's reminders may fire.
        tasks = (await ok(nc, "list_tasks", {"unit_id": "cdcs-00001", "year": 2026, "actor_id": "g-chair",
                                             "page": {"limit": 100}}))["items"]
        report = next(t for t in tasks if t["item_id"] == "II.3.a")
        await ok(nc, "update_task", {"occurrence_id": report["occurrence_id"], "status": "done",
                                     "evidence": "Báo cáo số 3/BC-CĐCS", "actor_id": "g-chair"})
        async with a.engine.connect() as conn:
            pending = (await conn.execute(sa.text("SELECT count(*) FROM reminders WHERE key LIKE :k AND cancelled = :f"),
                                          {"k": f"%{report['occurrence_id']}%", "f": False})).scalar_one()
        assert pending == 0  # its reminders were cancelled (and would emit nothing anyway)
        async with running("plans", nats_server.url, url, instance="b") as b:
            await _clock_at(js, [a, b], FIRST_JUMP)
            # 30/11 report: 7-day, 1-day and missed for every union level but the one that sent it;
            # 31/12 plan: its 30-day reminder (1/12 08:00).
            await _settled([a, b], js, approaching=(UNION_LEVELS - 1) * 2 + UNION_LEVELS, missed=UNION_LEVELS - 1)
    # Both replicas stopped; two new ones start on the same database and the clock jumps again.
    async with running("plans", nats_server.url, url, instance="a2") as a2, \
            running("plans", nats_server.url, url, instance="b2") as b2:
        await _clock_at(js, [a2, b2], SECOND_JUMP)
        await _settled([a2, b2], js, approaching=(UNION_LEVELS - 1) * 2 + UNION_LEVELS * 3,
                       missed=UNION_LEVELS - 1 + UNION_LEVELS)
        fired = {}
        async with a2.engine.connect() as conn:
            for r in (await conn.execute(sa.text("SELECT kind, count(*) AS n FROM reminders WHERE fired_at IS NOT NULL "
                                                 "GROUP BY kind"))).all():
                fired[r.kind] = r.n
        assert fired.get("plan_roll") == 1  # 1/1/2027: the horizon moved on to 2028, once
        async with a2.engine.connect() as conn:
            assert (await conn.execute(sa.text("SELECT materialized_to FROM plans"))).scalar_one() == 2028
            assert (await conn.execute(sa.text(
                "SELECT count(*) FROM occurrences WHERE period LIKE '2028%' AND unit_id = 'cdcs-00001'"))).scalar_one() > 0

    approaching = await events(js, "deadline.approaching")
    missed = await events(js, "deadline.missed")
    keys = Counter((e["data"]["occurrence_id"], e["data"]["days_before"]) for e in approaching)
    keys.update((e["data"]["occurrence_id"], "missed") for e in missed)
    assert max(keys.values()) == 1, [k for k, n in keys.items() if n > 1][:5]
    assert len(approaching) == (UNION_LEVELS - 1) * 2 + UNION_LEVELS * 3
    assert len(missed) == (UNION_LEVELS - 1) + UNION_LEVELS
    assert report["occurrence_id"] not in {k[0] for k in keys}
    by_offset = Counter(e["data"]["days_before"] for e in approaching)
    assert by_offset == {30: UNION_LEVELS, 7: 2 * UNION_LEVELS - 1, 1: 2 * UNION_LEVELS - 1}
    sample = next(e for e in missed if e["data"]["due_date"] == "2026-11-30")
    assert sample["data"]["item_id"] == "II.3.a" and "gửi báo cáo" in sample["data"]["content"]
    assert sample["data"]["detected_at"].startswith("2026-12-01")
    assert len({e["id"] for e in approaching + missed}) == len(approaching) + len(missed)
