"""The notify service in-process against a real nats-server, a real SMTP server (aiosmtpd) and a
real HTTP server (aiohttp) for webhooks, on SQLite and PostgreSQL.

Events of the other services are published here as they would be (CloudEvents, Nats-Msg-Id)."""

from __future__ import annotations

import asyncio
import json
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import nats.errors
import pytest
import sqlalchemy as sa
from aiohttp import web
from pydantic import BaseModel
from standardwebhooks import WebhookVerificationError

from contracts.catalogue import EVENTS_BY_TYPE
from contracts.envelope import build_event
from contracts.naming import parse_type
from runtime.clock import Clock, read_shared_offset, set_shared_time
from services.notify.mailcatcher import CatcherServer, MailStore
from tests.conftest import wait_until
from tests.support import FakeDns, api, call, running, verify_webhook

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
PUBLIC = "93.184.216.34"  # what fake names resolve to when saved; nothing here ever connects to it

FAST = {  # retries and pauses short enough for a test
    "CONGDOAN_NOTIFY_POLL_S": "0.05", "CONGDOAN_NOTIFY_BACKOFF_BASE_S": "0.2", "CONGDOAN_NOTIFY_BACKOFF_CAP_S": "1",
    "CONGDOAN_NOTIFY_CHANNEL_PAUSE_S": "0.2", "CONGDOAN_NOTIFY_CHANNEL_PAUSE_CAP_S": "0.5",
    "CONGDOAN_NOTIFY_EMAIL_RATE": "5000", "CONGDOAN_NOTIFY_EMAIL_BURST": "5000",
    "CONGDOAN_NOTIFY_WEBHOOK_RATE": "5000", "CONGDOAN_NOTIFY_WEBHOOK_BURST": "5000",
    "CONGDOAN_NOTIFY_MAX_ATTEMPTS": "3", "CONGDOAN_NOTIFY_SWEEP_S": "1",
    "CONGDOAN_NOTIFY_MAIL_DOMAIN": "test.congdoan", "CONGDOAN_NOTIFY_WEB_BASE_URL": "https://congdoan.example.vn",
    "CONGDOAN_NOTIFY_WEBHOOK_ALLOW": "127.0.0.1",  # the WebhookSink below: a local http receiver
}


# ------------------------------------------------------------------------------------- helpers
async def publish(js: Any, type_: str, data: dict[str, Any] | BaseModel, *, event_id: str | None = None,
                  msg_id: str | None = None, at: datetime | None = None) -> str:
    spec = EVENTS_BY_TYPE[type_]
    model = data if isinstance(data, BaseModel) else spec.model.model_validate(data)
    ev = build_event(type_=type_, source=f"/congdoan/{parse_type(type_)[0]}", data=model,
                     time=at or datetime.now(TZ), id_=event_id)
    await js.publish(spec.subject, json.dumps(ev, ensure_ascii=False).encode(),
                     headers={"Nats-Msg-Id": msg_id or ev["id"]})
    return str(ev["id"])


async def unit(js: Any, unit_id: str, name: str, kind: str = "grassroots_union", parent: str | None = None) -> None:
    await publish(js, "vn.congdoan.plans.unit.registered.v1",
                  {"unit_id": unit_id, "code": unit_id.upper(), "name": name, "kind": kind, "parent_id": parent,
                   "effective_from": "2020-01-01"})


async def person(js: Any, person_id: str, unit_id: str, name: str, roles: list[str], email: str | None = None) -> None:
    await publish(js, "vn.congdoan.plans.person.registered.v1",
                  {"person_id": person_id, "unit_id": unit_id, "full_name": name, "roles": roles, "email": email})


async def scalar(rt: Any, sql: str, **params: Any) -> Any:
    async with rt.engine.connect() as conn:
        return (await conn.execute(sa.text(sql), params)).scalar_one()


async def rows(rt: Any, sql: str, **params: Any) -> list[Any]:
    async with rt.engine.connect() as conn:
        return list((await conn.execute(sa.text(sql), params)).all())


def holds(rt: Any, sql: str, expected: int, **params: Any):  # type: ignore[no-untyped-def]
    async def check() -> bool:
        return int(await scalar(rt, sql, **params)) == expected
    return check


async def inbox(nc: Any, person_id: str, **kw: Any) -> dict[str, Any]:
    """`person_id`'s own inbox, read with their token."""
    kw.pop("actor_id", None)
    h, page = await call(nc, api("notify", "list_inbox"), kw, as_=person_id)
    assert "Nats-Service-Error" not in h, page
    return page


async def notify_events(js: Any, rt: Any = None) -> list[dict[str, Any]]:
    """Every event notify published so far (notification.sent / .failed), once `rt`'s outbox is empty."""
    if rt is not None:
        async def relayed() -> bool:
            return await rt.relay.pending() == 0
        await wait_until(relayed, what="notify's outbox relayed")
    try:
        info = await js.stream_info("CONGDOAN_NOTIFY")
    except Exception:
        return []
    out = []
    for seq in range(info.state.first_seq, info.state.last_seq + 1):
        if info.state.messages == 0:
            break
        try:
            out.append(json.loads((await js.get_msg("CONGDOAN_NOTIFY", seq)).data))
        except nats.errors.Error:
            continue
    return out


def deadline(n: int, unit_id: str, *, due: date = date(2026, 11, 30), days_before: int = 7) -> dict[str, Any]:
    return {"occurrence_id": f"occ-{n}", "plan_id": "plan-11", "item_id": "item-3", "unit_id": unit_id,
            "period": "2026", "content": f"Gửi báo cáo kết quả học tập và làm theo tư tưởng Hồ Chí Minh số {n}",
            "due_date": due.isoformat(), "days_before": days_before}


class WebhookSink:
    """A real HTTP server receiving webhooks: checks each signature with the person's secret using
    the stock Standard Webhooks verifier, on a clock that agrees with the stack's shared clock (as a
    receiver's agrees with its sender's), and keeps the first body of each webhook-id."""

    def __init__(self) -> None:
        self.secrets: dict[str, str] = {}
        self.status: dict[str, int] = {}  # path name -> forced status
        self.received: dict[str, dict[str, Any]] = {}
        self.headers: dict[str, dict[str, str]] = {}  # webhook-id -> headers of its first call
        self.raw: dict[str, bytes] = {}  # webhook-id -> body of its first call, as sent
        self.clock = Clock()
        self.duplicates = 0
        self.bad_signatures = 0
        self.calls = 0
        self.delay_s = 0.0
        self._runner: web.AppRunner | None = None
        self.port = 0

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/{name}"

    async def start(self, js: Any) -> None:
        self.clock = Clock(await read_shared_offset(js))
        app = web.Application()
        app.router.add_post("/hooks/{name}", self.handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def stop(self) -> None:
        if self._runner:
            await self._runner.cleanup()

    async def handle(self, request: web.Request) -> web.Response:
        self.calls += 1
        name = request.match_info["name"]
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        if name in self.status:
            return web.Response(status=self.status[name])
        body = await request.read()
        try:
            parsed = verify_webhook(self.secrets.get(name, "whsec_"), body, request.headers, self.clock.now())
        except Exception:  # WebhookVerificationError, or a secret that is not one
            self.bad_signatures += 1
            return web.Response(status=401)
        key = request.headers["webhook-id"]
        if key in self.received:
            self.duplicates += 1
        else:
            self.received[key] = parsed
            self.headers[key] = dict(request.headers)
            self.raw[key] = body
        return web.Response(status=204)


async def set_webhook(nc: Any, sink: WebhookSink, person_id: str) -> None:
    h, prefs = await call(nc, api("notify", "set_preferences"),
                          {"webhook_url": sink.url(person_id)}, as_=person_id)
    assert "Nats-Service-Error" not in h, prefs
    assert prefs["webhook_secret"].startswith("whsec_") and prefs["webhook_secret_set"] is True
    sink.secrets[person_id] = prefs["webhook_secret"]


@pytest.fixture
def fast(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> pytest.MonkeyPatch:
    for k, v in FAST.items():
        monkeypatch.setenv(k, v)
    monkeypatch.setenv("CONGDOAN_NOTIFY_SECRETS_KEY_FILE", str(tmp_path / "secrets" / "notify-webhook.key"))
    return monkeypatch


def fake_dns(rt: Any, table: dict[str, list[str]]) -> FakeDns:
    """Names the running notify resolves as the test says (no DNS here): its webhook guard, for
    saving and for connecting, asks this resolver."""
    dns = FakeDns(table)
    rt.wiring.parts["webhooks"].guard.resolver = dns
    return dns


# --------------------------------------------------------------------------------------- tests
async def test_every_kind_reaches_its_recipients_in_vietnamese(nc, nats_server, make_db_url, fast):
    js = nc.jetstream()
    async with running("notify", nats_server.url, await make_db_url("notify")) as rt:
        await unit(js, "prov", "Liên đoàn Lao động tỉnh Bình Định", "provincial_federation")
        await unit(js, "tgnc", "Ban Tuyên giáo - Nữ công", "department", "prov")
        await unit(js, "g1", "Công đoàn cơ sở Công ty May 10", parent="prov")
        await unit(js, "g2", "Công đoàn cơ sở Trường THPT Quy Nhơn", parent="prov")
        await person(js, "chair", "prov", "Nguyễn Mạnh Hùng", ["chairperson"])
        await person(js, "exec", "prov", "Trần Văn Bình", ["executive_member"])
        await person(js, "tg", "tgnc", "Lê Thị Thu", ["head_of_unit"])
        await person(js, "g1c", "g1", "Nguyễn Thị Hồng Nhung", ["chairperson"])
        await person(js, "g1m", "g1", "Phạm Văn Mạnh", ["member"])
        await person(js, "g2e", "g2", "Võ Thị Lan", ["executive_member", "member"])  # no contact role: fallback
        await wait_until(holds(rt, "SELECT count(*) FROM dir_people", 6), what="the directory projected")

        ev = {}
        ev["plan_issued"] = await publish(js, "vn.congdoan.plans.plan.issued.v1", {
            "plan_id": "plan-11", "revision": 1, "number": "11-KH/LĐLĐ", "title": "Thực hiện Kết luận số 01-KL/TW",
            "issuer_unit_id": "prov", "issued_on": "2021-10-18", "items": [
                {"item_id": "i1", "section": "II.1", "content": "Xây dựng kế hoạch thực hiện", "output": "plan",
                 "timing": {"kind": "yearly_by_month", "month": 12},
                 "responsible": [{"kind": "units_of_kind", "unit_kinds": ["grassroots_union"]}]},
                {"item_id": "i2", "section": "IV.1.1", "content": "Tham mưu hướng dẫn", "output": "guidance",
                 "timing": {"kind": "once_by_quarter", "year": 2021, "quarter": 4},
                 "responsible": [{"kind": "department", "code": "TGNC"}]},
                {"item_id": "i3", "section": "II.1", "content": "Kế hoạch cá nhân", "output": "individual_plan",
                 "timing": {"kind": "yearly_by_month", "month": 12},
                 "responsible": [{"kind": "people_of_role", "roles": ["executive_member"]}]}],
            # plans' answer for i3: the units of the issuer's subtree with executive members
            "role_holders": [{"unit_id": "prov", "roles": ["executive_member"]},
                             {"unit_id": "g2", "roles": ["executive_member"]}]})
        ev["tasks_assigned"] = await publish(js, "vn.congdoan.plans.tasks.assigned.v1", {
            "plan_id": "plan-11", "revision": 1, "plan_number": "11-KH/LĐLĐ", "unit_id": "g1", "occurrences": [
                {"occurrence_id": "o1", "item_id": "i1", "period": "2026", "due_date": "2026-12-31", "output": "plan",
                 "content": "Xây dựng kế hoạch thực hiện"},
                {"occurrence_id": "o2", "item_id": "i4", "period": "2026", "due_date": None, "output": "posts",
                 "content": "Đưa tin, bài lên trang thông tin điện tử"}]})
        ev["deadline_approaching"] = await publish(js, "vn.congdoan.plans.deadline.approaching.v1", deadline(1, "g1"))
        ev["deadline_missed"] = await publish(js, "vn.congdoan.plans.deadline.missed.v1", {
            **{k: v for k, v in deadline(2, "g1").items() if k != "days_before"},
            "detected_at": "2026-12-01T00:05:00+07:00"})
        ev["implementation_plan_registered"] = await publish(js, "vn.congdoan.plans.implementation_plan.registered.v1", {
            "plan_id": "plan-g1", "parent_plan_id": "plan-11", "unit_id": "g1", "number": "05-KH/CĐCS",
            "registered_on": "2021-12-20", "on_time": True})
        await publish(js, "vn.congdoan.reports.requirement.opened.v1", {
            "requirement_id": "req-2026", "name": "Báo cáo kết quả thực hiện Kết luận 01-KL/TW năm 2026",
            "issuer_unit_id": "prov", "receiving_unit_id": "prov", "reporting_kinds": ["grassroots_union"],
            "period": "2026", "due_date": "2026-11-30", "form_id": "f1", "form_version": 1})
        ev["report_submitted"] = await publish(js, "vn.congdoan.reports.report.submitted.v1", {
            "report_id": "r-g1", "requirement_id": "req-2026", "period": "2026", "unit_id": "g1",
            "receiving_unit_id": "prov", "revision": 1, "submitted_at": "2026-12-02T09:30:00+07:00",
            "due_date": "2026-11-30", "on_time": False})
        ev["report_returned"] = await publish(js, "vn.congdoan.reports.report.returned.v1", {
            "report_id": "r-g1", "requirement_id": "req-2026", "period": "2026", "unit_id": "g1", "by_unit_id": "prov",
            "revision": 1, "comment": "Bổ sung số liệu đoàn viên có kế hoạch cá nhân.",
            "returned_at": "2026-12-03T08:00:00+07:00"})
        ev["report_accepted"] = await publish(js, "vn.congdoan.reports.report.accepted.v1", {
            "report_id": "r-g1", "requirement_id": "req-2026", "period": "2026", "unit_id": "g1", "by_unit_id": "prov",
            "revision": 2, "on_time": False, "accepted_at": "2026-12-05T08:00:00+07:00"})
        ev["report_deadline_approaching"] = await publish(js, "vn.congdoan.reports.report.deadline_approaching.v1", {
            "requirement_id": "req-2026", "period": "2026-Q4", "unit_id": "g2", "receiving_unit_id": "prov",
            "name": "Báo cáo quý", "due_date": "2026-12-31", "days_before": 1})
        ev["report_overdue"] = await publish(js, "vn.congdoan.reports.report.overdue.v1", {
            "requirement_id": "req-2026", "period": "2026", "unit_id": "g2", "receiving_unit_id": "prov",
            "name": "Báo cáo kết quả năm 2026", "due_date": "2026-11-30"})
        ev["award_round_opened"] = await publish(js, "vn.congdoan.awards.round.opened.v1", {
            "round_id": "round-2026", "name": "Khen thưởng Tháng Công nhân 2026", "level": "tỉnh",
            "issuer_unit_id": "prov", "opens_on": "2026-05-01", "closes_on": "2026-05-31",
            "forms": ["Bằng khen", "Giấy khen"]})
        ev["nomination_submitted"] = await publish(js, "vn.congdoan.awards.nomination.submitted.v1", {
            "nomination_id": "nom-1", "round_id": "round-2026", "by_unit_id": "g1", "nominee_kind": "individual",
            "nominee_id": "g1m", "form": "Bằng khen", "eligible": True})
        ev["nomination_decided"] = await publish(js, "vn.congdoan.awards.nomination.decided.v1", {
            "nomination_id": "nom-1", "round_id": "round-2026", "nominee_kind": "individual", "nominee_id": "g1m",
            "result": "approved", "form": "Bằng khen", "decided_on": "2026-05-25"})
        ev["award_granted"] = await publish(js, "vn.congdoan.awards.award.granted.v1", {
            "award_id": "aw-1", "round_id": "round-2026", "decision_number": "125/QĐ-LĐLĐ",
            "decision_date": "2026-05-28", "signer": "Chủ tịch LĐLĐ tỉnh", "nominee_kind": "individual",
            "nominee_id": "g1m", "unit_id": "g1", "form": "Bằng khen"})

        expected = {  # kind -> who is told
            "plan_issued": {"exec", "g2e"},  # plans' role_holders; the units hear of their work from tasks.assigned
            "tasks_assigned": {"g1c"},
            "deadline_approaching": {"g1c"},
            "deadline_missed": {"g1c", "chair"},
            "implementation_plan_registered": {"chair"},
            "report_submitted": {"chair"},
            "report_returned": {"g1c"},
            "report_accepted": {"g1c"},
            "report_deadline_approaching": {"g2e"},
            "report_overdue": {"g2e", "chair"},
            "award_round_opened": {"g1c", "g2e", "tg"},
            "nomination_submitted": {"chair"},
            "nomination_decided": {"g1m", "g1c"},
            "award_granted": {"g1m", "g1c"},
        }
        total = sum(len(v) for v in expected.values())
        await wait_until(holds(rt, "SELECT count(*) FROM notifications", total), what=f"{total} notifications")
        got: dict[str, set[str]] = {}
        for kind, who in await rows(rt, "SELECT kind, recipient_id FROM notifications"):
            got.setdefault(kind, set()).add(who)
        assert got == expected
        assert await scalar(rt, "SELECT count(*) FROM deliveries") == 0  # no SMTP configured, no webhooks set
        assert await scalar(rt, "SELECT count(*) FROM held_events") == 0

        page = await inbox(nc, "g1c")
        by_kind = {i["kind"]: i for i in page["items"]}
        assert page["unread"] == len(page["items"]) == 8
        assert by_kind["deadline_approaching"]["title"].startswith("Còn 7 ngày: Gửi báo cáo kết quả")
        assert "(hạn 30/11/2026)" in by_kind["deadline_approaching"]["title"]
        assert "Kế hoạch số 11-KH/LĐLĐ" in by_kind["deadline_approaching"]["body"]
        assert by_kind["deadline_approaching"]["link"] == "/plans/plan-11/tasks/occ-1"
        assert by_kind["tasks_assigned"]["title"] == "Công đoàn cơ sở Công ty May 10 được giao 2 nhiệm vụ theo Kế hoạch số 11-KH/LĐLĐ"
        assert "hạn 31/12/2026" in by_kind["tasks_assigned"]["body"] and "thực hiện thường xuyên" in by_kind["tasks_assigned"]["body"]
        assert "plan_issued" not in by_kind  # the unit's notice of the plan is its tasks_assigned
        issued = {i["kind"]: i for i in (await inbox(nc, "exec"))["items"]}["plan_issued"]
        assert issued["title"] == "Kế hoạch mới số 11-KH/LĐLĐ: Thực hiện Kết luận số 01-KL/TW"
        assert "18/10/2021" in issued["body"] and issued["link"] == "/plans/plan-11"
        assert "Bổ sung số liệu" in by_kind["report_returned"]["body"] and by_kind["report_returned"]["link"] == "/reports/r-g1"
        assert by_kind["award_granted"]["title"] == "Phạm Văn Mạnh được tặng Bằng khen"
        assert "125/QĐ-LĐLĐ ngày 28/05/2026" in by_kind["award_granted"]["body"]
        assert by_kind["nomination_decided"]["title"] == "Kết quả xét khen thưởng Phạm Văn Mạnh: được chấp thuận"
        chair = {i["kind"]: i for i in (await inbox(nc, "chair"))["items"]}
        assert chair["report_submitted"]["title"] == "Công đoàn cơ sở Công ty May 10 đã gửi báo cáo năm 2026"
        assert "“Báo cáo kết quả thực hiện Kết luận 01-KL/TW năm 2026”" in chair["report_submitted"]["body"]
        assert "09:30 ngày 02/12/2026 (trễ hạn, hạn 30/11/2026)" in chair["report_submitted"]["body"]
        assert chair["report_overdue"]["link"] == "/reports/requirements/req-2026/2026/g2"
        g2e = {i["kind"]: i for i in (await inbox(nc, "g2e"))["items"]}
        assert g2e["report_deadline_approaching"]["title"].startswith("Còn 1 ngày gửi báo cáo “Báo cáo quý”")
        assert "quý IV/2026" in g2e["report_deadline_approaching"]["body"]
        assert await scalar(rt, "SELECT count(*) FROM notifications WHERE recipient_id = 'g1m'") == 2  # a member: only about themself


async def test_inbox_preferences_and_delivery_log_requests(nc, nats_server, make_db_url, fast):
    js = nc.jetstream()
    async with running("notify", nats_server.url, await make_db_url("notify")) as rt:
        await unit(js, "g1", "Công đoàn cơ sở Công ty A")
        await person(js, "a", "g1", "Nguyễn Văn A", ["chairperson"], "a@example.org")
        await person(js, "b", "g1", "Trần Thị B", ["cadre"])
        await person(js, "m", "g1", "Lý Văn M", ["member"])
        for i in range(5):
            await publish(js, "vn.congdoan.plans.deadline.approaching.v1", deadline(i, "g1"),
                          at=datetime(2026, 11, 1, 8, tzinfo=TZ) + timedelta(minutes=i))
        await wait_until(holds(rt, "SELECT count(*) FROM notifications", 10), what="10 notifications")

        page = await inbox(nc, "a", actor_id="a", page={"limit": 2})
        assert [i["notification_id"] for i in page["items"]] == sorted((i["notification_id"] for i in page["items"]), reverse=True)
        assert page["unread"] == 5 and len(page["items"]) == 2 and page["next_cursor"]
        seen = [i["notification_id"] for i in page["items"]]
        while page["next_cursor"]:
            page = await inbox(nc, "a", page={"limit": 2, "cursor": page["next_cursor"]})
            seen += [i["notification_id"] for i in page["items"]]
        assert len(seen) == len(set(seen)) == 5
        assert "Còn 7 ngày" in (await inbox(nc, "a"))["items"][-1]["title"]  # oldest last

        # a person reads only their own inbox: no request can name another person's
        for endpoint, body in [("list_inbox", {"person_id": "a"}), ("unread_count", {"person_id": "a"}),
                               ("mark_read", {"person_id": "a", "all": True}), ("get_preferences", {"person_id": "a"}),
                               ("set_preferences", {"person_id": "a", "email": "off"})]:
            h, err = await call(nc, api("notify", endpoint), body, as_="b")
            assert h.get("Nats-Service-Error-Code") == "422", (endpoint, err)
            assert err["error"]["details"][0]["field"] == "person_id"
        h, err = await call(nc, api("notify", "delivery_log"), {"person_id": "a"}, as_="m")
        assert h.get("Nats-Service-Error-Code") == "403", err
        assert err["error"]["code"] == "forbidden"
        for endpoint in ("list_inbox", "unread_count", "get_preferences"):  # and no machine identity reads inboxes
            h, err = await call(nc, api("notify", endpoint), {})
            assert h.get("Nats-Service-Error-Code") == "403", (endpoint, err)

        h, marked = await call(nc, api("notify", "mark_read"), {"actor_id": "a",
                                                                "notification_ids": seen[:2]})
        assert marked == {"marked": 2, "unread": 3}
        h, again = await call(nc, api("notify", "mark_read"), {"actor_id": "a",
                                                               "notification_ids": seen[:2]})
        assert again == {"marked": 0, "unread": 3}
        bs = [i["notification_id"] for i in (await inbox(nc, "b"))["items"]]
        h, err = await call(nc, api("notify", "mark_read"), {"actor_id": "a",
                                                             "notification_ids": [seen[2], bs[0]]})
        assert h["Nats-Service-Error-Code"] == "404" and err["error"]["details"][0]["field"] == "notification_ids.1"
        h, err = await call(nc, api("notify", "mark_read"), {"actor_id": "a"})
        assert h["Nats-Service-Error-Code"] == "422" and err["error"]["details"][0]["field"] == "notification_ids"
        _, count = await call(nc, api("notify", "unread_count"), {"actor_id": "a"})
        assert count == {"person_id": "a", "unread": 3}
        assert (await inbox(nc, "a", unread_only=True))["items"][0]["read"] is False
        _, marked = await call(nc, api("notify", "mark_read"), {"actor_id": "a", "all": True})
        assert marked == {"marked": 3, "unread": 0}

        # preferences
        _, prefs = await call(nc, api("notify", "get_preferences"), {"actor_id": "a"})
        assert prefs["email"] == "auto" and prefs["directory_email"] == "a@example.org"
        assert prefs["webhook_secret_set"] is False and prefs["digest_hour"] == 7
        h, prefs = await call(nc, api("notify", "set_preferences"), {
            "actor_id": "a", "email": "digest", "email_address": "a.nguyen@example.org",
            "email_overrides": {"deadline_missed": "immediate"}, "muted_kinds": ["award_round_opened"]})
        assert "Nats-Service-Error" not in h, prefs
        assert (prefs["email"], prefs["email_address"], prefs["email_overrides"], prefs["muted_kinds"]) == \
            ("digest", "a.nguyen@example.org", {"deadline_missed": "immediate"}, ["award_round_opened"])
        _, prefs = await call(nc, api("notify", "set_preferences"), {"actor_id": "a",
                                                                     "email_address": None})
        assert prefs["email_address"] is None and prefs["email"] == "digest"  # the rest kept
        h, err = await call(nc, api("notify", "set_preferences"), {"actor_id": "a",
                                                                   "webhook_url": "ftp://example.org/x"})
        assert h["Nats-Service-Error-Code"] == "422" and err["error"]["details"][0]["field"] == "webhook_url"
        h, err = await call(nc, api("notify", "set_preferences"), {"actor_id": "a",
                                                                   "email_overrides": {"no_such_kind": "off"}})
        assert h["Nats-Service-Error-Code"] == "422", err
        h, err = await call(nc, api("notify", "set_preferences"), {"actor_id": "a",
                                                                   "rotate_webhook_secret": True})
        assert h["Nats-Service-Error-Code"] == "422" and err["error"]["details"][0]["field"] == "rotate_webhook_secret"
        h, err = await call(nc, api("notify", "get_preferences"), {"actor_id": "zz"})
        assert h["Nats-Service-Error-Code"] == "403", err
        fake_dns(rt, {"hooks.example.org": [PUBLIC]})
        _, prefs = await call(nc, api("notify", "set_preferences"), {"actor_id": "a",
                                                                     "webhook_url": "https://hooks.example.org/a"})
        first = prefs["webhook_secret"]
        _, prefs = await call(nc, api("notify", "set_preferences"), {"actor_id": "a",
                                                                     "rotate_webhook_secret": True})
        assert prefs["webhook_secret"] not in (None, first)
        _, prefs = await call(nc, api("notify", "get_preferences"), {"actor_id": "a"})
        assert prefs["webhook_secret"] is None and prefs["webhook_secret_set"] is True  # never shown again
        # Every change is an event saying what changed, never an address or a secret (issue 13 §9).
        changes = [e["data"] for e in await notify_events(js, rt) if e["type"] == "vn.congdoan.notify.preferences.changed.v1"]
        assert [c["changed"] for c in changes] == [["email", "email_address", "email_overrides", "muted_kinds"],
                                                   ["email_address"], ["webhook_url", "webhook_secret"],
                                                   ["webhook_secret"]]
        assert changes[-1] == {"person_id": "a", "changed": ["webhook_secret"], "email": "digest",
                               "muted_kinds": ["award_round_opened"], "webhook": True}
        assert "example.org" not in json.dumps(changes)

        # the delivery log: the person, or the administrators of their unit
        _, log = await call(nc, api("notify", "delivery_log"), {"actor_id": "a"})
        assert log == {"items": [], "next_cursor": None}
        h, err = await call(nc, api("notify", "delivery_log"), {"actor_id": "a", "channel": "fax"})
        assert h["Nats-Service-Error-Code"] == "422" and err["error"]["details"][0]["field"] == "channel"


async def test_events_before_the_directory_are_held_then_delivered(nc, nats_server, make_db_url, fast):
    js = nc.jetstream()
    async with running("notify", nats_server.url, await make_db_url("notify")) as rt:
        # The report comes before notify has heard of either unit or anyone in them.
        await publish(js, "vn.congdoan.reports.report.submitted.v1", {
            "report_id": "r-early", "requirement_id": "req", "period": "2026", "unit_id": "g9",
            "receiving_unit_id": "prov", "revision": 1, "submitted_at": "2026-11-20T09:00:00+07:00", "on_time": True})
        await publish(js, "vn.congdoan.plans.deadline.missed.v1", {
            **{k: v for k, v in deadline(1, "g9").items() if k != "days_before"}, "detected_at": "2026-12-01T00:00:00+07:00"})
        await wait_until(holds(rt, "SELECT count(*) FROM held_events", 3), what="three targets held")
        assert await scalar(rt, "SELECT count(*) FROM notifications") == 0
        await unit(js, "prov", "Liên đoàn Lao động tỉnh", "provincial_federation")
        await unit(js, "g9", "Công đoàn cơ sở số 9", parent="prov")
        await person(js, "p9", "g9", "Đặng Văn Chín", ["chairperson"])
        # g9's own contact arrives first; the report and the parent's copy wait for prov's people.
        await wait_until(holds(rt, "SELECT count(*) FROM notifications", 1), what="g9's chairperson told")
        assert {h.target_kind + ":" + h.target_id for h in await rows(rt, "SELECT * FROM held_events")} == \
            {"unit:prov"}  # the parent target now waits on the parent unit itself
        await person(js, "chair", "prov", "Nguyễn Mạnh Hùng", ["chairperson"])
        await wait_until(holds(rt, "SELECT count(*) FROM notifications", 3), what="everyone told")
        assert await scalar(rt, "SELECT count(*) FROM held_events") == 0
        chair = await inbox(nc, "chair")
        assert {i["kind"] for i in chair["items"]} == {"report_submitted", "deadline_missed"}
        assert any(i["title"] == "Công đoàn cơ sở số 9 đã gửi báo cáo năm 2026" for i in chair["items"])


async def test_email_and_webhook_exactly_once_under_redelivery_and_replay(nc, nats_server, make_db_url, fast):
    js = nc.jetstream()
    store = MailStore()
    smtp = CatcherServer(store, port=0)
    await smtp.start()
    hooks = WebhookSink()
    await hooks.start(js)
    fast.setenv("CONGDOAN_NOTIFY_SMTP_URL", smtp.url)
    try:
        async with running("notify", nats_server.url, await make_db_url("notify")) as rt:
            await unit(js, "g1", "Công đoàn cơ sở Công ty A")
            await person(js, "a", "g1", "Nguyễn Thị Ánh", ["chairperson"], "anh@example.org")
            await person(js, "b", "g1", "Trần Văn Bảo", ["cadre"], "bao@example.org")
            await wait_until(holds(rt, "SELECT count(*) FROM dir_people", 2), what="the directory")
            await set_webhook(nc, hooks, "a")
            ids = [await publish(js, "vn.congdoan.plans.deadline.approaching.v1", deadline(i, "g1")) for i in range(3)]
            # the same events again, as a producer retrying with new Nats-Msg-Ids
            for i, eid in enumerate(ids):
                await publish(js, "vn.congdoan.plans.deadline.approaching.v1", deadline(i, "g1"), event_id=eid,
                              msg_id=f"retry-{i}")
            # 3 events x 2 people: 6 e-mails, 3 webhook calls (only a has a webhook)
            await wait_until(holds(rt, "SELECT count(*) FROM deliveries WHERE status = 'sent'", 9), what="9 sent")
            await wait_until(lambda: _true(len(store.ids) == 6 and len(hooks.received) == 3), what="6 mails, 3 hooks")
            # beyond the inbox's memory: forget the consumer's inbox and replay all three once more
            async with rt.engine.begin() as conn:
                await conn.execute(sa.text("DELETE FROM inbox"))
            for i, eid in enumerate(ids):
                await publish(js, "vn.congdoan.plans.deadline.approaching.v1", deadline(i, "g1"), event_id=eid,
                              msg_id=f"replay-{i}")
            await wait_until(holds(rt, "SELECT count(*) FROM inbox WHERE consumer = 'notify-from-plans' "
                                       "AND event_type LIKE '%deadline%'", 3), what="the replay handled")
            assert await scalar(rt, "SELECT count(*) FROM notifications") == 6
            assert await scalar(rt, "SELECT count(*) FROM deliveries") == 9
            assert store.accepted == 6 and store.duplicates == 0
            assert hooks.duplicates == 0 and hooks.bad_signatures == 0 and hooks.calls == 3

            # what arrived: Message-ID from the delivery, Vietnamese text, absolute link
            mid = next(iter(store.messages))
            assert mid.endswith("@test.congdoan>") and mid.startswith("<n-")
            from email import message_from_bytes
            from email.policy import default
            msg = message_from_bytes(store.messages[mid], policy=default)
            assert msg["Subject"].startswith("[Công đoàn] Còn 7 ngày: Gửi báo cáo kết quả học tập")
            text = msg.get_body(("plain",)).get_content()
            assert "Kính gửi đồng chí" in text and "hạn 30/11/2026" in text
            assert "https://congdoan.example.vn/plans/plan-11/tasks/occ-" in text
            body = next(iter(hooks.received.values()))
            assert body["kind"] == "deadline_approaching" and body["url"].startswith("https://congdoan.example.vn/plans/")

            events = await notify_events(js, rt)
            sent = [e for e in events if e["type"] == "vn.congdoan.notify.notification.sent.v1"]
            assert len(sent) == 9
            assert len({(e["data"]["notification_id"], e["data"]["channel"]) for e in sent}) == 9
            _, log = await call(nc, api("notify", "delivery_log"), {"actor_id": "a"})
            assert {(i["channel"], i["status"]) for i in log["items"]} == {("email", "sent"), ("webhook", "sent")}
            assert len(log["items"]) == 6
            _, log = await call(nc, api("notify", "delivery_log"), {"actor_id": "a", "person_id": "b"})  # g1's chair
            assert len(log["items"]) == 3
            h, _ = await call(nc, api("notify", "delivery_log"), {"actor_id": "b", "person_id": "a"})  # a cadre: no
            assert h["Nats-Service-Error-Code"] == "403"
    finally:
        await smtp.stop()
        await hooks.stop()


async def _true(value: bool) -> bool:
    return value


async def test_permanent_failures_are_parked_with_their_reason(nc, nats_server, make_db_url, fast):
    js = nc.jetstream()
    store = MailStore(reject=["gone@example.org"])
    smtp = CatcherServer(store, port=0)
    await smtp.start()
    hooks = WebhookSink()
    await hooks.start(js)
    fast.setenv("CONGDOAN_NOTIFY_SMTP_URL", smtp.url)
    try:
        async with running("notify", nats_server.url, await make_db_url("notify")) as rt:
            await unit(js, "g1", "Công đoàn cơ sở Công ty A")
            await person(js, "gone", "g1", "Người Đã Nghỉ", ["chairperson"], "gone@example.org")
            await person(js, "flaky", "g1", "Người Có Webhook Hỏng", ["cadre"])
            await person(js, "moved", "g1", "Người Đổi Webhook", ["cadre"])
            await wait_until(holds(rt, "SELECT count(*) FROM dir_people", 3), what="the directory")
            await set_webhook(nc, hooks, "flaky")
            await set_webhook(nc, hooks, "moved")
            hooks.status.update({"flaky": 503, "moved": 410})
            await publish(js, "vn.congdoan.plans.deadline.approaching.v1", deadline(1, "g1"))
            await wait_until(holds(rt, "SELECT count(*) FROM deliveries WHERE status = 'failed'", 3),
                             what="three deliveries parked")
            parked = {r.recipient_id: r for r in await rows(rt, "SELECT * FROM deliveries")}
            assert parked["gone"].attempts == 1 and "550" in parked["gone"].last_error
            assert parked["moved"].attempts == 1 and "HTTP 410" in parked["moved"].last_error
            assert parked["flaky"].attempts == 3 and parked["flaky"].last_error.startswith("gave up after 3 attempts")
            assert "HTTP 503" in parked["flaky"].last_error
            failed = [e["data"] for e in await notify_events(js, rt) if e["type"].endswith("notification.failed.v1")]
            assert sorted((f["recipient_id"], f["permanent"], f["attempts"]) for f in failed) == [
                ("flaky", False, 1), ("flaky", True, 3), ("gone", True, 1), ("moved", True, 1)]
            assert store.accepted == 0 and store.refused == 1
            _, log = await call(nc, api("notify", "delivery_log"), {"actor_id": "gone",
                                                                    "status": "failed"})
            assert log["items"][0]["last_error"].startswith("SMTP 550")
    finally:
        await smtp.stop()
        await hooks.stop()


async def test_the_delivery_log_reads_on_the_one_clock(nc, nats_server, make_db_url, fast):
    """Issue 13 §10: a retry waits in real time (the webhook server's), but the delivery log shows
    when it is due on the stack's clock, as its created_at — not a moment weeks away from it."""
    js = nc.jetstream()
    hooks = WebhookSink()
    await hooks.start(js)
    fast.setenv("CONGDOAN_NOTIFY_BACKOFF_BASE_S", "600")
    fast.setenv("CONGDOAN_NOTIFY_BACKOFF_CAP_S", "3600")
    fast.setenv("CONGDOAN_NOTIFY_MAX_ATTEMPTS", "5")
    try:
        async with running("notify", nats_server.url, await make_db_url("notify")) as rt:
            await unit(js, "g1", "Công đoàn cơ sở Công ty A")
            await person(js, "flaky", "g1", "Người Có Webhook Hỏng", ["chairperson"])
            await wait_until(holds(rt, "SELECT count(*) FROM dir_people", 1), what="the directory")
            await set_webhook(nc, hooks, "flaky")
            hooks.status["flaky"] = 503
            await publish(js, "vn.congdoan.plans.deadline.approaching.v1", deadline(1, "g1"))
            await wait_until(holds(rt, "SELECT count(*) FROM deliveries WHERE attempts = 1", 1),
                             what="the first attempt refused")
            _, log = await call(nc, api("notify", "delivery_log"), {"actor_id": "flaky", "channel": "webhook"})
            [item] = log["items"]
            assert (item["status"], item["attempts"]) == ("pending", 1)
            created = datetime.fromisoformat(item["created_at"])
            retry = datetime.fromisoformat(item["next_attempt_at"])
            now = rt.clock.now()
            assert abs((created - now).total_seconds()) < 120  # created on the stack's clock…
            assert timedelta(seconds=60) < retry - created < timedelta(hours=1)  # …and the retry due on it too
    finally:
        await hooks.stop()


async def test_smtp_outage_then_recovery_delivers_everything_once(nc, nats_server, make_db_url, fast):
    js = nc.jetstream()
    store = MailStore(delay_s=0.01)
    smtp = CatcherServer(store, port=0)
    await smtp.start()
    fast.setenv("CONGDOAN_NOTIFY_SMTP_URL", smtp.url)
    fast.setenv("CONGDOAN_NOTIFY_SMTP_CONNECTIONS", "2")
    try:
        async with running("notify", nats_server.url, await make_db_url("notify")) as rt:
            await unit(js, "g1", "Công đoàn cơ sở Công ty A")
            for i in range(4):
                await person(js, f"p{i}", "g1", f"Cán bộ số {i}", ["cadre"], f"p{i}@example.org")
            await wait_until(holds(rt, "SELECT count(*) FROM dir_people", 4), what="the directory")
            for i in range(30):
                await publish(js, "vn.congdoan.plans.deadline.approaching.v1", deadline(i, "g1"))
            await wait_until(lambda: _true(store.accepted >= 10), what="some mail through")
            await smtp.stop()  # the mail server goes away mid-stream, sessions and all
            await wait_until(lambda: _outage_seen(rt), what="the outage noticed")
            assert await scalar(rt, "SELECT count(*) FROM deliveries WHERE status = 'failed'") == 0
            assert await scalar(rt, "SELECT max(attempts) FROM deliveries WHERE status = 'pending'") == 0
            await asyncio.sleep(0.5)  # the outage lasts a while (several pauses of the channel)
            smtp = CatcherServer(store, port=smtp.port)
            await smtp.start()
            await wait_until(holds(rt, "SELECT count(*) FROM deliveries WHERE status = 'sent'", 120), timeout=30,
                             what="all 120 e-mails sent after recovery")
            assert len(store.ids) == 120  # every Message-ID arrived…
            assert store.accepted == 120  # …and was kept once (repeats of an interrupted send are dropped)
            sent = [e for e in await notify_events(js, rt) if e["type"].endswith("notification.sent.v1")]
            assert len(sent) == 120
            assert not [e for e in await notify_events(js, rt) if e["type"].endswith("notification.failed.v1")]
    finally:
        await smtp.stop()


async def _outage_seen(rt: Any) -> bool:
    n = await scalar(rt, "SELECT count(*) FROM deliveries WHERE status = 'pending' AND last_error LIKE '%unreachable%'")
    return int(n) > 0


async def test_daily_digest_groups_per_recipient_and_day(nc, nats_server, make_db_url, fast):
    js = nc.jetstream()
    store = MailStore()
    smtp = CatcherServer(store, port=0)
    await smtp.start()
    fast.setenv("CONGDOAN_NOTIFY_SMTP_URL", smtp.url)
    await set_shared_time(js, datetime(2026, 11, 28, 10, 0))
    try:
        async with running("notify", nats_server.url, await make_db_url("notify")) as rt:
            await unit(js, "prov", "Liên đoàn Lao động tỉnh", "provincial_federation")
            await person(js, "chair", "prov", "Nguyễn Mạnh Hùng", ["chairperson"], "chair@example.org")
            await person(js, "vice", "prov", "Lê Văn Phó", ["cadre"], "vice@example.org")
            for i in range(6):
                await unit(js, f"g{i}", f"Công đoàn cơ sở số {i}", parent="prov")
            await wait_until(holds(rt, "SELECT count(*) FROM dir_units", 7), what="the directory")

            async def submit(i: int) -> None:
                await publish(js, "vn.congdoan.reports.report.submitted.v1", {
                    "report_id": f"r-{i}", "requirement_id": "req", "period": "2026", "unit_id": f"g{i}",
                    "receiving_unit_id": "prov", "revision": 1, "submitted_at": "2026-11-28T10:00:00+07:00",
                    "on_time": True})

            for i in range(4):
                await submit(i)
            await wait_until(holds(rt, "SELECT count(*) FROM deliveries WHERE status = 'queued'", 8), what="8 queued")
            await set_shared_time(js, datetime(2026, 11, 29, 6, 0))  # the next morning, before the digest hour
            await wait_until(lambda: _true(rt.clock.now().day == 29), what="the clock moved")
            for i in range(4, 6):
                await submit(i)
            await wait_until(holds(rt, "SELECT count(*) FROM deliveries WHERE status = 'queued'", 12), what="12 queued")
            assert store.accepted == 0  # oversight goes to the digest, not 12 separate e-mails
            await set_shared_time(js, datetime(2026, 11, 29, 7, 30))  # past the digest hour (07:00)
            await wait_until(holds(rt, "SELECT count(*) FROM deliveries WHERE kind = 'digest' AND status = 'sent'", 2),
                             what="two digests sent")
            assert store.accepted == 2
            assert await scalar(rt, "SELECT count(*) FROM deliveries WHERE status = 'digested'") == 12
            from email import message_from_bytes
            from email.policy import default
            for mid, raw in store.messages.items():
                msg = message_from_bytes(raw, policy=default)
                assert msg["Subject"] == "[Công đoàn] Tổng hợp 6 thông báo từ 28/11/2026 đến 29/11/2026"
                text = msg.get_body(("plain",)).get_content()
                day1, day2 = text.index("Ngày 28/11/2026"), text.index("Ngày 29/11/2026")
                assert day1 < day2
                assert all(f"Công đoàn cơ sở số {i} đã gửi báo cáo" in text[day1:day2] for i in range(4))
                assert all(f"Công đoàn cơ sở số {i} đã gửi báo cáo" in text[day2:] for i in (4, 5))
                assert "Báo cáo đã gửi: 6" in text
                assert mid.startswith("<dg-20261129-")
            assert sorted(r for rs in store.recipients.values() for r in rs) == ["chair@example.org", "vice@example.org"]
            # the next day's digest is scheduled; with nothing queued it sends nothing
            await set_shared_time(js, datetime(2026, 11, 30, 7, 30))
            await wait_until(holds(rt, "SELECT count(*) FROM reminders WHERE fired_at IS NOT NULL", 2),
                             what="the next digest reminder fired")
            assert await scalar(rt, "SELECT count(*) FROM deliveries WHERE kind = 'digest'") == 2
    finally:
        await smtp.stop()


# ------------------------------------------------------------------------------------ webhooks
def _key_lines(path: Any) -> list[str]:
    return [ln for ln in path.read_text().splitlines() if ln and not ln.startswith("#")]


async def test_webhook_targets_are_checked_when_saved(nc, nats_server, make_db_url, fast):
    js = nc.jetstream()
    async with running("notify", nats_server.url, await make_db_url("notify")) as rt:
        await unit(js, "g1", "Công đoàn cơ sở Công ty A")
        await person(js, "a", "g1", "Nguyễn Văn A", ["chairperson"])
        await wait_until(holds(rt, "SELECT count(*) FROM dir_people", 1), what="the directory")
        fake_dns(rt, {"hooks.example.vn": [PUBLIC], "intranet.example.vn": ["10.0.0.5"],
                      "meta.example.vn": ["169.254.169.254"], "mixed.example.vn": [PUBLIC, "fd00::5"]})
        refused = {  # url -> (type, words of the Vietnamese message)
            "https://127.0.0.2/hook": ("address_refused", "loopback"),
            "https://[::1]:8443/hook": ("address_refused", "loopback"),
            "https://[::ffff:10.1.2.3]/hook": ("address_refused", "mạng nội bộ"),
            "https://10.1.2.3/hook": ("address_refused", "mạng nội bộ"),
            "https://169.254.169.254/latest/meta-data/": ("address_refused", "dịch vụ metadata"),
            "https://100.64.1.1/hook": ("address_refused", "CGNAT"),
            "https://intranet.example.vn/hook": ("address_refused", "tên intranet.example.vn trỏ tới mạng nội bộ"),
            "https://meta.example.vn/hook": ("address_refused", "dịch vụ metadata"),
            "https://mixed.example.vn/hook": ("address_refused", "unique-local"),
            "http://hooks.example.vn/hook": ("https_required", "https://"),
            "https://nowhere.example.vn/hook": ("unresolvable", "Không tìm thấy máy chủ nowhere.example.vn"),
            "https://u:p@hooks.example.vn/hook": ("invalid_url", "mật khẩu"),
        }
        for url, (code, words) in refused.items():
            h, err = await call(nc, api("notify", "set_preferences"), {"actor_id": "a",
                                                                       "webhook_url": url})
            assert h.get("Nats-Service-Error-Code") == "422", (url, err)
            assert err["error"]["code"] == "validation_error"
            detail = err["error"]["details"][0]
            assert (detail["field"], detail["type"]) == ("webhook_url", code), url
            assert words in detail["message"] and detail["message"] == err["error"]["message"], url
            assert "10.0.0.5" not in detail["message"]  # the kind of address, not the address of a name
        assert await scalar(rt, "SELECT count(*) FROM preferences") == 0  # nothing saved
        h, prefs = await call(nc, api("notify", "set_preferences"), {"actor_id": "a",
                                                                     "webhook_url": "https://hooks.example.vn/hook"})
        assert "Nats-Service-Error" not in h and prefs["webhook_secret"].startswith("whsec_")
        h, prefs = await call(nc, api("notify", "set_preferences"), {"actor_id": "a",
                                                                     "webhook_url": "http://127.0.0.1:9/hook"})
        assert "Nats-Service-Error" not in h, prefs  # allow-listed (CONGDOAN_NOTIFY_WEBHOOK_ALLOW): http too


async def test_webhook_secret_is_shown_once_stored_sealed_and_signs_standard_webhooks(
        nc, nats_server, make_db_url, fast, tmp_path):
    import hashlib

    from cryptography.fernet import Fernet, MultiFernet

    js = nc.jetstream()
    hooks = WebhookSink()
    await hooks.start(js)
    try:
        async with running("notify", nats_server.url, await make_db_url("notify")) as rt:
            await unit(js, "g1", "Công đoàn cơ sở Công ty A")
            await person(js, "a", "g1", "Nguyễn Thị Ánh", ["chairperson"])
            await wait_until(holds(rt, "SELECT count(*) FROM dir_people", 1), what="the directory")
            h, prefs = await call(nc, api("notify", "set_preferences"),
                                  {"actor_id": "a", "webhook_url": hooks.url("a")})
            secret, fp = prefs["webhook_secret"], prefs["webhook_secret_fingerprint"]
            hooks.secrets["a"] = secret
            assert fp == hashlib.sha256(secret.encode()).hexdigest()[:8]

            # at rest: sealed with the key from the key file; the plain secret is nowhere in the row
            (row,) = await rows(rt, "SELECT * FROM preferences WHERE person_id = 'a'")
            stored = dict(row._mapping)
            assert "webhook_secret" not in stored and stored["webhook_secret_fp"] == fp
            assert not any(secret in str(v) or secret[6:] in str(v) for v in stored.values())
            keys = MultiFernet([Fernet(k) for k in _key_lines(tmp_path / "secrets" / "notify-webhook.key")])
            assert keys.decrypt(stored["webhook_secret_enc"].encode()).decode() == secret

            # shown once: reads, and saving the same URL again, say only that there is one
            _, again = await call(nc, api("notify", "get_preferences"), {"actor_id": "a"})
            assert (again["webhook_secret"], again["webhook_secret_set"], again["webhook_secret_fingerprint"]) == \
                (None, True, fp)
            _, again = await call(nc, api("notify", "set_preferences"),
                                  {"actor_id": "a", "webhook_url": hooks.url("a")})
            assert again["webhook_secret"] is None and again["webhook_secret_fingerprint"] == fp

            # signed deliveries, checked by the stock verifier; the webhook-id is the dedupe key
            await publish(js, "vn.congdoan.plans.deadline.approaching.v1", deadline(1, "g1"))
            await wait_until(lambda: _true(len(hooks.received) == 1), what="the webhook received")
            (did, body), = hooks.received.items()
            sent = hooks.headers[did]
            assert did == sent["Idempotency-Key"] == body["delivery_id"] and did.endswith(".webhook")
            assert abs(int(sent["webhook-timestamp"]) - rt.clock.now().timestamp()) < 60  # the stack's clock
            assert abs(int(sent["webhook-timestamp"]) - datetime(2026, 10, 15, 9, tzinfo=TZ).timestamp()) < 600
            assert sent["webhook-signature"].startswith("v1,") and "X-Congdoan-Signature" not in sent

            # a rotated secret signs from then on; the old one no longer verifies
            _, rotated = await call(nc, api("notify", "set_preferences"),
                                    {"actor_id": "a", "rotate_webhook_secret": True})
            assert rotated["webhook_secret"] not in (None, secret) and rotated["webhook_secret_fingerprint"] != fp
            hooks.secrets["a"] = rotated["webhook_secret"]
            await publish(js, "vn.congdoan.plans.deadline.approaching.v1", deadline(2, "g1"))
            await wait_until(lambda: _true(len(hooks.received) == 2), what="signed with the new secret")
            did2 = next(k for k in hooks.received if k != did)
            with pytest.raises(WebhookVerificationError):
                verify_webhook(secret, hooks.raw[did2], hooks.headers[did2], rt.clock.now())
            assert hooks.duplicates == 0 and hooks.bad_signatures == 0
    finally:
        await hooks.stop()


async def test_a_name_rebound_to_a_private_address_is_refused_at_delivery(nc, nats_server, make_db_url, fast):
    js = nc.jetstream()
    async with running("notify", nats_server.url, await make_db_url("notify")) as rt:
        await unit(js, "g1", "Công đoàn cơ sở Công ty A")
        await person(js, "a", "g1", "Nguyễn Văn A", ["chairperson"])
        await wait_until(holds(rt, "SELECT count(*) FROM dir_people", 1), what="the directory")
        dns = fake_dns(rt, {"rebind.example.vn": [PUBLIC]})  # public when saved…
        h, prefs = await call(nc, api("notify", "set_preferences"),
                              {"actor_id": "a", "webhook_url": "https://rebind.example.vn/hook"})
        assert "Nats-Service-Error" not in h, prefs
        dns.table["rebind.example.vn"] = ["127.0.0.2"]  # …loopback (and not the allow-listed 127.0.0.1) when called
        await publish(js, "vn.congdoan.plans.deadline.approaching.v1", deadline(1, "g1"))
        await wait_until(holds(rt, "SELECT count(*) FROM deliveries WHERE status = 'failed'", 1),
                         what="the delivery refused")
        (row,) = await rows(rt, "SELECT * FROM deliveries")
        assert row.attempts == 1 and row.next_attempt_at is None  # for good: not retried
        assert "rebind.example.vn resolves to 127.0.0.2, a loopback address" in row.last_error
        assert dns.asked.count("rebind.example.vn") == 2  # once saving, once connecting
        failed = [e["data"] for e in await notify_events(js, rt) if e["type"].endswith("notification.failed.v1")]
        assert [(f["channel"], f["permanent"], f["attempts"]) for f in failed] == [("webhook", True, 1)]
        assert "loopback" in failed[0]["reason"]
        _, log = await call(nc, api("notify", "delivery_log"), {"actor_id": "a"})
        assert [(i["channel"], i["status"]) for i in log["items"]] == [("webhook", "failed")]


async def test_rotating_the_key_keeps_every_secret_usable(nc, nats_server, make_db_url, fast, tmp_path):
    from cryptography.fernet import Fernet

    js = nc.jetstream()
    key_file = tmp_path / "secrets" / "notify-webhook.key"
    db = await make_db_url("notify")
    hooks = WebhookSink()
    await hooks.start(js)
    try:
        async with running("notify", nats_server.url, db) as rt:  # first start: the key file is made
            await unit(js, "g1", "Công đoàn cơ sở Công ty A")
            for p in ("a", "b"):
                await person(js, p, "g1", f"Cán bộ {p}", ["cadre"])
            await wait_until(holds(rt, "SELECT count(*) FROM dir_people", 2), what="the directory")
            for p in ("a", "b"):
                await set_webhook(nc, hooks, p)
        (old_key,) = _key_lines(key_file)
        new_key = Fernet.generate_key().decode()
        key_file.write_text(f"# rotated\n{new_key}\n{old_key}\n")

        async with running("notify", nats_server.url, db) as rt:
            async def resealed() -> bool:
                tokens = [r.webhook_secret_enc for r in await rows(rt, "SELECT webhook_secret_enc FROM preferences")]
                try:
                    return len(tokens) == 2 and all(Fernet(new_key.encode()).decrypt(t.encode()) for t in tokens)
                except Exception:
                    return False
            await wait_until(resealed, what="the stored secrets sealed again with the new key")
            await publish(js, "vn.congdoan.plans.deadline.approaching.v1", deadline(1, "g1"))
            await wait_until(lambda: _true(len(hooks.received) == 2), what="both webhooks signed and verified")

        key_file.write_text(f"{new_key}\n")  # the old key retired
        async with running("notify", nats_server.url, db) as rt:
            await publish(js, "vn.congdoan.plans.deadline.approaching.v1", deadline(2, "g1"))
            await wait_until(lambda: _true(len(hooks.received) == 4), what="signed with the same secrets still")
            await wait_until(holds(rt, "SELECT count(*) FROM deliveries WHERE status = 'sent'", 4), what="4 sent")
        assert hooks.bad_signatures == 0 and hooks.duplicates == 0
    finally:
        await hooks.stop()




async def test_a_unit_with_nobody_to_tell_has_its_notices_sent_up(nc, nats_server, make_db_url, fast):
    """Nobody left untold: after a day without anyone to tell in the unit, its notice goes to the
    contacts of the unit above, saying for whom it is; at the top, to its receiving department."""
    from prometheus_client import REGISTRY

    js = nc.jetstream()
    start = datetime(2026, 11, 23, 8, 0, tzinfo=TZ)
    await set_shared_time(js, start)
    async with running("notify", nats_server.url, await make_db_url("notify")) as rt:
        await unit(js, "prov", "Liên đoàn Lao động tỉnh Bình Định", "provincial_federation")
        await unit(js, "tgnc", "Ban Tuyên giáo - Nữ công", "department", parent="prov")
        await unit(js, "u1", "Liên đoàn Lao động thành phố Quy Nhơn", "upper_level_union", parent="prov")
        await unit(js, "g1", "Công đoàn cơ sở Cảng Quy Nhơn", parent="u1")
        await person(js, "m1", "g1", "Lê Văn Một", ["member"])  # a member is not the unit's voice
        await person(js, "u1c", "u1", "Trần Thị Hai", ["chairperson"])
        await person(js, "tg", "tgnc", "Phạm Thị Ba", ["cadre"])
        await wait_until(holds(rt, "SELECT count(*) FROM dir_people", 3), what="the directory projected")
        before = REGISTRY.get_sample_value("congdoan_notify_escalated_total") or 0
        await publish(js, "vn.congdoan.plans.deadline.approaching.v1", deadline(1, "g1"), at=start)
        await publish(js, "vn.congdoan.plans.deadline.approaching.v1", deadline(2, "prov"), at=start)
        await wait_until(holds(rt, "SELECT count(*) FROM held_events", 2), what="both held: nobody to tell")
        sweeper = rt.wiring.parts["sweeper"]
        sweeper.poke()
        assert await scalar(rt, "SELECT count(*) FROM notifications") == 0  # not at once: people may be coming
        await set_shared_time(js, start + timedelta(hours=25))
        await wait_until(lambda: _moved(rt, start + timedelta(hours=25)), what="the clock a day later")

        async def told() -> bool:
            sweeper.poke()
            return await scalar(rt, "SELECT count(*) FROM notifications") == 2

        await wait_until(told, timeout=30, what="the notices sent up")
        assert await scalar(rt, "SELECT count(*) FROM held_events") == 0
        [up] = (await inbox(nc, "u1c"))["items"]  # g1's notice reaches its upper-level union
        assert up["title"].startswith("Còn 7 ngày") and "của Công đoàn cơ sở Cảng Quy Nhơn" in up["body"]
        assert "Thông báo này dành cho Công đoàn cơ sở Cảng Quy Nhơn; đơn vị chưa có người nhận" in up["body"]
        [top] = (await inbox(nc, "tg"))["items"]  # the province's reaches its receiving department
        assert "Liên đoàn Lao động tỉnh Bình Định" in top["body"]
        assert (await inbox(nc, "m1"))["items"] == []
        assert (REGISTRY.get_sample_value("congdoan_notify_escalated_total") or 0) - before == 2


async def _moved(rt: Any, at: datetime) -> bool:
    return abs((rt.clock.now() - at).total_seconds()) < 60
