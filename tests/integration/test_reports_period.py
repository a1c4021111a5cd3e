"""One reporting period over a generated hierarchy of 2,000 units (a province: 38 upper-level
unions, 1,960 grassroots unions, a department), on SQLite and PostgreSQL: reports on time, late,
returned and resubmitted, returned and left, missing; reminders once per unit; completeness,
timeliness and the rollup checked exactly against figures computed here; a merge after the due
date keeps the rollup by the hierarchy of the period; the exports hold the figures.

The directory projection is written straight into reports' tables (2,000 units through plans'
events would only slow the test down; test_reports_service.py feeds the projection through events,
and the merge here goes through them too). Everything else goes through the service's endpoints."""

from __future__ import annotations

import asyncio
import json
import random
import re
from collections import defaultdict
from datetime import date, datetime
from typing import Any

import pytest
import sqlalchemy as sa

from runtime.directory import dir_parents, dir_people, dir_units
from tests.conftest import wait_until
from tests.integration.test_reports_service import error, ok, outbox, publish, set_time
from tests.support import api, call, running

REQ = "bc-2026"
ULUS, GRASSROOTS, UNDER_PROV = 38, 1960, 380
SINCE = date(2026, 1, 1)
FIELDS = ("study_sessions", "participants", "cadres_total", "cadres_with_plans", "members_total", "members_with_plans",
          "exemplary_models", "commended_collectives", "commended_individuals", "news_posts")


def hierarchy() -> tuple[dict[str, str | None], dict[str, str], dict[str, str]]:
    parent: dict[str, str | None] = {"prov": None, "tgnc": "prov"}
    kind = {"prov": "provincial_federation", "tgnc": "department"}
    name = {"prov": "Liên đoàn Lao động tỉnh Bình Định", "tgnc": "Ban Tuyên giáo - Nữ công"}
    for i in range(ULUS):
        u = f"u{i:02d}"
        parent[u], kind[u], name[u] = "prov", "upper_level_union", f"Công đoàn khu vực số {i + 1}"
    for k in range(GRASSROOTS):
        g = f"g{k:04d}"
        parent[g] = "prov" if k < UNDER_PROV else f"u{(k - UNDER_PROV) % ULUS:02d}"
        kind[g], name[g] = "grassroots_union", f"Công đoàn cơ sở Công ty số {k + 1}"
    assert len(parent) == 2000
    return parent, kind, name


def figures(rng: random.Random) -> dict[str, Any]:
    members = rng.randint(5, 400)
    cadres = rng.randint(1, 15)
    v: dict[str, Any] = {"study_sessions": rng.randint(0, 12), "participants": rng.randint(0, 3 * members),
                         "cadres_total": cadres, "cadres_with_plans": rng.randint(0, cadres), "members_total": members,
                         "members_with_plans": rng.randint(0, members), "exemplary_models": rng.randint(0, 3),
                         "commended_collectives": rng.randint(0, 2), "commended_individuals": rng.randint(0, 6),
                         "news_posts": rng.randint(0, 30), "results": "Hoàn thành kế hoạch học tập.",
                         "limitations": "Còn hạn chế.", "next_year_tasks": "Tiếp tục thực hiện."}
    return v


async def write_directory(rt: Any, parent: dict[str, str | None], kind: dict[str, str], name: dict[str, str]) -> None:
    people = [{"person_id": "chair", "unit_id": "prov", "full_name": "Nguyễn Mạnh Hùng", "roles": ["chairperson"]},
              {"person_id": "tg", "unit_id": "tgnc", "full_name": "Trần Thị Lan", "roles": ["cadre"]}]
    people += [{"person_id": f"{u}c", "unit_id": u, "full_name": f"Chủ tịch {u}", "roles": ["chairperson"]}
               for u in parent if kind[u] in ("upper_level_union", "grassroots_union")]
    async with rt.engine.begin() as conn:
        await conn.execute(dir_units.insert(), [{"unit_id": u, "code": u.upper(), "name": name[u], "kind": kind[u],
                                                 "registered_on": SINCE} for u in parent])
        await conn.execute(dir_parents.insert(), [{"unit_id": u, "parent_id": p, "valid_from": SINCE, "valid_to": None}
                                                  for u, p in parent.items()])
        await conn.execute(dir_people.insert(), [{**p, "email": None, "phone": None, "active": True} for p in people])


async def gather(calls: list[Any], limit: int = 32) -> list[Any]:
    sem = asyncio.Semaphore(limit)

    async def one(c: Any) -> Any:
        async with sem:
            return await c

    return await asyncio.gather(*(one(c) for c in calls))


@pytest.mark.slow
async def test_one_period_over_2000_units(nc, nats_server, make_db_url):
    parent, kind, name = hierarchy()
    children: dict[str, list[str]] = defaultdict(list)
    for u, p in parent.items():
        if p:
            children[p].append(u)
    expected = [u for u in parent if kind[u] in ("upper_level_union", "grassroots_union")]
    rng = random.Random(2026)
    fate: dict[str, str] = {}
    for u in expected:
        x = rng.random()
        fate[u] = ("on_time" if x < 0.60 else "late" if x < 0.70 else "resubmitted" if x < 0.78
                   else "returned" if x < 0.81 else "missing")
    first = {u: figures(rng) for u in expected}
    final = {u: (figures(rng) if fate[u] == "resubmitted" else first[u]) for u in expected}

    def reviewer(u: str) -> str:
        p = parent[u]
        return "tg" if p == "prov" else f"{p}c"

    def body(u: str, v: dict[str, Any]) -> dict[str, Any]:
        return {"requirement_id": REQ, "period": "2026", "unit_id": u, "values": v, "report_id": f"rep-{u}",
                "actor_id": f"{u}c"}

    async def submit(units: list[str], values: dict[str, dict[str, Any]]) -> list[Any]:
        replies = await gather([call(nc, api("reports", "submit_report"), body(u, values[u])) for u in units])
        return [ok(h, b) for h, b in replies]

    async with running("reports", nats_server.url, await make_db_url("reports")) as rt:
        js = nc.jetstream()
        await write_directory(rt, parent, kind, name)
        await set_time(js, rt, datetime(2026, 11, 10, 9, 0))
        q = ok(*await call(nc, api("reports", "open_requirement"), {
            "requirement_id": REQ, "name": "Báo cáo kết quả thực hiện Kết luận số 01-KL/TW năm 2026",
            "issuer_unit_id": "prov", "receiving_department": "Ban Tuyên giáo - Nữ công",
            "reporting_kinds": ["upper_level_union", "grassroots_union"], "period": "2026", "due_date": "2026-11-30",
            "grace_days": 1, "reminder_days": [7], "actor_id": "chair"}))
        assert q["hierarchy_as_of"] == "2026-11-30"

        # 20/11: the on-time reports, and the first version of those that will be returned.
        await set_time(js, rt, datetime(2026, 11, 20, 9, 0))
        early = [u for u in expected if fate[u] in ("on_time", "resubmitted", "returned")]
        receipts = await submit(early, first)
        assert all(r["on_time"] and r["revision"] == 1 for r in receipts)
        assert {r["unit_id"]: r["receiving_unit_id"] for r in receipts} == {u: parent[u] for u in early}
        returned = [u for u in expected if fate[u] in ("resubmitted", "returned")]
        for h, b in await gather([call(nc, api("reports", "return_report"), {
                "report_id": f"rep-{u}", "actor_id": reviewer(u), "comment": "Số liệu chưa khớp, đề nghị kiểm tra lại."})
                for u in returned]):
            assert ok(h, b)["status"] == "returned"

        # 23/11 08:00: "deadline approaching" (7 days), once per unit still missing.
        await set_time(js, rt, datetime(2026, 11, 23, 9, 0))
        waiting = sorted(u for u in expected if fate[u] in ("late", "missing", "resubmitted", "returned"))
        await wait_until(lambda: _n(rt, "report.deadline_approaching", len(waiting)), what="7-day reminders")
        assert sorted(s for s, _ in await outbox(rt, "report.deadline_approaching")) == waiting

        # 28/11: the corrections; a resubmission keeps the first submission's timeliness.
        await set_time(js, rt, datetime(2026, 11, 28, 9, 0))
        resubmitted = [u for u in expected if fate[u] == "resubmitted"]
        assert all(r["revision"] == 2 and r["on_time"] for r in await submit(resubmitted, final))

        # 02/12 (due 30/11, grace 1 day): overdue, once per unit still missing; then the late reports.
        await set_time(js, rt, datetime(2026, 12, 2, 9, 0))
        overdue = sorted(u for u in expected if fate[u] in ("late", "missing", "returned"))
        await wait_until(lambda: _n(rt, "report.overdue", len(overdue)), what="overdue notices")
        assert sorted(s for s, _ in await outbox(rt, "report.overdue")) == overdue
        late = [u for u in expected if fate[u] == "late"]
        assert not any(r["on_time"] for r in await submit(late, final))

        # One upper-level union reviews its subtree: accepted, except every fifth report (pending).
        sub05 = [u for u in expected if u == "u05" or parent[u] == "u05"]
        accepted05 = [u for i, u in enumerate(sub05) if fate[u] in ("on_time", "late", "resubmitted") and i % 5]
        for h, b in await gather([call(nc, api("reports", "accept_report"), {
                "report_id": f"rep-{u}", "actor_id": "tg" if u == "u05" else "u05c"}) for u in accepted05]):
            ok(h, b)

        # --- completeness and timeliness, exactly
        counted = {u for u in expected if fate[u] in ("on_time", "late", "resubmitted")}

        def want(units: list[str], rule: str = "received") -> dict[str, int]:
            units = [u for u in units if u in fate]
            sub = [u for u in units if u in counted and (rule == "received" or u in accepted05)]
            on_time = [u for u in sub if fate[u] != "late"]
            return {"expected": len(units), "submitted": len(sub), "on_time": len(on_time),
                    "late": len(sub) - len(on_time), "missing": len(units) - len(sub),
                    "returned": sum(fate[u] == "returned" for u in units),
                    "pending": 0 if rule == "received" else sum(u in counted and u not in accepted05 for u in units)}

        def subtree(u: str) -> list[str]:
            out, stack = [], [u]
            while stack:
                x = stack.pop()
                out.append(x)
                stack.extend(children[x])
            return out

        comp = ok(*await call(nc, api("reports", "get_completeness"), {
            "requirement_id": REQ, "actor_id": "tg", "missing_limit": 2000}))
        assert comp["completeness"] == want(expected)
        assert sorted(m["unit_id"] for m in comp["missing_units"]) == sorted(
            u for u in expected if fate[u] in ("missing", "returned"))
        assert {m["unit_id"]: m["reason"] for m in comp["missing_units"]} == {
            u: "returned" if fate[u] == "returned" else "not_submitted" for u in expected
            if fate[u] in ("missing", "returned")}
        kids = {c["unit_id"]: c for c in comp["children"]}
        assert set(kids) == set(children["prov"]) - {"tgnc"}
        for u in children["prov"]:
            if u != "tgnc":
                assert kids[u]["completeness"] == want(subtree(u)), u
        for rule in ("received", "accepted"):
            comp05 = ok(*await call(nc, api("reports", "get_completeness"), {
                "requirement_id": REQ, "unit_id": "u05", "counting": rule, "actor_id": "u05c"}))
            assert comp05["completeness"] == want(sub05, rule), rule

        # --- a merge after the due date: u00 joins u01 on 05/12, its unions with it.
        await set_time(js, rt, datetime(2026, 12, 5, 9, 0))
        for g in children["u00"]:
            await publish(js, "vn.congdoan.plans.unit.moved.v1", {"unit_id": g, "from_parent_id": "u00",
                                                                   "to_parent_id": "u01", "effective_from": "2026-12-05"})
        await publish(js, "vn.congdoan.plans.unit.closed.v1", {"unit_id": "u00", "effective_from": "2026-12-05",
                                                                 "merged_into": "u01"})

        async def merged() -> bool:
            async with rt.engine.connect() as conn:
                return (await conn.execute(sa.text("SELECT closed_on FROM dir_units WHERE unit_id = 'u00'"))).scalar() \
                    is not None

        await wait_until(merged, what="the merge in reports' projection")

        # --- the rollup by the hierarchy of the period
        await set_time(js, rt, datetime(2026, 12, 10, 9, 0))
        reply = ok(*await call(nc, api("reports", "consolidate"), {
            "requirement_id": REQ, "counting": "received", "actor_id": "tg", "missing_limit": 5}, timeout=120))

        def rollup(units: list[str]) -> dict[str, Any]:
            sums = {k: sum(final[u][k] for u in units if u in counted) for k in FIELDS}
            shares = {"cadres_with_plans_share": ("cadres_with_plans", "cadres_total"),
                      "members_with_plans_share": ("members_with_plans", "members_total")}
            for key, (n, d) in shares.items():
                sums[key] = (sums[n] / sums[d] if sums[d] else None) if sums[n] else (0.0 if sums[d] else None)
            return sums

        assert reply["completeness"] == want(expected)
        assert reply["missing_truncated"] is True and len(reply["missing_units"]) == 5
        assert reply["indicators"] == rollup(expected)
        kids = {c["unit_id"]: c for c in reply["children"]}
        for u in ("u00", "u01", "u37", "g0000", "g0379"):
            assert kids[u]["indicators"] == rollup(subtree(u)), u
            assert kids[u]["completeness"] == want(subtree(u)), u
        assert len(subtree("u00")) > 40  # u00 keeps its unions in the period's rollup, u01 does not get them
        assert kids["u01"]["completeness"]["expected"] == len(subtree("u01"))

        import docx
        import openpyxl

        book = openpyxl.load_workbook(reply["xlsx"], read_only=True)
        rows = list(book["Chỉ tiêu"].iter_rows(min_row=5, values_only=True))
        total = rows[-1]
        assert total[2] == "Tổng cộng" and total[4] == reply["indicators"]["participants"]
        by_code = {r[1]: r for r in rows[:-1]}  # the sheet names units by their code, as people write them
        assert by_code["U00"][4] == rollup(subtree("u00"))["participants"]
        missing_rows = list(book["Đơn vị chưa báo cáo"].iter_rows(min_row=5, values_only=True))
        assert len(missing_rows) == reply["completeness"]["missing"]
        text = "\n".join(p.text for p in docx.Document(reply["docx"]).paragraphs)
        n_missing = reply["completeness"]["missing"]
        assert re.search(rf"Danh sách {n_missing} đơn vị chưa báo cáo tại Phụ lục( [IVX]+)? kèm theo\.", text), text[:2000]
        assert f"đúng hạn: {reply['completeness']['on_time']:,}".replace(",", ".") in text

        # Reminders were never sent twice.
        await rt.wiring.parts["scheduler"].fire_due()
        assert len(await outbox(rt, "report.overdue")) == len(overdue)
        data = [json.loads(p)["data"] for _, p in await outbox(rt, "report.overdue")]
        assert {d["unit_id"]: d["receiving_unit_id"] for d in data} == {u: parent[u] for u in overdue}
        error(*await call(nc, api("reports", "get_completeness"), {"requirement_id": REQ, "unit_id": "u05",
                                                                    "actor_id": "u06c"}), "403")


async def _n(rt: Any, type_suffix: str, n: int) -> bool:
    return len(await outbox(rt, type_suffix)) >= n
