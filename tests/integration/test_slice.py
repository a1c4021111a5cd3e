"""The thin slice through all four services, in-process, on a real nats-server and on SQLite and
PostgreSQL."""

from __future__ import annotations

import sqlalchemy as sa

from tests.conftest import wait_until
from tests.support import api, call, open_requirements, running


async def test_slice_register_submit_notify_eligibility(nc, nats_server, make_db_url):
    url = nats_server.url
    async with running("plans", url, await make_db_url("plans")) as plans, \
            running("reports", url, await make_db_url("reports")) as reports, \
            running("notify", url, await make_db_url("notify")) as notify, \
            running("awards", url, await make_db_url("awards")):
        h, prov = await call(nc, api("plans", "register_unit"), {
            "unit_id": "prov", "code": "LĐLĐ-BĐ", "name": "Liên đoàn Lao động tỉnh Bình Định",
            "kind": "provincial_federation"})
        assert "Nats-Service-Error" not in h, prov
        _, g = await call(nc, api("plans", "register_unit"), {
            "unit_id": "g1", "code": "CĐCS-1", "name": "Công đoàn cơ sở Công ty A", "kind": "grassroots_union",
            "parent_id": "prov"})
        assert g["parent_id"] == "prov"
        _, person = await call(nc, api("plans", "register_person"), {
            "person_id": "chair", "unit_id": "prov", "full_name": "Nguyễn Mạnh Hùng", "roles": ["chairperson"],
            "email": "chair@example.org"})
        assert person["roles"] == ["chairperson"]
        _, g1_chair = await call(nc, api("plans", "register_person"), {
            "person_id": "g1-chair", "unit_id": "g1", "full_name": "Trần Thị Lan", "roles": ["chairperson"]})
        assert g1_chair["unit_id"] == "g1"
        js = nc.jetstream()

        async def notify_knows_the_directory() -> bool:
            info = await js.consumer_info("CONGDOAN_PLANS", "notify-from-plans")
            return info.delivered.stream_seq >= 4 and info.num_ack_pending == 0

        # The chairperson must be in notify's projection before the report arrives through another stream.
        await wait_until(notify_knows_the_directory, what="notify to project the directory")
        await open_requirements(nc, ["annual"])

        async def reports_knows_g1() -> bool:
            h, body = await call(nc, api("reports", "submit_report"),
                                 {"report_id": "r-1", "requirement_id": "annual", "period": "2026", "unit_id": "g1",
                                  "values": {"study_sessions": 3}}, as_="g1-chair")
            return "Nats-Service-Error" not in h

        await wait_until(reports_knows_g1, what="reports to learn unit g1 from plans' events")

        async def notified() -> bool:
            _, page = await call(nc, api("notify", "list_inbox"), {}, as_="chair")
            return len(page["items"]) == 1

        await wait_until(notified, what="the chairperson's notification")
        _, page = await call(nc, api("notify", "list_inbox"), {}, as_="chair")
        item = page["items"][0]
        assert page["unread"] == 1
        assert item["kind"] == "report_submitted"
        assert "Công đoàn cơ sở Công ty A" in item["title"]
        assert item["link"] == "/reports/r-1"

        async def eligible() -> bool:
            _, e = await call(nc, api("awards", "get_eligibility"), {"unit_id": "g1", "period": "2026"}, as_="chair")
            return bool(e["eligible"])

        await wait_until(eligible, what="awards to see the on-time report")

        # The same report id again is a retry: no second event, no second notification.
        h, receipt = await call(nc, api("reports", "submit_report"),
                                {"report_id": "r-1", "requirement_id": "annual", "period": "2026", "unit_id": "g1"},
                                as_="g1-chair")
        assert receipt["duplicate"] is True
        await wait_until(lambda: _relay_idle(reports), what="reports' outbox drained")
        async with notify.engine.connect() as conn:
            n = (await conn.execute(sa.text("SELECT count(*) FROM notifications"))).scalar_one()
        assert n == 1
        async with plans.engine.connect() as conn:
            published = (await conn.execute(sa.text("SELECT count(*) FROM outbox WHERE published_at IS NOT NULL"))).scalar_one()
        assert published == 4


async def _relay_idle(rt) -> bool:  # type: ignore[no-untyped-def]
    return await rt.relay.pending() == 0
