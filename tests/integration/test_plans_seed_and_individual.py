"""The seed as data (the demo hierarchy and the seed plan loaded by the CLI through NATS,
idempotently) and individual plans (write, self-assess with a rating, supplement for next year,
coverage of who must keep one, the results export with Vietnamese headers) — SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import base64
import csv
import io
import json
from datetime import datetime

import pytest
import sqlalchemy as sa

from runtime.clock import set_shared_time
from services.plans import cli
from services.plans.domain.seed_plan import SEED_PLAN
from services.plans.seed.demo import CHAIR_ID, PROVINCE_ID, demo_hierarchy
from tests.conftest import wait_until
from tests.integration.test_plans_support import events, fails, ok
from tests.support import TEST_NATS, TEST_SECRETS, client, running

NOW = datetime(2026, 12, 10, 10, 0)
DEMO_PASSWORD = "demo-sen-hong-2026"


async def test_the_seed_plan_and_demo_hierarchy_load_idempotently(nc, nats_server, make_db_url, capsys, tmp_path,
                                                                  monkeypatch):
    js = nc.jetstream()
    monkeypatch.setenv("CONGDOAN_CLIENT_ID", "loader")  # the CLI's machine identity
    monkeypatch.setenv("CONGDOAN_CLIENT_SECRET_FILE", str(TEST_SECRETS / "clients" / "loader.secret"))
    monkeypatch.setenv("CONGDOAN_NATS_CREDS", str(TEST_NATS.seed_path("client")))  # the CLI's NATS user
    await set_shared_time(js, NOW)
    async with running("plans", nats_server.url, await make_db_url("plans")) as rt:
        out = await cli.load_demo(grassroots=20, log=lambda *_: None, api=client(nc), password=DEMO_PASSWORD)
        units, people = demo_hierarchy(20)
        assert out["units"] == len(units) and out["people"] == len(people)
        issue = out["plan"]["issue"]
        assert issue["revision"] == 1 and issue["units"] == len(units) and issue["occurrences"] > 0
        async with rt.engine.connect() as conn:
            counts = [(await conn.execute(sa.text(f"SELECT count(*) FROM {t}"))).scalar_one()
                      for t in ("outbox", "occurrences", "dir_units", "dir_people", "reminders")]
        # The second run changes nothing.
        again = await cli.load_demo(grassroots=20, log=lambda *_: None, api=client(nc), password=DEMO_PASSWORD)
        assert again["plan"]["issue"]["duplicate"] is True
        async with rt.engine.connect() as conn:
            assert counts == [(await conn.execute(sa.text(f"SELECT count(*) FROM {t}"))).scalar_one()
                              for t in ("outbox", "occurrences", "dir_units", "dir_people", "reminders")]
        # The plan as stored is the seed: every item with its parties and its timing as the text says
        # — its cycle placed in the demo's year (10/12/2026: 2026's 30/11 has passed, so 2027).
        plan = await ok(nc, "get_plan", {"plan_id": cli.SEED_PLAN_ID, "actor_id": CHAIR_ID})
        items = {i["item_id"]: i for s in plan["document"]["sections"] for i in s["items"]}
        assert list(items) == [i.item_id for i in SEED_PLAN.items()]
        for item in SEED_PLAN.items():
            shifted = item.timing_text.replace("/2021", "/2027") if item.timing_text else item.timing_text
            assert items[item.item_id]["timing_text"] == shifted
            assert items[item.item_id]["responsible"] == [
                {"kind": "unit", "unit_id": None, "code": None, "unit_kinds": None, "roles": None, "under": None,
                 "name": None, "unit_kind": None, **p} for p in item.responsible]
        assert plan["document"]["basis"][0]["number"] == "01-KL/TW"
        assert [r["label"] for r in plan["document"]["recipients"]][-1] == "Lưu: VT, Ban TG-NC"
        assert plan["issued_on"] == "2026-12-10" and plan["status"] == "issued"
        # Each item's timing as plans reads it: its kind, in Vietnamese, and the dates it gives.
        timings = {t["item_id"]: t for t in plan["timings"]}
        assert list(timings) == list(items)
        assert (timings["II.3.a"]["kind"], timings["II.3.a"]["label"]) == ("yearly_by_day", "Trước ngày 30/11 hằng năm")
        assert {"period": "2027", "start": None, "due": "2027-11-30"} in timings["II.3.a"]["due_dates"]
        assert (timings["II.1.a"]["kind"], timings["II.1.a"]["label"]) == ("ongoing", "Thường xuyên")
        assert timings["II.1.a"]["due_dates"][0]["due"] is None
        window = timings["II.2.c"]
        assert window["kind"] == "yearly_window" and window["label"].startswith("Từ ngày 01/05 đến ngày 31/05 hằng năm")
        assert window["due_dates"][0]["start"].endswith("-05-01")
        # Units below see the plan they implement; the CLI shows it too.
        await ok(nc, "get_plan", {"plan_id": cli.SEED_PLAN_ID, "actor_id": "p-cdcs-00001-3"})
        capsys.readouterr()
        assert await asyncio.to_thread(cli.main, ["--nats-url", nats_server.url, "show-plan"]) == 0
        shown = json.loads(capsys.readouterr().out)
        assert shown["plan_id"] == cli.SEED_PLAN_ID
        assert await asyncio.to_thread(cli.main, ["--nats-url", nats_server.url, "rollup", "--year", "2027"]) == 0
        rolled = json.loads(capsys.readouterr().out)
        assert rolled["totals"]["total"] > 0 and rolled["totals"]["overdue"] == 0
        # The import CLI reports bad lines and imports nothing.
        bad = tmp_path / "units.csv"
        bad.write_text("code,name,kind,parent_code\nX1,Một,grassroots_union,KHONG_CO\n", encoding="utf-8")
        assert await asyncio.to_thread(cli.main, ["--nats-url", nats_server.url, "import-units", str(bad)]) == 1
        assert "line 2: parent_code" in capsys.readouterr().err


async def test_individual_plans_coverage_and_export(nc, nats_server, make_db_url):
    js = nc.jetstream()
    await set_shared_time(js, NOW)
    async with running("plans", nats_server.url, await make_db_url("plans")) as rt:
        await cli.load_demo(grassroots=4, seed_plan=False, log=lambda *_: None, api=client(nc), password=DEMO_PASSWORD)
        _, people = demo_hierarchy(4)
        chair_upper = next(p for p in people if p.unit_id == "cd-ldld-quy-nhon" and "chairperson" in p.roles)
        exec_upper = next(p for p in people if p.unit_id == "cd-ldld-quy-nhon" and p.roles == ("executive_member", "cadre"))
        cadre_upper = next(p for p in people if p.unit_id == "cd-ldld-quy-nhon" and p.roles == ("cadre",))
        # The executive member writes the 2026 plan; a colleague may not write it for them.
        await fails(nc, "submit_individual_plan", {"person_id": exec_upper.person_id, "year": 2026,
                                                   "commitments": ["x"], "actor_id": cadre_upper.person_id}, "403")
        v = await ok(nc, "submit_individual_plan", {
            "person_id": exec_upper.person_id, "year": 2026, "actor_id": exec_upper.person_id,
            "commitments": ["Học tập chuyên đề năm 2026 và viết thu hoạch",
                            "Mỗi quý một buổi sinh hoạt chuyên đề với cán bộ công đoàn cơ sở"]})
        assert (v["status"], v["required"], v["individual_plan_id"]) == ("submitted", True,
                                                                        f"ip-2026-{exec_upper.person_id}")
        # The chairperson of the unit (an acting role) writes for the cadre; amending does not re-submit.
        await ok(nc, "submit_individual_plan", {"person_id": cadre_upper.person_id, "year": 2026,
                                                "commitments": ["Đăng 4 tin bài"], "actor_id": chair_upper.person_id})
        await ok(nc, "submit_individual_plan", {"person_id": cadre_upper.person_id, "year": 2026,
                                                "commitments": ["Đăng 6 tin bài"], "actor_id": cadre_upper.person_id})
        # Year end: self-assessment with a rating and next year's supplement.
        await fails(nc, "assess_individual_plan", {"person_id": chair_upper.person_id, "year": 2026,
                                                   "results": "…", "rating": "good",
                                                   "actor_id": chair_upper.person_id}, "409")  # no plan
        a = await ok(nc, "assess_individual_plan", {
            "person_id": exec_upper.person_id, "year": 2026, "actor_id": exec_upper.person_id,
            "results": "Hoàn thành các nội dung cam kết; tổ chức 4 buổi sinh hoạt chuyên đề.", "rating": "excellent",
            "supplement": ["Nhân rộng mô hình “Bữa cơm công đoàn” tại 3 CĐCS"]})
        assert (a["status"], a["rating"]) == ("assessed", "excellent")
        await fails(nc, "assess_individual_plan", {"person_id": exec_upper.person_id, "year": 2026,
                                                   "results": "khác", "rating": "good",
                                                   "actor_id": exec_upper.person_id}, "409")
        await fails(nc, "submit_individual_plan", {"person_id": exec_upper.person_id, "year": 2026,
                                                   "commitments": ["muộn"], "actor_id": exec_upper.person_id}, "409")
        nxt = await ok(nc, "get_individual_plan", {"person_id": exec_upper.person_id, "year": 2027,
                                                   "actor_id": exec_upper.person_id})
        assert nxt["status"] == "missing" and nxt["carried_over"] == ["Nhân rộng mô hình “Bữa cơm công đoàn” tại 3 CĐCS"]
        # Coverage: who must keep one (executive members, heads of unit) and who has.
        cov = await ok(nc, "get_individual_plan_coverage", {"unit_id": "cd-ldld-quy-nhon", "year": 2026,
                                                            "actor_id": chair_upper.person_id})
        assert cov["units"][0]["unit_id"] == "cd-ldld-quy-nhon"
        assert (cov["units"][0]["required"], cov["units"][0]["submitted"], cov["units"][0]["assessed"]) == (2, 1, 1)
        assert [m["person_id"] for m in cov["units"][0]["missing"]] == [chair_upper.person_id]
        prov = await ok(nc, "get_individual_plan_coverage", {"unit_id": PROVINCE_ID, "year": 2026,
                                                             "actor_id": CHAIR_ID, "page": {"limit": 5}})
        required = sum(1 for p in people if {"executive_member", "head_of_unit"} & set(p.roles))
        assert (prov["required"], prov["submitted"], prov["assessed"]) == (required, 1, 1)
        assert len(prov["units"]) == 5 and prov["next_cursor"] == "5"
        await fails(nc, "get_individual_plan_coverage", {"unit_id": PROVINCE_ID, "year": 2026,
                                                         "actor_id": chair_upper.person_id}, "403")
        # The export for the annual evaluation of cadres.
        exp = await ok(nc, "export_individual_plans", {"unit_id": "cd-ldld-quy-nhon", "year": 2026,
                                                       "actor_id": chair_upper.person_id})
        assert exp["filename"] == "ke-hoach-ca-nhan-LDLD_QUY_NHON-2026.csv"
        rows = list(csv.reader(io.StringIO(base64.b64decode(exp["content_base64"]).decode("utf-8-sig"))))
        assert rows[0][:4] == ["STT", "Họ và tên", "Đơn vị", "Chức danh"]
        by_name = {r[1]: r for r in rows[1:]}
        assessed = by_name[exec_upper.full_name]
        assert assessed[10] == "Hoàn thành xuất sắc nhiệm vụ" and assessed[9] == "10/12/2026" and assessed[4] == "Có"
        assert by_name[cadre_upper.full_name][4] == "Không" and by_name[cadre_upper.full_name][7] == "1"
        assert by_name[chair_upper.full_name][6] == "Chưa xây dựng"
        xlsx = await ok(nc, "export_individual_plans", {"unit_id": PROVINCE_ID, "year": 2026, "format": "xlsx",
                                                        "actor_id": CHAIR_ID})
        from openpyxl import load_workbook
        wb = load_workbook(io.BytesIO(base64.b64decode(xlsx["content_base64"])))
        ws = wb.active
        assert ws.cell(row=3, column=2).value == "Họ và tên" and xlsx["rows"] == required + 1
        await wait_until(lambda: _idle(rt), what="outbox drained")
        assert [e["data"]["person_id"] for e in await events(js, "individual_plan.submitted")] == [
            exec_upper.person_id, cadre_upper.person_id]
        [assessed_ev] = await events(js, "individual_plan.assessed")
        assert assessed_ev["data"]["rating"] == "excellent" and assessed_ev["data"]["year"] == 2026


async def _idle(rt) -> bool:  # type: ignore[no-untyped-def]
    return await rt.relay.pending() == 0


@pytest.mark.parametrize("at", [datetime(2027, 3, 16, 9, 0), datetime(2031, 10, 20, 15, 30)],
                         ids=["march-2027", "october-2031"])
async def test_make_runs_demo_plan_is_live_in_the_clocks_year(nc, nats_server, make_db_url, monkeypatch, at):
    """Issue 13 §10: the demo's seed plan has its cycle in the clock's year, labelled as demo data:
    tasks due ahead, and the 30/11 report of this year still to come — not a 2021 long past."""
    js = nc.jetstream()
    monkeypatch.setenv("CONGDOAN_CLIENT_ID", "loader")
    monkeypatch.setenv("CONGDOAN_CLIENT_SECRET_FILE", str(TEST_SECRETS / "clients" / "loader.secret"))
    monkeypatch.setenv("CONGDOAN_NATS_CREDS", str(TEST_NATS.seed_path("client")))
    await set_shared_time(js, at)
    year, today = at.year, at.date()
    async with running("plans", nats_server.url, await make_db_url("plans")):
        # As `make run` loads it: the CLI's own connection, as the NATS `client` user and the loader identity.
        out = await cli.load_demo(nats_server.url, grassroots=6, activity=False, log=lambda *_: None,
                                  password=DEMO_PASSWORD)
        assert out["plan"]["issue"]["issued_on"] == today.isoformat()
        plan = await ok(nc, "get_plan", {"plan_id": cli.SEED_PLAN_ID, "actor_id": CHAIR_ID})
        assert "Dữ liệu minh hoạ" in plan["document"]["title"] and plan["document"]["first_year"] == year
        timings = {t["item_id"]: t for t in plan["timings"]}
        assert timings["II.3.a"]["due_dates"][0]["due"] == f"{year}-11-30"
        items = {i["item_id"]: i for s in plan["document"]["sections"] for i in s["items"]}
        assert items["IV.1.1.a"]["timing_text"] == f"hoàn thành vào quý IV/{year}"
        assert "15/5/2021" in plan["document"]["title"]  # the documents it implements keep their dates
        # A grassroots union's tasks of this year: some due ahead, none overdue, the 30/11 report among them.
        unit = next(u for u in demo_hierarchy(6)[0] if u.kind == "grassroots_union")
        tasks = (await ok(nc, "list_tasks", {"unit_id": unit.unit_id, "plan_id": cli.SEED_PLAN_ID, "year": year,
                                             "page": {"limit": 100}, "actor_id": f"p-{unit.unit_id}-1"}))["items"]
        ahead = [t for t in tasks if t["due_date"] and t["due_date"] > today.isoformat()]
        assert ahead and all(t["category"] != "overdue" for t in tasks), tasks
        [report] = [t for t in tasks if t["item_id"] == "II.3.a"]
        assert (report["due_date"], report["status"]) == (f"{year}-11-30", "open")
        # The province's department has this year's one-off items ahead too (quý IV, tháng 12).
        dept = await ok(nc, "list_tasks", {"unit_id": f"{PROVINCE_ID}-ban-tgnc", "plan_id": cli.SEED_PLAN_ID,
                                           "year": year, "page": {"limit": 100}, "actor_id": CHAIR_ID})
        once = {t["item_id"]: t["due_date"] for t in dept["items"] if t["item_id"] in ("IV.1.1.a", "IV.1.1.b")}
        assert once == {"IV.1.1.a": f"{year}-12-31", "IV.1.1.b": f"{year}-12-31"}


def test_the_demo_cycle_is_the_year_whose_30_11_report_is_still_to_come():
    from services.plans.seed.demo import demo_cycle_year
    assert demo_cycle_year(datetime(2026, 1, 1).date()) == 2026
    assert demo_cycle_year(datetime(2026, 11, 30).date()) == 2026
    assert demo_cycle_year(datetime(2026, 12, 1).date()) == 2027  # this year's would be overdue on issue
