"""Plans cascade into task occurrences over a generated hierarchy of 2,003 units (SQLite and
PostgreSQL): the seed plan issued, one tasks.assigned per unit, units updating their
occurrences, an implementation plan completing "build your plan", rollups per plan and per
subtree — with a unit that moved counted where it belonged at the time. Then revisions (history
kept), closing, and bad input."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime

from runtime.clock import set_shared_time
from services.plans.cli import import_units, load_seed, read_plan_file
from services.plans.seed.demo import CHAIR_ID, PROVINCE_ID, demo_hierarchy, units_csv
from tests.conftest import wait_until
from tests.integration.test_plans_support import events, fails, ok
from tests.support import client, running

NOW = datetime(2026, 11, 20, 9, 0)  # Asia/Ho_Chi_Minh
G, U = 1980, 15  # grassroots and upper-level unions of the demo province
N = G + U  # "các cấp công đoàn" of the seed
UNITS = 1 + 5 + 2 + U + G  # + the federation, 5 departments, 2 affiliated units
UPPER, OTHER_UPPER = "cd-ldld-quy-nhon", "cd-ldld-an-nhon"


def _expected_occurrences() -> int:
    """The seed issued on 1/5/2026 with occurrences through 2027, counted item by item from the
    text (not from the code): 2 periods for every yearly/ongoing item and the May and 30/11 items;
    nothing for the 2021-only items; people of a role are the 3 units with such people here."""
    per_item = {
        "II.1.a": N, "II.1.b": N, "II.1.c": N, "II.1.d": N + 1, "II.1.e": 3, "II.1.f": N, "II.1.g": N,
        "II.1.h": 1 + U + 2, "II.2.a": 1 + N, "II.2.b": 1 + N, "II.2.c": N, "II.3.a": N,
        "IV.1.1.a": 0, "IV.1.1.b": 0, "IV.1.1.c": 1, "IV.1.1.d": 1 + N, "IV.1.1.e": 1, "IV.1.2.a": 0,
        "IV.1.3.a": 5, "IV.2.a": 0, "IV.2.b": N,
    }
    return 2 * sum(per_item.values())


async def _setup(nc, rt):  # type: ignore[no-untyped-def]
    units, _ = demo_hierarchy(G)
    g = next(u for u in units if u.kind == "grassroots_union" and u.parent_code == "LDLD_QUY_NHON")
    g2 = next(u for u in units if u.kind == "grassroots_union" and u.parent_code == "LDLD_QUY_NHON" and u != g)
    reply = await import_units(client(nc), units_csv(units), import_id="demo")
    assert reply["imported"] == UNITS
    for pid, unit, roles in [(CHAIR_ID, PROVINCE_ID, ["chairperson", "executive_member", "head_of_unit"]),
                             ("u-chair", UPPER, ["chairperson", "executive_member"]),
                             ("g-chair", g.unit_id, ["chairperson", "head_of_unit"]),
                             ("g2-member", g2.unit_id, ["member"])]:
        await ok(nc, "register_person", {"person_id": pid, "unit_id": unit, "full_name": f"Trần Thị {pid}",
                                         "roles": roles})
    return g.unit_id, g2.unit_id


def _by_item(tasks: list[dict]) -> dict[tuple[str, str], dict]:
    return {(t["item_id"], t["period"]): t for t in tasks}


async def test_issue_seed_to_2000_units_update_and_roll_up(nc, nats_server, make_db_url):
    js = nc.jetstream()
    await set_shared_time(js, NOW)
    async with running("plans", nats_server.url, await make_db_url("plans")) as rt:
        assert rt.clock.today() == NOW.date()
        g, g2 = await _setup(nc, rt)
        seed = await load_seed(client(nc), issued_on=date(2026, 5, 1))
        issue = seed["issue"]
        assert (issue["units"], issue["occurrences"], issue["revision"]) == (UNITS, _expected_occurrences(), 1)
        assert (await load_seed(client(nc), issued_on=date(2026, 5, 1)))["issue"]["duplicate"] is True  # idempotent

        # One tasks.assigned per unit, and the whole plan in plan.issued.
        await wait_until(lambda: _idle(rt), timeout=60, what="plans' outbox drained")
        assigned = await events(js, "tasks.assigned")
        per_unit = Counter(e["data"]["unit_id"] for e in assigned)
        assert len(assigned) == UNITS and len(per_unit) == UNITS and set(per_unit.values()) == {1}
        assert sum(len(e["data"]["occurrences"]) for e in assigned) == _expected_occurrences()
        [issued] = await events(js, "plan.issued")
        assert issued["data"]["revision"] == 1 and len(issued["data"]["items"]) == 21
        timing = {i["item_id"]: i["timing"]["kind"] for i in issued["data"]["items"]}
        assert timing["II.3.a"] == "yearly_by_day" and timing["II.2.c"] == "yearly_window"
        assert timing["IV.1.2.a"] == "once_by_month" and timing["IV.1.1.a"] == "once_by_quarter"

        # A grassroots union's tasks: 24 from "các cấp công đoàn" and 2 for its head's individual plan.
        tasks = (await ok(nc, "list_tasks", {"unit_id": g, "actor_id": "g-chair", "page": {"limit": 100}}))["items"]
        assert len(tasks) == 26
        mine = _by_item(tasks)
        assert mine[("II.3.a", "2026")]["due_date"] == "2026-11-30"
        assert mine[("II.2.c", "2026")]["category"] == "overdue"  # May is over
        assert mine[("II.1.b", "2027")]["due_date"] == "2027-12-31"
        assert ("IV.2.a", "2021-12") not in mine  # nothing is asked in the past

        # Updates: in progress, done on time with evidence, done late.
        report = mine[("II.3.a", "2026")]["occurrence_id"]
        await fails(nc, "update_task", {"occurrence_id": report, "status": "done", "actor_id": "g-chair"}, "422")
        await fails(nc, "update_task", {"occurrence_id": report, "status": "in_progress", "actor_id": "g2-member"},
                    "403")
        t = await ok(nc, "update_task", {"occurrence_id": report, "status": "in_progress", "actor_id": "g-chair"})
        assert t["category"] == "in_progress"
        # Completion dates tell the truth: not before the task began (the plan was issued on 01/05), not
        # in the future, not backdated by more than 30 days; who recorded it is kept.
        evidence = "Báo cáo số 12/BC-CĐCS gửi Ban TG-NC"
        for day in ("2026-04-30", "2026-11-21", "2026-10-20"):
            err = await fails(nc, "update_task", {"occurrence_id": report, "status": "done", "actor_id": "g-chair",
                                                  "evidence": evidence, "done_on": day}, "422")
            assert err["details"][0]["field"] == "done_on", err
        t = await ok(nc, "update_task", {"occurrence_id": report, "status": "done", "actor_id": "g-chair",
                                         "evidence": evidence})
        assert (t["status"], t["on_time"], t["category"], t["done_on"]) == ("done", True, "done_on_time", "2026-11-20")
        assert t["recorded_by"] == "g-chair" and t["recorded_at"].startswith("2026-11-20")
        # A unit's tasks are its own: the level above follows them, it does not tick them off.
        await fails(nc, "update_task", {"occurrence_id": mine[("II.2.c", "2026")]["occurrence_id"], "status": "done",
                                        "actor_id": "u-chair", "evidence": "https://congdoan.example.org/khen-thuong"},
                    "403")
        late = await ok(nc, "update_task", {"occurrence_id": mine[("II.2.c", "2026")]["occurrence_id"], "status": "done",
                                            "actor_id": "g-chair", "evidence": "https://congdoan.example.org/khen-thuong"})
        assert late["category"] == "done_late"
        await ok(nc, "update_task", {"occurrence_id": mine[("II.1.a", "2026")]["occurrence_id"],
                                     "status": "in_progress", "actor_id": "g-chair"})
        await fails(nc, "update_task", {"occurrence_id": report, "status": "in_progress", "actor_id": "g-chair"}, "409")

        # The upper-level union registers its 2026 implementation plan: its "build your plan" task is done.
        impl = await ok(nc, "register_implementation_plan", {
            "unit_id": UPPER, "parent_plan_id": seed["plan_id"], "number": "25-KH/LĐLĐ-QN", "actor_id": "u-chair"})
        assert impl["on_time"] is True and impl["year"] == 2026 and len(impl["completed"]) == 1
        again = await ok(nc, "register_implementation_plan", {
            "unit_id": UPPER, "parent_plan_id": seed["plan_id"], "number": "25-KH/LĐLĐ-QN", "actor_id": "u-chair"})
        assert again["duplicate"] is True
        upper_tasks = _by_item((await ok(nc, "list_tasks", {"unit_id": UPPER, "plan_id": seed["plan_id"],
                                                            "year": 2026, "actor_id": "u-chair"}))["items"])
        assert upper_tasks[("II.1.b", "2026")]["status"] == "done"
        assert "25-KH/LĐLĐ-QN" in upper_tasks[("II.1.b", "2026")]["evidence"]

        # Rollup of the plan: 3 done, 1 in progress, every other May task overdue.
        rollup = await ok(nc, "get_rollup", {"plan_id": seed["plan_id"], "actor_id": CHAIR_ID}, timeout=60)
        totals = rollup["totals"]
        assert totals == {"done_on_time": 2, "done_late": 1, "in_progress": 1, "overdue": N - 1, "not_done": 0,
                          "open": _expected_occurrences() - 2 - 1 - 1 - (N - 1), "total": _expected_occurrences()}
        assert rollup["labels"]["overdue"] == "Quá hạn chưa hoàn thành"
        children = {c["unit_id"]: c["counts"] for c in rollup["children"]}
        assert len(children) == 5 + 2 + U + G // 20  # the province's direct children
        assert children[UPPER]["done_on_time"] == 2 and children[UPPER]["done_late"] == 1
        assert sum(c["total"] for c in children.values()) + rollup["own"]["total"] == totals["total"]
        await fails(nc, "get_rollup", {"plan_id": seed["plan_id"], "actor_id": "u-chair"}, "403")

        # g moves to another upper-level union today: what it did before stays with the old parent.
        await ok(nc, "move_unit", {"unit_id": g, "to_parent_id": OTHER_UPPER, "actor_id": CHAIR_ID})
        old = (await ok(nc, "get_rollup", {"root_unit_id": UPPER, "plan_id": seed["plan_id"],
                                           "actor_id": "u-chair"}))["totals"]
        new = (await ok(nc, "get_rollup", {"root_unit_id": OTHER_UPPER, "plan_id": seed["plan_id"]}))["totals"]
        assert (old["done_on_time"], old["done_late"]) == (1, 1)  # its own plan; g's May round (due 31/5)
        assert (new["done_on_time"], new["in_progress"]) == (1, 1)  # g's report and activity (due later)

        # A union registered after the issue joins the running plan from today (the May round is past).
        await ok(nc, "register_unit", {"unit_id": "cdcs-moi", "code": "CDCS_MOI", "kind": "grassroots_union",
                                       "name": "Công đoàn cơ sở Công ty Cổ phần Mới thành lập", "parent_id": UPPER,
                                       "actor_id": "u-chair"})
        joined = (await ok(nc, "list_tasks", {"unit_id": "cdcs-moi", "actor_id": "u-chair"}))["items"]
        assert len(joined) == 24 - 1 and ("II.2.c", "2026") not in _by_item(joined)

        # A union moving to another province leaves this plan: what is ahead is withdrawn, the past stays.
        await ok(nc, "register_unit", {"unit_id": "ldld-gl", "code": "LDLD_GL", "name": "Liên đoàn Lao động tỉnh Gia Lai",
                                       "kind": "provincial_federation", "effective_from": "2020-01-01"})
        out = await ok(nc, "move_unit", {"unit_id": g2, "to_parent_id": "ldld-gl"})
        assert out["withdrawn_tasks"] == 24 - 1  # all but the May 2026 round, overdue before the move
        left = (await ok(nc, "list_tasks", {"unit_id": g2}))["items"]
        assert [(t["item_id"], t["period"], t["category"]) for t in left] == [("II.2.c", "2026", "overdue")]

        # The year ends: an ongoing item's 2026 occurrence closes with it — not done, no longer "in time".
        await set_shared_time(js, datetime(2027, 1, 5, 9, 0))
        await wait_until(lambda: _today_is(rt, date(2027, 1, 5)), what="the clock in 2027")
        mine = _by_item((await ok(nc, "list_tasks", {"unit_id": g, "actor_id": "g-chair", "year": 2026,
                                                     "page": {"limit": 100}}))["items"])
        assert mine[("II.1.a", "2026")]["category"] == "not_done"  # in progress when the year ended
        ongoing = [t for t in mine.values() if t["due_date"] is None and t["status"] == "open"]
        assert ongoing and {t["category"] for t in ongoing} == {"not_done"}
        # Done in the last days of its year, recorded a few days late: taken. Done in 2027: that is 2027's.
        done = await ok(nc, "update_task", {"occurrence_id": ongoing[0]["occurrence_id"], "status": "done",
                                            "done_on": "2026-12-30", "evidence": "Biên bản sinh hoạt chuyên đề",
                                            "actor_id": "g-chair"})
        assert done["category"] == "done_on_time"
        err = await fails(nc, "update_task", {"occurrence_id": ongoing[1]["occurrence_id"], "status": "done",
                                              "evidence": "Biên bản sinh hoạt chuyên đề", "actor_id": "g-chair"}, "409")
        assert "khép lại cùng năm" in err["message"]
        rollup = await ok(nc, "get_rollup", {"plan_id": seed["plan_id"], "year": 2026, "actor_id": CHAIR_ID}, timeout=60)
        assert rollup["totals"]["not_done"] > 0 and rollup["labels"]["not_done"] == "Không hoàn thành trong năm"


async def _today_is(rt, day):  # type: ignore[no-untyped-def]
    return rt.clock.today() == day


async def test_revisions_keep_history_and_closing_withdraws_what_is_ahead(nc, nats_server, make_db_url):
    js = nc.jetstream()
    await set_shared_time(js, NOW)
    async with running("plans", nats_server.url, await make_db_url("plans")) as rt:
        units, _ = demo_hierarchy(10)
        await import_units(client(nc), units_csv(units))
        await ok(nc, "register_person", {"person_id": CHAIR_ID, "unit_id": PROVINCE_ID, "full_name": "Nguyễn Mạnh Hùng",
                                         "roles": ["chairperson", "executive_member"]})
        spec = read_plan_file()
        doc = spec["document"]
        await ok(nc, "create_plan", {"plan_id": "kh-2", "document": doc, "actor_id": CHAIR_ID})
        # A draft can change; issuing needs the issuer's scope.
        doc = {**doc, "number": "11-KH/LĐLĐ"}
        await ok(nc, "update_plan", {"plan_id": "kh-2", "document": doc, "actor_id": CHAIR_ID})
        first = await ok(nc, "issue_plan", {"plan_id": "kh-2", "actor_id": CHAIR_ID}, timeout=60)
        assert first["revision"] == 1 and first["issued_on"] == "2026-11-20"
        await fails(nc, "update_plan", {"plan_id": "kh-2", "document": doc, "actor_id": CHAIR_ID}, "409")
        g = "cdcs-00001"
        # The district union's own plan, linked to the province's: issuing it completes its "build your
        # plan" task and cascades its item to the grassroots union below it.
        await ok(nc, "register_person", {"person_id": "ha-chair", "unit_id": "cd-ldld-hoai-an",
                                         "full_name": "Phạm Văn Tâm", "roles": ["chairperson"]})
        own = {"number": "15-KH/LĐLĐ-HA", "title": "Kế hoạch thực hiện Kết luận 01-KL/TW năm 2027",
               "issuer_unit_id": "cd-ldld-hoai-an", "parent_plan_id": "kh-2", "sections": [{
                   "code": "1", "title": "Nhiệm vụ", "items": [{
                       "item_id": "1.a", "content": "Báo cáo sơ kết gửi LĐLĐ huyện Hoài Ân", "output": "report",
                       "timing_text": "trước ngày 15/11 hằng năm",
                       "responsible": [{"kind": "units_of_kind", "unit_kinds": ["grassroots_union"]}]}]}]}
        await ok(nc, "create_plan", {"plan_id": "kh-ha", "document": own, "actor_id": "ha-chair"})
        await fails(nc, "issue_plan", {"plan_id": "kh-ha", "actor_id": CHAIR_ID + "-khong-co"}, "403")
        ha = await ok(nc, "issue_plan", {"plan_id": "kh-ha", "actor_id": "ha-chair"})
        assert (ha["units"], ha["occurrences"]) == (1, 1)  # cdcs-00001, 15/11/2027 (15/11/2026 is past)
        district = _by_item((await ok(nc, "list_tasks", {"unit_id": "cd-ldld-hoai-an", "plan_id": "kh-2",
                                                         "actor_id": "ha-chair"}))["items"])
        assert district[("II.1.b", "2026")]["status"] == "done" and district[("II.1.b", "2027")]["status"] == "open"
        # A unit that closes leaves its tasks ahead; the past stays.
        closed_unit = await ok(nc, "close_unit", {"unit_id": "cdcs-00002", "effective_from": "2026-12-01",
                                                  "actor_id": CHAIR_ID})
        assert closed_unit["withdrawn_tasks"] == 23 - 1  # all but its report due 30/11/2026
        before = _by_item((await ok(nc, "list_tasks", {"unit_id": g, "plan_id": "kh-2", "page": {"limit": 100}}))["items"])
        await ok(nc, "register_person", {"person_id": "g-chair", "unit_id": g, "full_name": "Lê Thị Hoa",
                                         "roles": ["chairperson"]})
        await ok(nc, "update_task", {"occurrence_id": before[("II.1.a", "2026")]["occurrence_id"], "status": "done",
                                     "evidence": "Hội nghị quán triệt ngày 15/11/2026", "actor_id": "g-chair"})

        # Revision 2: the 30/11 report moves to 15/12, II.1.a (done for 2026) and II.2.b are dropped.
        sections = []
        for s in doc["sections"]:
            items = []
            for it in s["items"]:
                if it["item_id"] in ("II.1.a", "II.2.b"):
                    continue
                if it["item_id"] == "II.3.a":
                    it = {**it, "timing_text": "Trước ngày 15/12 hàng năm", "timing": {"kind": "yearly_by_day",
                                                                                        "month": 12, "day": 15}}
                items.append(it)
            sections.append({**s, "items": items})
        doc2 = {**doc, "sections": [{**s, "items": [i for i in s["items"]]} for s in sections]}
        for s in doc2["sections"]:
            for it in s["items"]:
                it["see_also"] = [x for x in it.get("see_also", []) if x not in ("II.1.a", "II.2.b")]
        rev = await ok(nc, "revise_plan", {"plan_id": "kh-2", "document": doc2, "note": "Điều chỉnh thời hạn báo cáo",
                                           "actor_id": CHAIR_ID}, timeout=60)
        assert rev["revision"] == 2 and rev["changed"] > 0 and rev["withdrawn"] > 0 and rev["occurrences"] == 0
        again = await ok(nc, "revise_plan", {"plan_id": "kh-2", "document": doc2, "actor_id": CHAIR_ID})
        assert again["duplicate"] is True and again["revision"] == 2
        after = _by_item((await ok(nc, "list_tasks", {"unit_id": g, "plan_id": "kh-2", "page": {"limit": 100}}))["items"])
        assert after[("II.3.a", "2026")]["due_date"] == "2026-12-15" and after[("II.3.a", "2026")]["revision"] == 2
        assert ("II.2.b", "2026") not in after  # withdrawn
        assert after[("II.1.a", "2026")]["status"] == "done"  # done work is history: kept
        assert ("II.1.a", "2027") not in after
        # The old revision stays queryable.
        v1 = await ok(nc, "get_plan", {"plan_id": "kh-2", "revision": 1, "actor_id": CHAIR_ID})
        v2 = await ok(nc, "get_plan", {"plan_id": "kh-2", "actor_id": CHAIR_ID})
        assert v1["revision"] == 1 and v2["revision"] == 2 and v2["current_revision"] == 2
        assert len([i for s in v1["document"]["sections"] for i in s["items"]]) == 21
        assert len([i for s in v2["document"]["sections"] for i in s["items"]]) == 19
        assert [r["revision"] for r in v2["revisions"]] == [1, 2] and v2["revisions"][1]["note"]
        # Closing withdraws what is still ahead and stops the reminders.
        closed = await ok(nc, "close_plan", {"plan_id": "kh-2", "closed_on": "2026-12-31", "actor_id": CHAIR_ID})
        assert closed["withdrawn"] > 0
        left = (await ok(nc, "list_tasks", {"unit_id": g, "plan_id": "kh-2", "page": {"limit": 100}}))["items"]
        assert {t["period"] for t in left} == {"2026"}
        await fails(nc, "revise_plan", {"plan_id": "kh-2", "document": doc2, "actor_id": CHAIR_ID}, "409")
        listed = await ok(nc, "list_plans", {"actor_id": CHAIR_ID})
        assert {p["plan_id"]: p["status"] for p in listed["items"]} == {"kh-2": "closed", "kh-ha": "issued"}
        mine = await ok(nc, "list_plans", {"actor_id": "ha-chair", "parent_plan_id": "kh-2"})
        assert [p["plan_id"] for p in mine["items"]] == ["kh-ha"]
        await wait_until(lambda: _idle(rt), what="outbox drained")
        issued = await events(js, "plan.issued")
        assert [(e["data"]["plan_id"], e["data"]["revision"]) for e in issued] == [("kh-2", 1), ("kh-ha", 1), ("kh-2", 2)]
        [impl] = await events(js, "implementation_plan.registered")
        assert impl["data"] == {"plan_id": "kh-ha", "parent_plan_id": "kh-2", "unit_id": "cd-ldld-hoai-an",
                                "number": "15-KH/LĐLĐ-HA", "registered_on": "2026-11-20", "on_time": True}
        assert (await events(js, "plan.closed"))[0]["data"] == {"plan_id": "kh-2", "closed_on": "2026-12-31"}
        # Bad documents get field-named errors.
        bad = {**doc, "sections": [{"code": "X", "title": "X", "items": [
            {"item_id": "x1", "content": "Nội dung", "output": "report", "timing_text": "khi nào rảnh",
             "responsible": [{"kind": "department", "code": "BAN_TGNC"}]}]}]}
        err = await fails(nc, "create_plan", {"document": bad, "actor_id": CHAIR_ID}, "422")
        assert err["details"][0]["field"] == "document.sections.0.items.0.timing_text"
        nowhere = {**doc, "sections": [{"code": "X", "title": "X", "items": [
            {"item_id": "x1", "content": "Nội dung", "output": "report", "timing_text": "thường xuyên",
             "responsible": [{"kind": "department", "code": "BAN_KHONG_CO"}]}]}]}
        await ok(nc, "create_plan", {"plan_id": "kh-3", "document": nowhere, "actor_id": CHAIR_ID})
        err = await fails(nc, "issue_plan", {"plan_id": "kh-3", "actor_id": CHAIR_ID}, "409")
        assert "BAN_KHONG_CO" in err["message"]


async def _idle(rt) -> bool:  # type: ignore[no-untyped-def]
    return await rt.relay.pending() == 0
