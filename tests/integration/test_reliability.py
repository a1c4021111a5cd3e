"""Outbox, inbox, redelivery and parking against a real nats-server, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from contracts.envelope import build_event
from contracts.events.reports import ReportSubmitted
from runtime.consumer import EventConsumer, Subscription
from runtime.errors import PermanentError
from tests.conftest import wait_until
from tests.support import connect_harness, running, test_nats_server

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
SUBMITTED = "vn.congdoan.reports.report.submitted.v1"
SUBJECT = "congdoan.evt.reports.report.submitted.v1"


def submitted_event(n: int = 1, event_id: str | None = None) -> dict:
    data = ReportSubmitted(report_id=f"r-{n}", requirement_id="annual", period="2026", unit_id=f"g{n}",
                           receiving_unit_id="prov", revision=1, submitted_at=datetime(2026, 11, 20, 9, tzinfo=TZ),
                           due_date=None, on_time=True)
    return build_event(type_=SUBMITTED, source="/congdoan/reports", data=data, time=datetime.now(TZ), id_=event_id)


async def dlq_messages(js) -> list:  # type: ignore[no-untyped-def]
    try:
        info = await js.stream_info("CONGDOAN_DLQ")
    except Exception:
        return []
    out = []
    for seq in range(info.state.first_seq, info.state.last_seq + 1):
        if info.state.messages == 0:
            break
        out.append(await js.get_msg("CONGDOAN_DLQ", seq))
    return out


async def count(rt, table: str, where: str = "1=1") -> int:  # type: ignore[no-untyped-def]
    if table == "inbox":  # events handled, not the row keeping the consumer's position
        where = f"({where}) AND event_type <> '~position'"
    async with rt.engine.connect() as conn:
        return int((await conn.execute(sa.text(f"SELECT count(*) FROM {table} WHERE {where}"))).scalar_one())


async def test_outbox_relay_retries_through_a_nats_outage_and_a_restart(tmp_path, make_db_url):
    server = test_nats_server(tmp_path / "nats")
    server.start()
    db = await make_db_url("reports")  # reports: the one NATS user that may publish a report's events
    try:
        async with running("reports", server.url, db) as rt:
            server.stop(kill=True)  # NATS gone; the service keeps reconnecting
            async with rt.uow() as uow:
                ev_id = await uow.emit(ReportSubmitted.model_validate(submitted_event()["data"]))
                await uow.commit()
            await asyncio.sleep(0.3)
            assert await rt.relay.pending() == 1  # not acknowledged, so not marked
        # The process stopped with the row still pending; the row survives in the database.
        server.start()
        async with running("reports", server.url, db) as rt:
            await wait_until(lambda: _zero(rt.relay.pending()), what="the relay to publish after restart")
        nc = await connect_harness(server.url)
        try:
            msg = await nc.jetstream().get_last_msg("CONGDOAN_REPORTS", SUBJECT)
            assert msg.headers["Nats-Msg-Id"] == ev_id
            body = json.loads(msg.data)
            assert body["id"] == ev_id and body["specversion"] == "1.0" and body["type"] == SUBMITTED
        finally:
            await nc.close()
    finally:
        server.stop()


async def _zero(awaitable) -> bool:  # type: ignore[no-untyped-def]
    return (await awaitable) == 0


async def test_inbox_drops_duplicates_beyond_the_dedupe_window(nc, nats_server, make_db_url):
    js = nc.jetstream()
    async with running("awards", nats_server.url, await make_db_url("awards")) as rt:
        ev = submitted_event(7)
        # Same event id under two different Nats-Msg-Ids: what a re-publish after the window looks like.
        for msg_id in ("a", "b"):
            await js.publish(SUBJECT, json.dumps(ev).encode(), headers={"Nats-Msg-Id": msg_id})
        await wait_until(lambda: _eq(count(rt, "inbox"), 1), what="one inbox row")
        await wait_until(lambda: _consumer_idle(js, "CONGDOAN_REPORTS", "awards-from-reports"), what="both acked")
        assert await count(rt, "inbox") == 1
        assert await count(rt, "report_facts") == 1


async def _eq(awaitable, n: int) -> bool:  # type: ignore[no-untyped-def]
    return (await awaitable) == n


async def _consumer_idle(js, stream: str, durable: str) -> bool:  # type: ignore[no-untyped-def]
    info = await js.consumer_info(stream, durable)
    return info.num_pending == 0 and info.num_ack_pending == 0


BAD_PAYLOADS = {
    "malformed JSON": b'{"specversion": "1.0", "id": ',
    "invalid UTF-8": b'{"id": "\xff\xfe"}',
    "not a CloudEvent": b'{"hello": "world"}',
    "wrong types": json.dumps({**submitted_event(), "data": {**submitted_event()["data"], "revision": "two"}}).encode(),
    "missing field": json.dumps({**submitted_event(), "data": {k: v for k, v in submitted_event()["data"].items()
                                                               if k != "unit_id"}}).encode(),
    "nested 100,000 deep": b"[" * 100_000 + b"]" * 100_000,
    "NUL in a field": json.dumps({**submitted_event(), "data": {**submitted_event()["data"], "unit_id": "g\x00"}}).encode(),
    "oversized": json.dumps({**submitted_event(), "padding": "x" * (1024 * 1024)}).encode(),
    "type on wrong subject": json.dumps({**submitted_event(), "type": "vn.congdoan.plans.unit.registered.v1"}).encode(),
}


async def test_poison_messages_are_parked_with_reason_and_headers(nc, nats_server, make_db_url):
    js = nc.jetstream()
    async with running("awards", nats_server.url, await make_db_url("awards")) as rt:
        for i, payload in enumerate(BAD_PAYLOADS.values()):
            await js.publish(SUBJECT, payload, headers={"Nats-Msg-Id": f"bad-{i}", "X-Trace": f"t{i}"})
        await js.publish(SUBJECT, json.dumps(submitted_event(1)).encode(), headers={"Nats-Msg-Id": "good"})
        await wait_until(lambda: _len(dlq_messages(js), len(BAD_PAYLOADS)), what="every bad message parked")
        await wait_until(lambda: _eq(count(rt, "inbox"), 1), what="the good message handled")
        parked = await dlq_messages(js)
        reasons = [m.headers["Congdoan-Parked-Reason"] for m in parked]
        assert any(r.startswith("malformed") for r in reasons)
        assert any(r.startswith("oversized") for r in reasons)
        assert any("invalid data" in r and "revision" in r for r in reasons)
        assert any("unit_id" in r and "Field required" in r for r in reasons)
        assert any(r.startswith("malformed: nested deeper") for r in reasons)
        assert any(r.startswith("invalid: control character in data.unit_id") for r in reasons)
        assert any("vn.congdoan.plans.unit.registered.v1" in r for r in reasons)  # wrong type for the subject
        for m in parked:
            assert m.subject == "congdoan.dlq.awards.awards-from-reports"
            assert m.headers["Congdoan-Original-Subject"] == SUBJECT
            assert m.headers["X-Trace"].startswith("t")  # original headers kept
            assert m.headers["Congdoan-Original-Msg-Id"].startswith("bad-")
        assert BAD_PAYLOADS["invalid UTF-8"] in [m.data for m in parked]  # payload kept byte for byte
        await _wait_ready(rt)


async def _len(awaitable, n: int) -> bool:  # type: ignore[no-untyped-def]
    return len(await awaitable) >= n


async def _wait_ready(rt) -> None:  # type: ignore[no-untyped-def]
    await rt._check_db()
    await rt._check_nats()
    await rt._check_consumers()


@pytest.mark.parametrize("failures,expect_parked", [(2, False), (99, True)])
async def test_transient_failures_are_retried_then_parked(nc, nats_server, make_db_url, failures, expect_parked):
    js = nc.jetstream()
    async with running("awards", nats_server.url, await make_db_url("awards")) as rt:
        calls: list[str] = []

        async def flaky(event, uow):  # type: ignore[no-untyped-def]
            calls.append(event.id)
            if len(calls) <= failures:
                raise ConnectionError("database hiccup")

        consumer = EventConsumer(service="testsvc", subscription=Subscription("reports", {SUBMITTED: flaky}), js=js,
                                 uow_factory=rt.uow, max_deliver=3, nak_delay_s=0.05)
        await consumer.start()
        task = asyncio.create_task(consumer.run())
        try:
            await js.publish(SUBJECT, json.dumps(submitted_event(3)).encode())
            if expect_parked:
                await wait_until(lambda: _len(dlq_messages(js), 1), what="the failing message parked")
                parked = (await dlq_messages(js))[0]
                assert "failed 3 deliveries" in parked.headers["Congdoan-Parked-Reason"]
                assert "database hiccup" in parked.headers["Congdoan-Parked-Reason"]
                assert len(calls) == 3
            else:
                await wait_until(lambda: _eq(count(rt, "inbox", "consumer = 'testsvc-from-reports'"), 1),
                                 what="success on the third delivery")
                assert len(calls) == 3 and await dlq_messages(js) == []
        finally:
            await consumer.stop()
            task.cancel()


async def test_permanent_error_parks_at_once(nc, nats_server, make_db_url):
    js = nc.jetstream()
    async with running("awards", nats_server.url, await make_db_url("awards")) as rt:
        async def refuse(event, uow):  # type: ignore[no-untyped-def]
            raise PermanentError("unit g3 was closed before this report")

        consumer = EventConsumer(service="testsvc", subscription=Subscription("reports", {SUBMITTED: refuse}), js=js,
                                 uow_factory=rt.uow, max_deliver=5, nak_delay_s=0.05)
        await consumer.start()
        task = asyncio.create_task(consumer.run())
        try:
            await js.publish(SUBJECT, json.dumps(submitted_event(3)).encode())
            await wait_until(lambda: _len(dlq_messages(js), 1), what="parked")
            m = (await dlq_messages(js))[0]
            assert m.headers["Congdoan-Parked-Reason"] == "rejected by handler: unit g3 was closed before this report"
            assert m.headers["Congdoan-Deliveries"] == "1"
        finally:
            await consumer.stop()
            task.cancel()
