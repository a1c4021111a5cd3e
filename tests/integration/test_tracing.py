"""One OpenTelemetry trace from a report's submission through reports, its outbox relay, notify and
awards (runtime/tracing.py): the four services in this process, one in-memory exporter."""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import SpanKind

from contracts.catalogue import event_of
from contracts.events.notify import NotificationsCreated
from contracts.events.reports import ReportSubmitted
from runtime import tracing
from tests.conftest import wait_until
from tests.support import api, call, client, open_requirements, running

SUBMITTED = event_of(ReportSubmitted).subject
CREATED = event_of(NotificationsCreated).subject


def _one(found: list[ReadableSpan], what: str) -> ReadableSpan:
    assert len(found) == 1, f"{what}: {[(s.name, s.instrumentation_scope and s.instrumentation_scope.name) for s in found]}"
    return found[0]


def _scope(span: ReadableSpan) -> str:
    return span.instrumentation_scope.name if span.instrumentation_scope else ""


async def test_one_trace_from_submission_to_notify_and_awards(nc, nats_server, make_db_url, spans):  # type: ignore[no-untyped-def]
    url = nats_server.url
    async with running("plans", url, await make_db_url("plans")), \
            running("reports", url, await make_db_url("reports")) as reports, \
            running("notify", url, await make_db_url("notify")) as notify, \
            running("awards", url, await make_db_url("awards")):
        await call(nc, api("plans", "register_unit"), {
            "unit_id": "prov", "code": "LĐLĐ-BĐ", "name": "Liên đoàn Lao động tỉnh Bình Định",
            "kind": "provincial_federation"})
        await call(nc, api("plans", "register_unit"), {
            "unit_id": "g1", "code": "CĐCS-1", "name": "Công đoàn cơ sở Công ty A", "kind": "grassroots_union",
            "parent_id": "prov"})
        await call(nc, api("plans", "register_person"), {
            "person_id": "chair", "unit_id": "prov", "full_name": "Nguyễn Mạnh Hùng", "roles": ["chairperson"]})
        await call(nc, api("plans", "register_person"), {
            "person_id": "g1-chair", "unit_id": "g1", "full_name": "Trần Thị Lan", "roles": ["chairperson"]})
        js = nc.jetstream()

        async def directory_known() -> bool:  # by reports and by notify, before the report arrives
            for durable in ("notify-from-plans", "reports-from-plans"):
                info = await js.consumer_info("CONGDOAN_PLANS", durable)
                if info.delivered.stream_seq < 4 or info.num_ack_pending:
                    return False
            return True

        await wait_until(directory_known, what="reports and notify to project the directory")
        await open_requirements(nc, ["annual"])

        async def reports_stream_idle() -> bool:  # the requirement's event handled everywhere first
            if await reports.relay.pending():
                return False
            for durable in ("notify-from-reports", "awards-from-reports"):
                info = await js.consumer_info("CONGDOAN_REPORTS", durable)
                if info.num_pending or info.num_ack_pending:
                    return False
            return True

        await wait_until(reports_stream_idle, what="the requirement's event handled")
        spans.clear()

        # The submission through the request client, as the web front-end and the CLI make it.
        receipt = await client(nc, "g1-chair").request("reports", "submit_report", {
            "report_id": "r-1", "requirement_id": "annual", "period": "2026", "unit_id": "g1",
            "values": {"study_sessions": 3}})
        assert receipt["duplicate"] is False

        def finished(name: str, scope: str) -> list[ReadableSpan]:
            return [s for s in spans.get_finished_spans() if s.name == name and _scope(s) == scope]

        async def all_there() -> bool:
            return all(finished(name, scope) for name, scope in [
                (f"process {SUBMITTED}", "congdoan.notify"), (f"process {SUBMITTED}", "congdoan.awards"),
                (f"publish {CREATED}", "congdoan.notify")])

        await wait_until(all_there, what="the spans of the relay, notify and awards")

        request = _one(finished("congdoan-reports/submit_report", "congdoan.client"), "client span")
        served = _one(finished("congdoan-reports/submit_report", "congdoan.reports"), "server span")
        relayed = _one(finished(f"publish {SUBMITTED}", "congdoan.reports"), "reports' relay span")
        notified = _one(finished(f"process {SUBMITTED}", "congdoan.notify"), "notify's consumer span")
        judged = _one(finished(f"process {SUBMITTED}", "congdoan.awards"), "awards' consumer span")
        fanned = _one(finished(f"publish {CREATED}", "congdoan.notify"), "notify's relay span")
        kinds = [(request, SpanKind.CLIENT), (served, SpanKind.SERVER), (relayed, SpanKind.PRODUCER),
                 (notified, SpanKind.CONSUMER), (judged, SpanKind.CONSUMER), (fanned, SpanKind.PRODUCER)]
        assert [s.kind for s, _ in kinds] == [k for _, k in kinds]

        trace_id = request.context.trace_id
        assert {s.context.trace_id for s, _ in kinds} == {trace_id}, "one trace"
        assert request.parent is None  # the caller started it
        assert served.parent is not None and served.parent.span_id == request.context.span_id
        # The event carries the server span's context (recorded in the outbox during the request):
        # the relay's publish and both consumers are its children, not one another's.
        for child in (relayed, notified, judged):
            assert child.parent is not None and child.parent.span_id == served.context.span_id, child.name
        # What notify recorded for the batch (its fan-out runs at commit) continues the trace: under
        # the batch's commit span, itself under the consumer span of the batch's one event.
        committed = _one(finished("commit notify-from-reports", "congdoan.notify"), "notify's commit span")
        assert committed.context.trace_id == trace_id
        assert committed.parent is not None and committed.parent.span_id == notified.context.span_id
        assert [link.context.span_id for link in committed.links] == [notified.context.span_id]
        assert fanned.parent is not None and fanned.parent.span_id == committed.context.span_id
        async with notify.engine.connect() as conn:
            payloads = (await conn.execute(sa.text("SELECT payload FROM outbox WHERE subject = :s"),
                                           {"s": CREATED})).scalars().all()
        events: list[dict[str, Any]] = [json.loads(p) for p in payloads]
        assert events and all(ev["traceparent"].startswith(f"00-{trace_id:032x}-{committed.context.span_id:016x}-")
                              for ev in events)
        assert all(int(ev["traceparent"][-2:], 16) & 1 for ev in events)  # sampled
        assert notified.attributes is not None and notified.attributes["messaging.consumer.group.name"] == "notify-from-reports"
        assert served.attributes is not None and served.attributes["congdoan.outcome"] == "ok"


async def test_untraced_when_off(nc, nats_server, make_db_url):  # type: ignore[no-untyped-def]
    """Off (the default): no span is made, no event carries a trace context."""
    assert not tracing.enabled()
    async with running("plans", nats_server.url, await make_db_url("plans")) as plans:
        await call(nc, api("plans", "register_unit"), {
            "unit_id": "prov", "code": "LĐLĐ-BĐ", "name": "Liên đoàn Lao động tỉnh Bình Định",
            "kind": "provincial_federation"})
        async with plans.engine.connect() as conn:
            payload = (await conn.execute(sa.text("SELECT payload FROM outbox"))).scalar_one()
    assert "traceparent" not in json.loads(payload)
