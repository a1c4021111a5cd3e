"""Plans hears of reports: a unit's task "send the 30/11 report" (the seed's II.3.a) is done when
the unit's report is submitted, on the report's local date and recorded by the report; back in
progress when the report is returned; done again when resubmitted; still done when accepted. A
task a person marked done stays theirs. Redelivered events change nothing; events of unknown
requirements or units are acknowledged, not parked. Real nats-server, SQLite and PostgreSQL:
first with reports' events published as reports would, then through the reports service itself."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa

from contracts import naming
from contracts.catalogue import EVENTS_BY_TYPE
from contracts.envelope import build_event
from runtime.clock import TZ, set_shared_time
from services.plans.cli import import_units, load_seed
from services.plans.seed.demo import CHAIR_ID, PROVINCE_ID, demo_hierarchy, units_csv
from tests.conftest import wait_until
from tests.integration.test_plans_support import events, ok
from tests.integration.test_reliability import dlq_messages
from tests.support import api, call, client, running

NOW = datetime(2026, 11, 20, 9, 0, tzinfo=TZ)
ISSUED_ON = date(2026, 11, 1)
PLAN = "kh-01-kl-tw-ldld-bd"
REQ = f"{PLAN}:II.3.a:2026"
G1, G2, G3, UPPER = "cdcs-00001", "cdcs-00002", "cdcs-00003", "cd-cd-kkt"
DURABLE = naming.durable_name("plans", "reports")


async def publish(js: Any, type_: str, data: dict[str, Any], *, event_id: str | None = None,
                  msg_id: str | None = None) -> str:
    """A reports event as the reports service publishes it (`msg_id`: another JetStream message id
    for the same event, so that the stream takes it again — a redelivery as the consumer sees it)."""
    spec = EVENTS_BY_TYPE[type_]
    event = build_event(type_=type_, source=naming.source_for(spec.producer), data=spec.model.model_validate(data),
                        time=datetime.now(TZ), id_=event_id)
    await js.publish(spec.subject, json.dumps(event, ensure_ascii=False).encode(),
                     headers={"Nats-Msg-Id": msg_id or event["id"]})
    return str(event["id"])


def opened(requirement_id: str = REQ, *, source: bool = True) -> dict[str, Any]:
    return {"requirement_id": requirement_id, "name": "Báo cáo kết quả năm 2026", "issuer_unit_id": PROVINCE_ID,
            "receiving_unit_id": PROVINCE_ID, "reporting_kinds": ["upper_level_union", "grassroots_union"],
            "period": "2026", "due_date": "2026-11-30", "form_id": "bc-01-kl-tw", "form_version": 1,
            "source_plan_id": PLAN if source else None, "source_item_id": "II.3.a" if source else None}


def submitted(unit: str, at: datetime, report_id: str | None = None, revision: int = 1,
              requirement_id: str = REQ) -> dict[str, Any]:
    return {"report_id": report_id or f"r-{unit}", "requirement_id": requirement_id, "period": "2026",
            "unit_id": unit, "receiving_unit_id": PROVINCE_ID, "revision": revision,
            "submitted_at": at.isoformat(), "due_date": "2026-11-30", "on_time": at.date() <= date(2026, 11, 30)}


def returned(unit: str, revision: int = 1, report_id: str | None = None) -> dict[str, Any]:
    return {"report_id": report_id or f"r-{unit}", "requirement_id": REQ, "period": "2026", "unit_id": unit,
            "by_unit_id": PROVINCE_ID, "revision": revision, "comment": "Đề nghị bổ sung số liệu đoàn viên.",
            "returned_at": NOW.isoformat()}


def accepted(unit: str, revision: int, at: datetime = NOW) -> dict[str, Any]:
    return {"report_id": f"r-{unit}", "requirement_id": REQ, "period": "2026", "unit_id": unit,
            "by_unit_id": PROVINCE_ID, "revision": revision, "on_time": True, "accepted_at": at.isoformat()}


async def _setup(nc: Any) -> None:
    units, _ = demo_hierarchy(3)
    await import_units(client(nc), units_csv(units))
    await ok(nc, "register_person", {"person_id": CHAIR_ID, "unit_id": PROVINCE_ID, "full_name": "Nguyễn Mạnh Hùng",
                                     "roles": ["chairperson", "executive_member"]})
    for unit in (G1, G2, G3, UPPER):
        await ok(nc, "register_person", {"person_id": f"{unit}-chair", "unit_id": unit,
                                         "full_name": f"Trần Thị {unit}", "roles": ["chairperson"]})
    seed = await load_seed(client(nc), issued_on=ISSUED_ON)
    assert seed["plan_id"] == PLAN


async def task(nc: Any, unit: str, item: str = "II.3.a") -> dict[str, Any]:
    tasks = (await ok(nc, "list_tasks", {"unit_id": unit, "year": 2026, "actor_id": f"{unit}-chair",
                                         "page": {"limit": 100}}))["items"]
    return next(t for t in tasks if t["item_id"] == item and t["period"] == "2026")


def state(t: dict[str, Any]) -> tuple[Any, ...]:
    return t["status"], t["done_on"], t["on_time"], t["recorded_by"], t["evidence"]


async def handled(js: Any, published: int) -> None:
    """Plans' durable on reports' stream has taken every one of the `published` messages and
    acknowledged them all."""
    async def idle() -> bool:
        info = await js.consumer_info("CONGDOAN_REPORTS", DURABLE)
        return info.delivered.stream_seq >= published and info.num_pending == 0 and info.num_ack_pending == 0

    await wait_until(idle, what=f"plans to handle {published} reports events")


async def updates(js: Any, rt: Any, unit: str) -> list[dict[str, Any]]:
    await wait_until(lambda: _relay_idle(rt), what="plans' outbox drained")
    return [e["data"] for e in await events(js, "task.updated") if e["data"]["unit_id"] == unit]


async def _relay_idle(rt: Any) -> bool:
    return bool(await rt.relay.pending() == 0)


@asynccontextmanager
async def plans_with_requirement(nc: Any, nats_server: Any, make_db_url: Any) -> AsyncIterator[Any]:
    """Plans running with the seed issued to the demo hierarchy, and told (as reports would) of
    another requirement without a plan item and of the one opened from II.3.a. Yields
    (runtime, js, messages published on reports' stream so far)."""
    js = nc.jetstream()
    await set_shared_time(js, NOW)
    async with running("plans", nats_server.url, await make_db_url("plans")) as rt:
        await _setup(nc)
        before = await task(nc, G1)
        assert before["status"] == "open" and before["due_date"] == "2026-11-30"
        for data in (opened("rq-khac", source=False), opened()):
            await publish(js, "vn.congdoan.reports.requirement.opened.v1", data)
        await handled(js, 2)
        async with rt.engine.connect() as conn:
            known = (await conn.execute(sa.text("SELECT requirement_id, plan_id, item_id, period "
                                                "FROM report_requirements"))).all()
        assert [tuple(r) for r in known] == [(REQ, PLAN, "II.3.a", "2026")]
        yield rt, js, 2


async def test_a_submitted_report_makes_the_units_task_done_on_its_local_date_by_the_report(
        nc, nats_server, make_db_url):
    async with plans_with_requirement(nc, nats_server, make_db_url) as (rt, js, n):
        # Submitted at 20:30 UTC on 18/11, that is 03:30 on 19/11 in Vietnam: done on 19/11.
        await publish(js, "vn.congdoan.reports.report.submitted.v1",
                      submitted(G1, datetime(2026, 11, 18, 20, 30, tzinfo=UTC)))
        # The completion date stays within the task: not before it began (the plan was issued on
        # 1/11), not after the clock's today (20/11).
        await publish(js, "vn.congdoan.reports.report.submitted.v1", submitted(G3, datetime(2026, 10, 20, 9, tzinfo=TZ)))
        await publish(js, "vn.congdoan.reports.report.submitted.v1", submitted(UPPER, datetime(2026, 11, 25, 9, tzinfo=TZ)))
        await handled(js, n + 3)
        done = await task(nc, G1)
        assert state(done) == ("done", "2026-11-19", True, f"report:r-{G1}", "Đã gửi báo cáo")
        assert done["category"] == "done_on_time"
        [update] = await updates(js, rt, G1)  # the task.updated a person's update emits, too
        assert (update["occurrence_id"], update["status"], update["done_on"], update["on_time"],
                update["recorded_by"], update["evidence"]) == (
            done["occurrence_id"], "done", "2026-11-19", True, f"report:r-{G1}", "Đã gửi báo cáo")
        assert (await task(nc, G3))["done_on"] == "2026-11-01"
        assert (await task(nc, UPPER))["done_on"] == "2026-11-20"
        assert (await task(nc, G2))["status"] == "open"  # it has not reported
        # Only the report's task: the unit's other tasks are as they were.
        assert (await task(nc, G1, "II.1.a"))["status"] == "open"
        rollup = await ok(nc, "get_rollup", {"plan_id": PLAN, "year": 2026, "actor_id": CHAIR_ID})
        assert rollup["totals"]["done_on_time"] == 3


async def test_a_returned_report_puts_the_task_back_in_progress_until_resubmitted(nc, nats_server, make_db_url):
    async with plans_with_requirement(nc, nats_server, make_db_url) as (rt, js, n):
        await publish(js, "vn.congdoan.reports.report.submitted.v1", submitted(G1, datetime(2026, 11, 18, 9, tzinfo=TZ)))
        await publish(js, "vn.congdoan.reports.report.returned.v1", returned(G1))
        await handled(js, n + 2)
        back = await task(nc, G1)
        assert (back["status"], back["done_on"], back["on_time"], back["category"], back["recorded_by"]) == (
            "in_progress", None, None, "in_progress", f"report:r-{G1}")
        assert back["evidence"].startswith("Báo cáo bị cấp trên trả lại") and "bổ sung số liệu" in back["evidence"]

        # Resubmitted on 20/11: done again, on that day; accepted: still done, as it was.
        await publish(js, "vn.congdoan.reports.report.submitted.v1", submitted(G1, NOW, revision=2))
        await publish(js, "vn.congdoan.reports.report.accepted.v1", accepted(G1, revision=2))
        await handled(js, n + 4)
        assert state(await task(nc, G1)) == ("done", "2026-11-20", True, f"report:r-{G1}", "Đã gửi báo cáo")
        assert [(u["status"], u["done_on"]) for u in await updates(js, rt, G1)] == [
            ("done", "2026-11-18"), ("in_progress", None), ("done", "2026-11-20")]


async def test_a_redelivered_report_event_changes_nothing(nc, nats_server, make_db_url):
    async with plans_with_requirement(nc, nats_server, make_db_url) as (rt, js, n):
        at = datetime(2026, 11, 18, 9, tzinfo=TZ)
        first = await publish(js, "vn.congdoan.reports.report.submitted.v1", submitted(G1, at))
        await handled(js, n + 1)
        done = await task(nc, G1)
        assert state(done) == ("done", "2026-11-18", True, f"report:r-{G1}", "Đã gửi báo cáo")
        # The return, then the first submission delivered again (another message, the same event
        # id): the inbox knows it, the task stays as the return left it.
        await publish(js, "vn.congdoan.reports.report.returned.v1", returned(G1))
        await publish(js, "vn.congdoan.reports.report.submitted.v1", submitted(G1, at), event_id=first,
                      msg_id="again-1")
        # The first submission once more as another event (handled late by another replica, or
        # parked and replayed): older than the return, it changes nothing either.
        await publish(js, "vn.congdoan.reports.report.submitted.v1", submitted(G1, at))
        await handled(js, n + 4)
        assert (await task(nc, G1))["status"] == "in_progress"
        assert [u["status"] for u in await updates(js, rt, G1)] == ["done", "in_progress"]
        async with rt.engine.connect() as conn:
            inbox = (await conn.execute(sa.text("SELECT count(*) FROM inbox WHERE consumer = :c AND event_type <> "
                                                "'~position'"), {"c": DURABLE})).scalar_one()
            progress = (await conn.execute(sa.text("SELECT report_id, revision, stage FROM report_progress"))).all()
        assert inbox == n + 3  # every event once
        assert [tuple(p) for p in progress] == [(f"r-{G1}", 1, "returned")]
        assert await dlq_messages(js) == []


async def test_events_of_unknown_requirements_or_units_are_acked_not_parked(nc, nats_server, make_db_url):
    async with plans_with_requirement(nc, nats_server, make_db_url) as (rt, js, n):
        for data in (submitted(G1, NOW, requirement_id="rq-khac"), submitted(G1, NOW, requirement_id="rq-chua-biet"),
                     submitted("cdcs-khong-co", NOW)):
            await publish(js, "vn.congdoan.reports.report.submitted.v1", data)
        await publish(js, "vn.congdoan.reports.report.returned.v1", {**returned(G1), "requirement_id": "rq-chua-biet"})
        await publish(js, "vn.congdoan.reports.report.accepted.v1", {**accepted(G1, 1), "requirement_id": "rq-khac"})
        await handled(js, n + 5)
        assert await dlq_messages(js) == []
        assert (await task(nc, G1))["status"] == "open"
        assert await updates(js, rt, G1) == []
        info = await js.consumer_info("CONGDOAN_REPORTS", DURABLE)
        assert info.ack_floor.stream_seq == n + 5 and info.num_redelivered == 0


async def test_a_task_a_person_marked_done_stays_theirs(nc, nats_server, make_db_url):
    async with plans_with_requirement(nc, nats_server, make_db_url) as (rt, js, n):
        await ok(nc, "update_task", {"occurrence_id": (await task(nc, G2))["occurrence_id"], "status": "done",
                                     "evidence": "Báo cáo số 5/BC-CĐCS", "done_on": "2026-11-10",
                                     "actor_id": f"{G2}-chair"})
        await publish(js, "vn.congdoan.reports.report.submitted.v1", submitted(G2, NOW))
        await publish(js, "vn.congdoan.reports.report.returned.v1", returned(G2))
        await publish(js, "vn.congdoan.reports.report.submitted.v1", submitted(G2, NOW, revision=2))
        await handled(js, n + 3)
        assert state(await task(nc, G2)) == ("done", "2026-11-10", True, f"{G2}-chair", "Báo cáo số 5/BC-CĐCS")
        assert [u["recorded_by"] for u in await updates(js, rt, G2)] == [f"{G2}-chair"]


async def test_a_report_sent_through_the_reports_service_completes_the_task(nc, nats_server, make_db_url):
    """The whole way: reports opens the requirement from plans' plan.issued, the unit's chair submits
    the report through reports' API, plans' task of that unit is done; returned by the level above,
    it is back in progress."""
    from tests.integration.test_reports_service import values

    js = nc.jetstream()
    await set_shared_time(js, NOW)
    async with running("plans", nats_server.url, await make_db_url("plans")) as plans, \
            running("reports", nats_server.url, await make_db_url("reports")):
        await _setup(nc)

        async def remembered() -> bool:
            async with plans.engine.connect() as conn:
                return bool((await conn.execute(sa.text("SELECT count(*) FROM report_requirements"))).scalar_one())

        await wait_until(remembered, timeout=60, what="reports to open the requirement and plans to hear of it")

        async def submit() -> Any:
            h, reply = await call(nc, api("reports", "submit_report"), {
                "requirement_id": REQ, "period": "2026", "unit_id": UPPER, "values": values(20, 10),
                "actor_id": f"{UPPER}-chair"})
            return reply if "Nats-Service-Error" not in h else None

        receipt: dict[str, Any] = {}

        async def submitted_once() -> bool:
            reply = await submit()
            if reply:
                receipt.update(reply)
            return bool(reply)

        await wait_until(submitted_once, timeout=60, what="reports to know the unit and take its report")

        async def task_is(status: str) -> bool:
            return bool((await task(nc, UPPER))["status"] == status)

        await wait_until(lambda: task_is("done"), what="the task done by the report")
        t = await task(nc, UPPER)
        assert (t["done_on"], t["on_time"], t["recorded_by"]) == ("2026-11-20", True, f"report:{receipt['report_id']}")
        h, reply = await call(nc, api("reports", "return_report"), {
            "report_id": receipt["report_id"], "comment": "Bổ sung số liệu.", "actor_id": CHAIR_ID})
        assert "Nats-Service-Error" not in h, reply
        await wait_until(lambda: task_is("in_progress"), what="the task back in progress")
