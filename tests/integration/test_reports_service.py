"""The reports service in-process on a real nats-server, on SQLite and PostgreSQL, fed plans'
events (the directory, plan.issued) as plans publishes them: a requirement opened from the seed's
30/11 item, submission against the form, review up the hierarchy, reminders once per unit, a merge
in mid-period, consolidation by the hierarchy of the period with DOCX and XLSX exports."""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import date, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from contracts.catalogue import EVENTS_BY_TYPE
from contracts.envelope import build_event
from runtime.clock import TZ, set_shared_time
from tests.conftest import wait_until
from tests.support import api, call, running

PLANS = "/congdoan/plans"
EFFECTIVE = date(2026, 1, 1)
SEED_II_3_A = ("Các cấp công đoàn tổ chức đánh giá kết quả thực hiện kế hoạch học tập làm theo tư tưởng, đạo đức và "
               "phong cách Hồ Chí Minh năm trước, xây dựng kế hoạch của năm sau; gửi báo cáo kết quả thực hiện về LĐLĐ "
               "tỉnh (qua Ban Tuyên giáo - Nữ công) để tổng hợp, báo cáo Tổng Liên đoàn, Ban Tuyên giáo Tỉnh ủy.")
UNITS = [  # unit, name, kind, parent
    ("prov", "Liên đoàn Lao động tỉnh Bình Định", "provincial_federation", None),
    ("tgnc", "Ban Tuyên giáo - Nữ công", "department", "prov"),
    ("u1", "Công đoàn thành phố Quy Nhơn", "upper_level_union", "prov"),
    ("u2", "Công đoàn các Khu công nghiệp", "upper_level_union", "prov"),
    ("g1", "CĐCS Cảng Quy Nhơn", "grassroots_union", "u1"),
    ("g2", "CĐCS Trường THPT Quốc Học", "grassroots_union", "u1"),
    ("g3", "CĐCS Công ty Nhựa Long Thành", "grassroots_union", "u2"),
    ("g4", "CĐCS Điện lực Bình Định", "grassroots_union", "prov"),
]
PEOPLE = [  # person, unit, roles
    ("chair", "prov", ["chairperson"]), ("tg", "tgnc", ["cadre"]), ("u1c", "u1", ["chairperson"]),
    ("u2c", "u2", ["chairperson"]), ("g1c", "g1", ["cadre"]), ("g2c", "g2", ["cadre"]), ("g3c", "g3", ["cadre"]),
    ("g4c", "g4", ["cadre"]), ("m1", "g1", ["member"]),
]


def values(members: int, with_plans: int, sessions: int = 2, **over: Any) -> dict[str, Any]:
    v: dict[str, Any] = {"study_sessions": sessions, "participants": 3 * members, "cadres_total": 5,
                         "cadres_with_plans": 4, "members_total": members, "members_with_plans": with_plans,
                         "exemplary_models": 1, "commended_collectives": 1, "commended_individuals": 2, "news_posts": 6,
                         "results": "Tổ chức học tập chuyên đề năm.", "limitations": "Một số đoàn viên chưa tham gia.",
                         "next_year_tasks": "Tiếp tục học tập và làm theo Bác."}
    v.update(over)
    return v


async def publish(js: Any, type_: str, data: dict[str, Any]) -> str:
    spec = EVENTS_BY_TYPE[type_]
    ev = build_event(type_=type_, source=PLANS, data=spec.model.model_validate(data), time=datetime.now(TZ))
    await js.publish(spec.subject, json.dumps(ev, ensure_ascii=False).encode(), headers={"Nats-Msg-Id": ev["id"]})
    return ev["id"]


def plan_issued(revision: int = 1) -> dict[str, Any]:
    every_level = {"kind": "units_of_kind", "unit_kinds": ["upper_level_union", "grassroots_union"]}
    return {"plan_id": "kh-01", "revision": revision, "number": "KH-01/LĐLĐ", "title": "Kế hoạch thực hiện Kết luận số "
            "01-KL/TW", "issuer_unit_id": "prov", "issued_on": "2026-01-10", "items": [
                {"item_id": "II.2.a", "section": "II.2", "content": "Đổi mới hình thức tuyên truyền.", "output": "posts",
                 "timing": {"kind": "ongoing"}, "responsible": [every_level]},
                {"item_id": "II.3.a", "section": "II.3", "content": SEED_II_3_A, "output": "report",
                 "timing": {"kind": "yearly_by_day", "text": "Trước ngày 30/11 hàng năm", "month": 11, "day": 30},
                 "responsible": [every_level]},
                {"item_id": "IV.1.1.e", "section": "IV.1.1", "content": "Tổng hợp báo cáo gửi Tổng LĐLĐ Việt Nam.",
                 "output": "report", "timing": {"kind": "ongoing", "text": "Thường xuyên và theo định kỳ"},
                 "responsible": [{"kind": "department", "code": "BAN_TGNC"}]},
                {"item_id": "IV.2.b", "section": "IV.2", "content": "Hàng năm, tổng hợp kết quả, báo cáo về LĐLĐ tỉnh.",
                 "output": "report", "timing": {"kind": "ongoing", "text": "Hàng năm"}, "responsible": [every_level]},
            ]}


async def set_time(js: Any, rt: Any, at: datetime) -> None:
    await set_shared_time(js, at)

    async def moved() -> bool:
        return abs((rt.clock.now() - at.replace(tzinfo=TZ)).total_seconds()) < 60

    await wait_until(moved, what=f"the clock at {at}")


async def outbox(rt: Any, type_suffix: str) -> list[tuple[str, str]]:
    """(CloudEvent subject, payload) of the events of one type in reports' outbox."""
    async with rt.engine.connect() as conn:
        rows = (await conn.execute(sa.text("SELECT payload FROM outbox WHERE type = :t ORDER BY id"),
                                   {"t": f"vn.congdoan.reports.{type_suffix}.v1"})).scalars().all()
    return [(json.loads(p).get("subject"), p) for p in rows]


def ok(h: dict[str, str], body: Any) -> Any:
    assert "Nats-Service-Error" not in h, body
    return body


def error(h: dict[str, str], body: Any, status: str) -> dict[str, Any]:
    assert h.get("Nats-Service-Error-Code") == status, (h, body)
    return body["error"]


async def setup(nc: Any, rt: Any) -> Any:
    js = nc.jetstream()
    await set_time(js, rt, datetime(2026, 1, 15, 9, 0))
    for unit, name, kind, parent in UNITS:
        await publish(js, "vn.congdoan.plans.unit.registered.v1", {
            "unit_id": unit, "code": unit.upper(), "name": name, "kind": kind, "parent_id": parent,
            "effective_from": EFFECTIVE.isoformat()})
    for person, unit, roles in PEOPLE:
        await publish(js, "vn.congdoan.plans.person.registered.v1", {
            "person_id": person, "unit_id": unit, "full_name": f"Nguyễn Văn {person}", "roles": roles})
    await publish(js, "vn.congdoan.plans.plan.issued.v1", plan_issued())

    async def opened() -> bool:
        h, _ = await call(nc, api("reports", "get_requirement"), {"requirement_id": "kh-01:II.3.a:2026"})
        return "Nats-Service-Error" not in h

    await wait_until(opened, what="the requirement opened from plan.issued")

    async def people_known() -> bool:
        async with rt.engine.connect() as conn:
            return (await conn.execute(sa.text("SELECT count(*) FROM dir_people"))).scalar_one() == len(PEOPLE)

    await wait_until(people_known, what="the people in reports' projection")
    return js


REQ = "kh-01:II.3.a:2026"


def submit(unit: str, v: dict[str, Any] | None = None, actor: str | None = "self", **extra: Any) -> dict[str, Any]:
    body = {"requirement_id": REQ, "period": "2026", "unit_id": unit, "values": v if v is not None else values(10, 5)}
    if actor == "self":
        body["actor_id"] = f"{unit}c"
    elif actor is not None:
        body["actor_id"] = actor
    body.update(extra)
    return body


async def test_requirement_from_plan_submission_review_and_reminders(nc, nats_server, make_db_url):
    async with running("reports", nats_server.url, await make_db_url("reports")) as rt:
        js = await setup(nc, rt)
        _, q = await call(nc, api("reports", "get_requirement"), {"requirement_id": REQ, "actor_id": "g1c"})
        assert (q["due_date"], q["hierarchy_as_of"], q["issuer_unit_id"], q["receiving_unit_id"]) == (
            "2026-11-30", "2026-11-30", "prov", "prov")
        assert q["receiving_department"] == "Ban Tuyên giáo - Nữ công"
        assert q["name"] == "Báo cáo kết quả thực hiện Kế hoạch số KH-01/LĐLĐ thực hiện Kết luận số 01-KL/TW năm 2026"
        assert q["reporting_kinds"] == ["upper_level_union", "grassroots_union"]
        assert (q["form_id"], q["source_plan_id"], q["source_item_id"]) == ("bc-01-kl-tw", "kh-01", "II.3.a")

        # Idempotent per (plan, item, period): a re-issue opens nothing new.
        await publish(js, "vn.congdoan.plans.plan.issued.v1", plan_issued(revision=2))
        await wait_until(lambda: _consumed(js, 2 + len(UNITS) + len(PEOPLE)), what="the re-issue consumed")
        _, page = await call(nc, api("reports", "list_requirements"), {"issuer_unit_id": "prov"})
        assert [i["requirement_id"] for i in page["items"]] == [REQ]  # the ongoing items ask for nothing
        assert len(await outbox(rt, "requirement.opened")) == 1

        # Validation against the form: the missing compulsory field is named.
        v = values(10, 5)
        del v["participants"]
        err = error(*await call(nc, api("reports", "submit_report"), submit("g1", v)), "422")
        assert [d["field"] for d in err["details"]] == ["values.participants"]
        assert err["code"] == "validation_error" and err["message"].startswith("Báo cáo chưa đúng biểu mẫu")
        assert err["details"][0]["message"].startswith("Thiếu trường bắt buộc") and "participants" in err["message"]
        err = error(*await call(nc, api("reports", "submit_report"), submit("g1", values(10, 11))), "422")
        assert err["details"][0]["field"] == "values.members_with_plans,members_total"

        # Scope: a unit submits only its own report, through a person with an acting role.
        error(*await call(nc, api("reports", "submit_report"), submit("g1", actor="u1c")), "403")
        error(*await call(nc, api("reports", "submit_report"), submit("g1", actor="m1")), "403")
        error(*await call(nc, api("reports", "submit_report"), submit("tgnc", actor="tg")), "409")  # not expected
        error(*await call(nc, api("reports", "submit_report"), submit("g1", period="2025")), "422")

        await set_time(js, rt, datetime(2026, 11, 20, 9, 0))
        r1 = ok(*await call(nc, api("reports", "submit_report"), submit("g1", values(100, 90), report_id="rep-g1")))
        assert (r1["on_time"], r1["receiving_unit_id"], r1["revision"], r1["status"]) == (True, "u1", 1, "submitted")
        dup = ok(*await call(nc, api("reports", "submit_report"), submit("g1", values(100, 90), report_id="rep-g1")))
        assert dup["duplicate"] is True and dup["revision"] == 1
        ok(*await call(nc, api("reports", "submit_report"), submit("u1", values(20, 10), report_id="rep-u1")))
        g4 = ok(*await call(nc, api("reports", "submit_report"), submit("g4", values(40, 40))))
        assert g4["receiving_unit_id"] == "prov"
        # A draft is kept, not counted, and submitted later as it stands.
        d = ok(*await call(nc, api("reports", "save_draft"), {
            "requirement_id": REQ, "period": "2026", "unit_id": "g2", "values": {"study_sessions": 1},
            "actor_id": "g2c"}))
        assert d["status"] == "draft" and any("participants" in p for p in d["problems"])

        # Review: the receiving level accepts; a higher level may return an accepted report.
        error(*await call(nc, api("reports", "accept_report"), {"report_id": "rep-g1", "actor_id": "u2c"}), "403")
        error(*await call(nc, api("reports", "accept_report"), {"report_id": "rep-g1", "actor_id": "chair"}), "403")
        error(*await call(nc, api("reports", "return_report"),
                          {"report_id": "rep-g1", "actor_id": "chair", "comment": "Bổ sung số liệu"}), "403")
        acc = ok(*await call(nc, api("reports", "accept_report"), {"report_id": "rep-g1", "actor_id": "u1c"}))
        assert (acc["status"], acc["by_unit_id"]) == ("accepted", "u1")
        # Ban TG-NC receives for the province.
        acc = ok(*await call(nc, api("reports", "accept_report"), {"report_id": "rep-u1", "actor_id": "tg"}))
        assert acc["by_unit_id"] == "prov"
        ret = ok(*await call(nc, api("reports", "return_report"),
                             {"report_id": "rep-g1", "actor_id": "chair", "comment": "Số đoàn viên chưa khớp."}))
        assert (ret["status"], ret["by_unit_id"]) == ("returned", "prov")
        error(*await call(nc, api("reports", "return_report"),
                          {"report_id": "rep-g1", "actor_id": "u1c", "comment": "x"}), "409")  # already returned
        view = ok(*await call(nc, api("reports", "get_report"), {"report_id": "rep-g1", "actor_id": "chair"}))
        assert [h["action"] for h in view["history"]] == ["accepted", "returned"]
        error(*await call(nc, api("reports", "get_report"), {"report_id": "rep-g1", "actor_id": "g4c"}), "403")
        # A unit finds its own report (how a front-end shows the unit's form); not another unit's.
        mine = ok(*await call(nc, api("reports", "list_reports"), {"requirement_id": REQ, "unit_id": "g1",
                                                                   "actor_id": "g1c"}))
        assert [(r["report_id"], r["status"]) for r in mine["items"]] == [("rep-g1", "returned")]
        error(*await call(nc, api("reports", "list_reports"), {"requirement_id": REQ, "unit_id": "g1",
                                                               "actor_id": "g4c"}), "403")
        error(*await call(nc, api("reports", "list_reports"), {"requirement_id": REQ, "actor_id": "g1c"}), "403")

        # The reminders fire once per requirement and offset, fanned out to the units still missing.
        await set_time(js, rt, datetime(2026, 11, 23, 9, 0))  # the 7-day reminder (23/11 08:00)
        await wait_until(lambda: _count(rt, "report.deadline_approaching", 4), what="7-day reminders")
        sent = await outbox(rt, "report.deadline_approaching")
        # missing: g1 (returned), g2 (a draft), u2, g3 — not u1 and g4 (submitted)
        assert sorted(s for s, _ in sent) == ["g1", "g2", "g3", "u2"]
        assert {json.loads(p)["data"]["days_before"] for _, p in sent} == {7}
        assert {json.loads(p)["data"]["receiving_unit_id"] for s, p in sent if s == "g3"} == {"u2"}

        resub = ok(*await call(nc, api("reports", "submit_report"), submit("g1", values(100, 80))))
        assert (resub["revision"], resub["on_time"], resub["report_id"]) == (2, True, "rep-g1")
        ok(*await call(nc, api("reports", "submit_report"), {  # the draft, completed
            "requirement_id": REQ, "period": "2026", "unit_id": "g2", "values": values(30, 3), "actor_id": "g2c"}))

        await set_time(js, rt, datetime(2026, 12, 1, 0, 30))  # 3-day, 1-day and overdue all due now
        await wait_until(lambda: _count(rt, "report.overdue", 2), what="overdue notices")
        await wait_until(lambda: _count(rt, "report.deadline_approaching", 8), what="3- and 1-day reminders")
        assert sorted(s for s, _ in await outbox(rt, "report.overdue")) == ["g3", "u2"]
        await set_time(js, rt, datetime(2026, 12, 2, 10, 0))
        late = ok(*await call(nc, api("reports", "submit_report"), submit("g3", values(50, 25))))
        assert late["on_time"] is False
        await rt.wiring.parts["scheduler"].fire_due()  # nothing fires twice
        assert len(await outbox(rt, "report.overdue")) == 2
        assert len(await outbox(rt, "report.deadline_approaching")) == 8

        comp = ok(*await call(nc, api("reports", "get_completeness"), {"requirement_id": REQ, "actor_id": "tg"}))
        assert comp["completeness"] == {"expected": 6, "submitted": 5, "on_time": 4, "late": 1, "missing": 1,
                                        "returned": 0, "pending": 0}
        assert [m["unit_id"] for m in comp["missing_units"]] == ["u2"]
        error(*await call(nc, api("reports", "get_completeness"), {"requirement_id": REQ, "actor_id": "g3c"}), "403")
        comp = ok(*await call(nc, api("reports", "get_completeness"),
                              {"requirement_id": REQ, "unit_id": "u2", "actor_id": "u2c", "counting": "accepted"}))
        assert comp["completeness"]["pending"] == 1 and comp["completeness"]["missing"] == 2


async def test_merge_in_mid_period_keeps_the_rollup_of_the_period_and_exports(nc, nats_server, make_db_url, tmp_path):
    async with running("reports", nats_server.url, await make_db_url("reports")) as rt:
        js = await setup(nc, rt)
        await set_time(js, rt, datetime(2026, 11, 25, 9, 0))
        figures = {"u1": values(20, 10, 1), "g1": values(100, 90, 3), "g2": values(30, 3, 2), "u2": values(10, 10, 1),
                   "g3": values(50, 25, 4), "g4": values(40, 40, 2)}
        for unit, v in figures.items():
            ok(*await call(nc, api("reports", "submit_report"), submit(unit, v, report_id=f"rep-{unit}")))

        # On 05/12, after the due date and before the consolidation, u1 is merged into u2: its
        # grassroots unions move under u2 and its chairperson with them.
        await set_time(js, rt, datetime(2026, 12, 5, 9, 0))
        merge = date(2026, 12, 5).isoformat()
        for g in ("g1", "g2"):
            await publish(js, "vn.congdoan.plans.unit.moved.v1",
                          {"unit_id": g, "from_parent_id": "u1", "to_parent_id": "u2", "effective_from": merge})
        await publish(js, "vn.congdoan.plans.unit.closed.v1", {"unit_id": "u1", "effective_from": merge,
                                                                  "merged_into": "u2"})
        await publish(js, "vn.congdoan.plans.person.updated.v1",
                      {"person_id": "u1c", "unit_id": "u2", "full_name": "Nguyễn Văn u1c", "roles": ["executive_member"]})
        await wait_until(lambda: _consumed(js, len(UNITS) + len(PEOPLE) + 1 + 4), what="the merge consumed")

        # The reports of g1 and g2 are still reviewed by u1's level — now the people of u2.
        ok(*await call(nc, api("reports", "accept_report"), {"report_id": "rep-g2", "actor_id": "u1c"}))
        for rid, actor in (("rep-g1", "u2c"), ("rep-g3", "u2c"), ("rep-u1", "tg"), ("rep-u2", "tg"), ("rep-g4", "chair")):
            ok(*await call(nc, api("reports", "accept_report"), {"report_id": rid, "actor_id": actor}))

        await set_time(js, rt, datetime(2026, 12, 10, 9, 0))
        reply = ok(*await call(nc, api("reports", "consolidate"), {
            "requirement_id": REQ, "actor_id": "tg", "number": "125",
            "narrative": {"results": "Các cấp công đoàn tổ chức học tập chuyên đề đạt kết quả tốt."}}, timeout=60))
        assert reply["as_of"] == "2026-11-30"
        assert reply["completeness"] == {"expected": 6, "submitted": 6, "on_time": 6, "late": 0, "missing": 0,
                                         "returned": 0, "pending": 0}
        total = {k: sum(v[k] for v in figures.values()) for k in ("participants", "members_total", "study_sessions")}
        assert {k: reply["indicators"][k] for k in total} == total
        by_child = {c["unit_id"]: c for c in reply["children"]}
        assert list(by_child) == ["u1", "u2", "g4"]  # the department had nothing to report
        # The rollup keeps u1 with g1 and g2 (the hierarchy of the period), not u2 with all three (today's).
        assert by_child["u1"]["indicators"]["participants"] == sum(figures[u]["participants"] for u in ("u1", "g1", "g2"))
        assert by_child["u2"]["indicators"]["participants"] == sum(figures[u]["participants"] for u in ("u2", "g3"))
        assert by_child["u1"]["completeness"]["expected"] == 3 and by_child["u2"]["completeness"]["expected"] == 2
        share = sum(figures[u]["members_with_plans"] for u in ("u1", "g1", "g2")) / \
            sum(figures[u]["members_total"] for u in ("u1", "g1", "g2"))
        assert abs(by_child["u1"]["indicators"]["members_with_plans_share"] - share) < 1e-9
        async with rt.engine.connect() as conn:  # today's hierarchy is the merged one
            parents = dict((await conn.execute(sa.text(
                "SELECT unit_id, parent_id FROM dir_parents WHERE valid_to IS NULL"))).all())
        assert parents["g1"] == parents["g2"] == "u2" and "u1" not in parents

        # The exports open and hold the figures.
        import docx
        import openpyxl

        document = docx.Document(reply["docx"])
        text = "\n".join(p.text for p in document.paragraphs)
        cells = "\n".join(c.text.replace("\n", " ") for t in document.tables for row in t.rows for c in row.cells)
        assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in cells and "Độc lập - Tự do - Hạnh phúc" in cells
        assert "LIÊN ĐOÀN LAO ĐỘNG TỈNH BÌNH ĐỊNH" in cells and "Số: 125/BC-LĐLĐ" in cells
        assert "Bình Định, ngày 10 tháng 12 năm 2026" in cells
        assert "BÁO CÁO" in text and "Các cấp công đoàn tổ chức học tập chuyên đề đạt kết quả tốt." in text
        assert f"{total['participants']:,}".replace(",", ".") in cells
        assert "Công đoàn thành phố Quy Nhơn" in cells  # u1 as a row of the period's rollup
        assert "Nguyễn Văn chair" in cells and "Lưu: VT, Ban Tuyên giáo - Nữ công." in cells
        book = openpyxl.load_workbook(reply["xlsx"])
        sheet = book["Chỉ tiêu"]
        header = [c.value for c in sheet[4]]
        col = next(i for i, h in enumerate(header) if h and h.startswith("Số lượt cán bộ, ĐVNLĐ tham gia"))
        rows = {r[1].value: r for r in sheet.iter_rows(min_row=5)}  # by the units' codes
        assert rows["U1"][col].value == by_child["u1"]["indicators"]["participants"]
        assert rows["PROV"][col].value == total["participants"]
        assert book["Tình hình báo cáo"].cell(row=5 + 3, column=4).value == 6  # total row: expected

        consolidated = await outbox(rt, "report.consolidated")
        assert len(consolidated) == 1
        data = json.loads(consolidated[0][1])["data"]
        assert (data["docx"], data["xlsx"], data["expected"], data["submitted"]) == (reply["docx"], reply["xlsx"], 6, 6)
        assert data["exports"] == reply["exports"]

        # Any client fetches the files through the API, in chunks, under the access policy.
        by_kind = {e["kind"]: e for e in reply["exports"]}
        assert by_kind["docx"]["name"] == "bao-cao-tong-hop-PROV-2026.docx"
        for kind, path in (("docx", reply["docx"]), ("xlsx", reply["xlsx"])):
            ref, got, offset = by_kind[kind], b"", 0
            while offset is not None:
                chunk = ok(*await call(nc, api("reports", "get_export"), {
                    "export_id": ref["export_id"], "offset": offset, "limit": 4096, "actor_id": "tg"}))
                assert chunk["offset"] == offset and chunk["size"] == ref["size"]
                got += base64.b64decode(chunk["content_base64"])
                offset = chunk["next_offset"]
            assert got == Path(path).read_bytes() and hashlib.sha256(got).hexdigest() == ref["sha256"]
            assert len(got) > 4096  # it came in several chunks
        error(*await call(nc, api("reports", "get_export"), {"export_id": by_kind["docx"]["export_id"],
                                                            "actor_id": "g1c"}), "403")
        error(*await call(nc, api("reports", "get_export"), {"export_id": "c-nope.docx", "actor_id": "tg"}), "404")

        # Scope: a grassroots union cannot consolidate the province.
        error(*await call(nc, api("reports", "consolidate"), {"requirement_id": REQ, "actor_id": "g1c"}), "403")


async def test_requirement_by_command_cut_off_forms_and_bad_input(nc, nats_server, make_db_url):
    async with running("reports", nats_server.url, await make_db_url("reports")) as rt:
        js = await setup(nc, rt)
        body = {"requirement_id": "q4", "name": "Báo cáo quý IV/2026", "issuer_unit_id": "u1",
                "reporting_kinds": ["grassroots_union"], "period": "2026-Q4", "due_date": "2026-12-31",
                "grace_days": 3, "cutoff_date": "2027-01-10", "form_id": "bc-01-kl-tw", "actor_id": "u1c"}
        error(*await call(nc, api("reports", "open_requirement"), {**body, "actor_id": "g1c"}), "403")
        error(*await call(nc, api("reports", "open_requirement"), {**body, "cutoff_date": "2027-01-01"}), "422")
        error(*await call(nc, api("reports", "open_requirement"), {**body, "form_id": "nope"}), "404")
        q = ok(*await call(nc, api("reports", "open_requirement"), body))
        assert (q["hierarchy_as_of"], q["form_version"], q["reminder_days"]) == ("2026-12-31", 1, [7, 3, 1])
        again = ok(*await call(nc, api("reports", "open_requirement"), body))
        assert again["duplicate"] is True
        error(*await call(nc, api("reports", "open_requirement"), {**body, "due_date": "2026-12-30"}), "409")

        def sub(unit: str) -> dict[str, Any]:
            return {"requirement_id": "q4", "period": "2026-Q4", "unit_id": unit, "values": values(5, 5),
                    "actor_id": f"{unit}c"}

        error(*await call(nc, api("reports", "submit_report"), sub("g3")), "409")  # not under u1
        await set_time(js, rt, datetime(2027, 1, 3, 9, 0))  # within the grace
        assert ok(*await call(nc, api("reports", "submit_report"), sub("g1")))["on_time"] is True
        await set_time(js, rt, datetime(2027, 1, 4, 9, 0))
        r2 = ok(*await call(nc, api("reports", "submit_report"), sub("g2")))
        assert r2["on_time"] is False
        ok(*await call(nc, api("reports", "return_report"),
                       {"report_id": r2["report_id"], "actor_id": "u1c", "comment": "Sửa số liệu."}))
        await set_time(js, rt, datetime(2027, 1, 11, 9, 0))  # past the cut-off
        error(*await call(nc, api("reports", "submit_report"), sub("g1")), "409")
        assert ok(*await call(nc, api("reports", "submit_report"), sub("g2")))["revision"] == 2  # asked for

        # Forms as data: another campaign registers its own form, versioned.
        form = {"form_id": "bc-thang-cong-nhan", "version": 1, "title": "Báo cáo Tháng Công nhân",
                "fields": [{"key": "activities", "kind": "number", "label": "Số hoạt động", "unit": "hoạt động"},
                           {"key": "summary", "kind": "text", "label": "Tóm tắt", "compulsory": False}]}
        f = ok(*await call(nc, api("reports", "register_form"), {"definition": form, "actor_id": "chair"}))
        assert (f["form_id"], f["version"]) == ("bc-thang-cong-nhan", 1)
        assert ok(*await call(nc, api("reports", "register_form"), {"definition": form}))["duplicate"] is True
        error(*await call(nc, api("reports", "register_form"),
                          {"definition": {**form, "title": "Khác"}}), "409")
        error(*await call(nc, api("reports", "register_form"),
                          {"definition": {**form, "fields": [{"key": "x", "kind": "nope", "label": "X"}]}}), "422")
        assert ok(*await call(nc, api("reports", "get_form"), {"form_id": "bc-thang-cong-nhan"}))["version"] == 1
        async def form_events() -> list[dict[str, Any]]:
            psub = await js.pull_subscribe("congdoan.evt.reports.form.registered.v1", stream="CONGDOAN_REPORTS")
            try:
                return [json.loads(m.data)["data"] for m in await psub.fetch(5, timeout=3)]
            finally:
                await psub.unsubscribe()
        await wait_until(lambda: _relayed(rt), what="reports' outbox relayed")
        assert [(e["form_id"], e["version"], e["fields"]) for e in await form_events()] == [("bc-thang-cong-nhan", 1, 2)]
        q5 = ok(*await call(nc, api("reports", "open_requirement"), {
            **body, "requirement_id": "may", "name": "Tháng Công nhân 2027", "period": "2027-05",
            "due_date": "2027-05-31", "cutoff_date": None, "form_id": "bc-thang-cong-nhan"}))
        err = error(*await call(nc, api("reports", "submit_report"), {
            "requirement_id": q5["requirement_id"], "period": "2027-05", "unit_id": "g1", "values": {"summary": "x"},
            "actor_id": "g1c"}), "422")
        assert [d["field"] for d in err["details"]] == ["values.activities"]

        # Structured errors for bad input.
        error(*await call(nc, api("reports", "get_completeness"), {"requirement_id": "nope"}), "404")
        error(*await call(nc, api("reports", "consolidate"), {"requirement_id": "q4", "unit_id": "ghost",
                                                              "actor_id": "u1c"}), "404")
        error(*await call(nc, api("reports", "accept_report"), {"report_id": "nope", "actor_id": "chair"}), "404")
        error(*await call(nc, api("reports", "accept_report"), {"report_id": r2["report_id"], "actor_id": "ghost"}),
              "403")
        err = error(*await call(nc, api("reports", "consolidate"), {"requirement_id": "q4", "narrative": {"x": "y"},
                                                                    "actor_id": "u1c"}), "422")
        assert err["details"][0]["field"] == "narrative.x"
        # A requirement reports does not know is 404: a mistyped id is no free-form report.
        err = error(*await call(nc, api("reports", "submit_report"), {
            "report_id": "legacy-1", "requirement_id": "annual", "period": "2026", "unit_id": "g4",
            "values": {"note": "tự do"}, "actor_id": "g4c"}), "404")
        assert err["details"][0]["field"] == "requirement_id"


async def _count(rt: Any, type_suffix: str, n: int) -> bool:
    return len(await outbox(rt, type_suffix)) >= n


async def _consumed(js: Any, n: int) -> bool:
    info = await js.consumer_info("CONGDOAN_PLANS", "reports-from-plans")
    return info.delivered.stream_seq >= n and info.num_ack_pending == 0 and info.num_pending == 0




async def test_reports_stay_as_accepted_and_every_revision_is_kept(nc, nats_server, make_db_url):
    async with running("reports", nats_server.url, await make_db_url("reports")) as rt:
        js = await setup(nc, rt)
        await set_time(js, rt, datetime(2026, 11, 20, 9, 0))
        a, b, c = values(100, 90), values(100, 80), values(100, 70)
        r1 = ok(*await call(nc, api("reports", "submit_report"), submit("g1", a, report_id="rep-g1")))
        assert r1["revision"] == 1
        # The same id with other figures is refused, never answered "duplicate" with the change dropped.
        err = error(*await call(nc, api("reports", "submit_report"), submit("g1", b, report_id="rep-g1")), "409")
        assert err["details"][0]["type"] == "report_id_reused" and "Mã báo cáo rep-g1" in err["message"]
        # The form's rules hold for every submission, a retry's too: no negative count, no unknown field.
        err = error(*await call(nc, api("reports", "submit_report"),
                                submit("g1", {**a, "study_sessions": -5}, report_id="rep-g1")), "422")
        assert [d["field"] for d in err["details"]] == ["values.study_sessions"]
        err = error(*await call(nc, api("reports", "submit_report"), submit("g1", {**a, "so_buoi": 3})), "422")
        assert [d["field"] for d in err["details"]] == ["values.so_buoi"]
        # A correction is a new submission: revision 2.
        assert ok(*await call(nc, api("reports", "submit_report"), submit("g1", b)))["revision"] == 2
        ok(*await call(nc, api("reports", "accept_report"), {"report_id": "rep-g1", "actor_id": "u1c"}))

        # Accepted: nothing changes it — neither a resubmission without report_id nor one with it.
        err = error(*await call(nc, api("reports", "submit_report"), submit("g1", c)), "409")
        assert err["details"][0]["type"] == "report_accepted" and "mở lại" in err["message"]
        error(*await call(nc, api("reports", "submit_report"), submit("g1", c, report_id="rep-g1")), "409")
        same = ok(*await call(nc, api("reports", "submit_report"), submit("g1", b)))
        assert (same["duplicate"], same["revision"], same["status"]) == (True, 2, "accepted")
        view = ok(*await call(nc, api("reports", "get_report"), {"report_id": "rep-g1", "actor_id": "u1c"}))
        assert (view["status"], view["revision"], view["values"]["members_with_plans"]) == ("accepted", 2, 80)

        # Only its receiving level reopens it; then the unit sends a corrected revision.
        error(*await call(nc, api("reports", "reopen_report"),
                          {"report_id": "rep-g1", "comment": "Sửa số liệu", "actor_id": "g1c"}), "403")
        error(*await call(nc, api("reports", "reopen_report"),
                          {"report_id": "rep-g1", "comment": "Sửa số liệu", "actor_id": "u2c"}), "403")
        reopened = ok(*await call(nc, api("reports", "reopen_report"), {
            "report_id": "rep-g1", "comment": "Đề nghị sửa số đoàn viên có kế hoạch cá nhân.", "actor_id": "u1c"}))
        assert (reopened["status"], reopened["by_unit_id"], reopened["revision"]) == ("submitted", "u1", 2)
        err = error(*await call(nc, api("reports", "reopen_report"),
                                {"report_id": "rep-g1", "comment": "Lần nữa", "actor_id": "u1c"}), "409")
        assert err["details"][0]["type"] == "not_reopenable"
        r3 = ok(*await call(nc, api("reports", "submit_report"), submit("g1", c)))
        assert (r3["revision"], r3["on_time"], r3["status"]) == (3, True, "submitted")

        view = ok(*await call(nc, api("reports", "get_report"), {"report_id": "rep-g1", "actor_id": "u1c"}))
        assert [h["action"] for h in view["history"]] == ["accepted", "reopened"]
        assert [(r["revision"], r["values"]["members_with_plans"], r["submitted_by"]) for r in view["revisions"]] == [
            (1, 90, "g1c"), (2, 80, "g1c"), (3, 70, "g1c")]
        assert all(r["submitted_at"].startswith("2026-11-20T") for r in view["revisions"])
        await wait_until(lambda: _count(rt, "report.reopened", 1), what="the reopened event")
        data = json.loads((await outbox(rt, "report.reopened"))[0][1])["data"]
        assert (data["unit_id"], data["by_unit_id"], data["revision"]) == ("g1", "u1", 2)
        assert len(await outbox(rt, "report.submitted")) == 3  # refusals and retries told nobody


async def _relayed(rt: Any) -> bool:
    return await rt.relay.pending() == 0
