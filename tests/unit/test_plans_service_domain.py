"""The plans service's domain rules without I/O: plan documents, the cascade (over a generated
hierarchy of 2,000 units), reminders, task updates and categories, CSV import checks,
individual plan exports, the demo hierarchy and the seed plan file."""

from __future__ import annotations

import json
import unicodedata
from datetime import date, datetime, timedelta

import pytest

from contracts.api.plans import PlanDocument
from contracts.events.plans import PlanIssued
from contracts.types import Timing as ContractTiming
from services.plans.cli import SEED_FILE, split_csv
from services.plans.domain.hierarchy import Hierarchy
from services.plans.domain.imports import Existing, mint_unit_id, parse_units_csv
from services.plans.domain.individual import ExportRow, table, to_csv
from services.plans.domain.model import parent_problem
from services.plans.domain.plans import (
    Org,
    PlanError,
    cascade,
    contract_timing,
    horizon_end,
    occurrence_id,
    parse_document,
    parse_offsets,
    plan_issued_data,
    plan_role_holders,
    reminders_for,
    resolve,
    role_holders,
)
from services.plans.domain.seed_plan import SEED_PLAN
from services.plans.domain.tasks import TaskError, apply_update, category, reference_date
from services.plans.domain.timing import VN_TZ
from services.plans.seed.demo import DEPARTMENTS, demo_hierarchy, units_csv

D0 = date(2020, 1, 1)


def seed_document() -> dict:
    return json.loads(SEED_FILE.read_text(encoding="utf-8"))["document"]


def demo_org(grassroots: int, people_units: dict[str, set[str]] | None = None) -> Org:
    units, _ = demo_hierarchy(grassroots)
    by_code = {u.code: u for u in units}
    h = Hierarchy()
    for u in units:
        h.register(u.unit_id, by_code[u.parent_code].unit_id if u.parent_code else None, D0)
    return Org(h, {u.unit_id: u.kind for u in units}, {u.unit_id: u.code for u in units}, people_units or {})


# --- the seed plan file ---------------------------------------------------------------------------

def test_the_seed_plan_file_is_the_seed_and_a_valid_document():
    doc = seed_document()
    expected = SEED_PLAN.to_dict()
    assert {k: v for k, v in doc.items() if k not in ("issuer_unit_id", "parent_plan_id", "until_year")} == expected
    model = PlanDocument.model_validate(doc)
    assert unicodedata.is_normalized("NFC", json.dumps(doc, ensure_ascii=False))
    plan = parse_document(model.model_dump(mode="json"))
    assert [i.item_id for i in plan.items] == [i.item_id for i in SEED_PLAN.items()]
    assert all(a.timing == b.timing for a, b in zip(plan.items, SEED_PLAN.items()))


def test_plan_issued_carries_every_seed_item_in_the_contract_vocabulary():
    plan = parse_document(PlanDocument.model_validate(seed_document()).model_dump(mode="json"))
    data = PlanIssued.model_validate(plan_issued_data("kh-1", 1, plan, date(2021, 11, 1)))
    assert len(data.items) == 21 and data.basis[0].startswith("Kết luận số 01-KL/TW ngày 15/05/2021")
    kinds = {i.item_id: i.timing.kind.value for i in data.items}
    assert kinds["II.3.a"] == "yearly_by_day" and kinds["II.1.b"] == "yearly_by_month"
    assert kinds["II.2.c"] == "yearly_window" and kinds["IV.1.1.a"] == "once_by_quarter"
    assert kinds["IV.2.a"] == "once_by_month" and kinds["II.1.e"] == "ongoing"  # "hằng năm" without a date
    assert [p.model_dump(exclude_none=True, exclude_defaults=True) for p in data.items[7].responsible] == [
        {"kind": "unit", "unit_id": "ldld-bd"}, {"kind": "units_of_kind", "unit_kinds": ["upper_level_union"]},
        {"kind": "units_of_kind", "unit_kinds": ["affiliated_unit"]}]
    for item in SEED_PLAN.items():
        ContractTiming.model_validate(contract_timing(item.timing, item.timing_text))


@pytest.mark.parametrize("mutate, field", [
    (lambda d: d["sections"][1]["items"].append(dict(d["sections"][1]["items"][0])), "item_id"),
    (lambda d: d["sections"][1]["items"][0].update(timing=None, timing_text="khi nào rảnh"), "timing_text"),
    (lambda d: d["sections"][1]["items"][0].update(timing={"kind": "yearly_by_day", "month": 2, "day": 30}), "timing"),
    (lambda d: d["sections"][1]["items"][0].update(see_also=["IX.9"]), "see_also"),
    (lambda d: d["sections"][1]["items"][0].update(responsible=[{"kind": "department"}]), "responsible.0.code"),
    (lambda d: d["sections"][1]["items"][0].update(responsible=[{"kind": "party_cell"}]), "responsible"),
    (lambda d: d.update(first_year=2025, until_year=2024), "until_year"),
])
def test_bad_documents_name_the_field(mutate, field):
    doc = PlanDocument.model_validate(seed_document()).model_dump(mode="json")
    mutate(doc)
    with pytest.raises(PlanError) as err:
        parse_document(doc)
    assert err.value.field.endswith(field), err.value.field


# --- cascade ----------------------------------------------------------------------------------------

def test_parties_resolve_on_the_hierarchy_of_the_date():
    org = demo_org(40, {"executive_member": {"ldld-bd"}, "head_of_unit": {"cdcs-00001"}})
    plan = parse_document(PlanDocument.model_validate(seed_document()).model_dump(mode="json"))
    union_levels = sorted(u for u, k in org.kinds.items() if k in ("upper_level_union", "grassroots_union"))
    on = date(2026, 1, 1)
    assert resolve(plan.item("II.3.a"), "ldld-bd", org, on) == union_levels
    assert resolve(plan.item("IV.1.1.a"), "ldld-bd", org, on) == ["ldld-bd-ban-tgnc"]
    assert resolve(plan.item("II.1.e"), "ldld-bd", org, on) == ["cdcs-00001", "ldld-bd"]
    assert len(resolve(plan.item("IV.1.3.a"), "ldld-bd", org, on)) == len(DEPARTMENTS)
    assert resolve(plan.item("II.1.h"), "ldld-bd", org, on)[:3] == ["cd-cd-kkt", "cd-cd-vien-chuc", "cd-cdn-giao-duc"]
    # A unit that moves under an upper-level union of another province leaves "các cấp công đoàn" of this one.
    org.hierarchy.register("other", None, D0)
    org.kinds["other"] = "provincial_federation"
    org.hierarchy.move("cd-ldld-an-lao", "other", date(2026, 7, 1))
    assert "cd-ldld-an-lao" in resolve(plan.item("II.3.a"), "ldld-bd", org, date(2026, 6, 30))
    assert "cd-ldld-an-lao" not in resolve(plan.item("II.3.a"), "ldld-bd", org, date(2026, 7, 1))
    # A department the issuer does not have is an error, not a silent gap.
    org.kinds["ldld-bd-ban-tgnc"] = "affiliated_unit"
    with pytest.raises(PlanError, match="không có ban BAN_TGNC"):
        resolve(plan.item("IV.1.1.a"), "ldld-bd", org, on)


def test_whose_work_a_role_party_is_plans_answers_once_honouring_under():
    """plan.issued carries these units and roles; notify tells their people of those roles (never
    reading the plan's parties itself)."""
    from dataclasses import replace
    org = demo_org(40, {"executive_member": {"ldld-bd", "cdcs-00002"}, "head_of_unit": {"cdcs-00001"}})
    plan = parse_document(PlanDocument.model_validate(seed_document()).model_dump(mode="json"))
    item = plan.item("II.1.e")  # individual plans of executive members and heads of unit
    on = date(2026, 1, 1)
    holders = role_holders(item, "ldld-bd", org, on)
    assert holders == {"ldld-bd": {"executive_member"}, "cdcs-00002": {"executive_member"},
                       "cdcs-00001": {"head_of_unit"}}
    assert sorted(holders) == resolve(item, "ldld-bd", org, on)  # the same units the tasks go to
    # `under` narrows to a subtree: the issuer's own executive members are not in it.
    parent = org.hierarchy.parent_of("cdcs-00001", on)
    narrowed = replace(item, responsible=tuple(replace(p, under=parent) for p in item.responsible))
    assert "ldld-bd" not in role_holders(narrowed, "ldld-bd", org, on)
    assert "cdcs-00001" in role_holders(narrowed, "ldld-bd", org, on)
    data = PlanIssued.model_validate(plan_issued_data("kh-1", 1, plan, on, plan_role_holders(plan, org, on)))
    assert {(h.unit_id, tuple(h.roles)) for h in data.role_holders} >= {
        ("ldld-bd", ("executive_member",)), ("cdcs-00001", ("head_of_unit",))}


def test_cascade_over_2000_units_asks_nothing_in_the_past():
    org = demo_org(1980, {"executive_member": {"ldld-bd"}})
    plan = parse_document(PlanDocument.model_validate(seed_document()).model_dump(mode="json"))
    issued = date(2021, 11, 1)
    planned = cascade(plan, org, issued, 2021, 2022, not_before=issued)
    n = 1980 + 15
    per_unit: dict[str, int] = {}
    for p in planned:
        per_unit[p.unit_id] = per_unit.get(p.unit_id, 0) + 1
        assert p.due is None or p.due >= issued
    assert len(per_unit) == 2003
    g = [p for p in planned if p.unit_id == "cdcs-00001"]
    periods = {(p.item_id, p.period): p.due for p in g}
    assert periods[("IV.2.a", "2021-12")] == date(2021, 12, 31)  # "Hoàn thành trong tháng 12/2021"
    assert periods[("II.3.a", "2021")] == date(2021, 11, 30) and periods[("II.3.a", "2022")] == date(2022, 11, 30)
    assert ("II.2.c", "2021") not in periods and periods[("II.2.c", "2022")] == date(2022, 5, 31)  # May 2021 is past
    assert len(g) == 2 * 11 + 1 + 1  # 11 yearly/ongoing items ×2, May 2022, December 2021 plan
    tgnc = {(p.item_id, p.period): p.due for p in planned if p.unit_id == "ldld-bd-ban-tgnc"}
    assert tgnc[("IV.1.1.a", "2021-Q4")] == date(2021, 12, 31) and tgnc[("IV.1.1.b", "2021-Q4")] == date(2021, 12, 31)
    assert sum(1 for p in planned if p.item_id == "II.3.a") == 2 * n
    assert len({occurrence_id("kh", p.unit_id, p.item_id, p.period) for p in planned}) == len(planned)


def test_the_horizon_runs_through_next_year_within_until_year():
    plan = parse_document(PlanDocument.model_validate(seed_document()).model_dump(mode="json"))
    assert horizon_end(plan, date(2021, 11, 1), date(2021, 11, 1)) == 2022
    assert horizon_end(plan, date(2021, 11, 1), date(2026, 11, 25)) == 2027
    limited = parse_document({**PlanDocument.model_validate(seed_document()).model_dump(mode="json"),
                              "until_year": 2025})
    assert horizon_end(limited, date(2021, 11, 1), date(2026, 11, 25)) == 2025


# --- reminders --------------------------------------------------------------------------------------

def test_reminders_at_offsets_and_when_the_due_day_ends():
    due = date(2026, 11, 30)
    at = reminders_for(due, (30, 7, 1), datetime(2026, 10, 1, 9, tzinfo=VN_TZ))
    assert at == [(30, datetime(2026, 10, 31, 8, tzinfo=VN_TZ)), (7, datetime(2026, 11, 23, 8, tzinfo=VN_TZ)),
                  (1, datetime(2026, 11, 29, 8, tzinfo=VN_TZ)), ("missed", datetime(2026, 12, 1, tzinfo=VN_TZ))]
    late = reminders_for(due, (30, 7, 1), datetime(2026, 11, 25, 9, tzinfo=VN_TZ))
    assert [o for o, _ in late] == [1, "missed"]  # what already passed is not sent
    assert reminders_for(due, (30,), datetime(2026, 12, 2, tzinfo=VN_TZ)) == []


def test_offsets_from_the_environment():
    assert parse_offsets(None) == (30, 7, 1)
    assert parse_offsets("1, 7,30,7") == (30, 7, 1)
    assert parse_offsets("14") == (14,)
    with pytest.raises(ValueError):
        parse_offsets("7,a")
    with pytest.raises(ValueError):
        parse_offsets("-1")


# --- tasks ----------------------------------------------------------------------------------------

def test_categories_of_government_task_tracking():
    today = date(2026, 12, 5)
    due = date(2026, 11, 30)
    assert category("done", due, True, today) == "done_on_time"
    assert category("done", due, False, today) == "done_late"
    assert category("in_progress", due, None, today) == "overdue"
    assert category("in_progress", date(2026, 12, 31), None, today) == "in_progress"
    assert category("open", due, None, today) == "overdue"
    assert category("open", None, None, today) == "open"
    assert category("open", today, None, today) == "open"  # the due day itself is still on time
    assert reference_date(due, "2026", today) == due
    assert reference_date(None, "2026", today) == today and reference_date(None, "2025", today) == date(2025, 12, 31)


def test_updates():
    today, due = date(2026, 11, 20), date(2026, 11, 30)
    c = apply_update("open", None, None, due, "in_progress", None, None, today)
    assert c.status == "in_progress" and not c.unchanged
    assert apply_update("in_progress", None, None, due, "in_progress", None, None, today).unchanged
    with pytest.raises(TaskError, match="minh chứng"):
        apply_update("in_progress", None, None, due, "done", "  ", None, today)
    done = apply_update("in_progress", None, None, due, "done", "Báo cáo số 1", None, today)
    assert (done.done_on, done.on_time) == (today, True)
    late = apply_update("open", None, None, due, "done", "x", None, date(2026, 12, 1))
    assert late.on_time is False
    with pytest.raises(TaskError, match="chưa đến"):
        apply_update("open", None, None, due, "done", "x", today + timedelta(days=1), today)
    with pytest.raises(TaskError) as err:
        apply_update("done", "x", today, due, "in_progress", None, None, today)
    assert err.value.conflict
    amended = apply_update("done", "x", date(2026, 11, 2), due, "done", "y (bổ sung)", None, today)
    assert amended.done_on == date(2026, 11, 2) and amended.evidence == "y (bổ sung)"
    with pytest.raises(TaskError):
        apply_update("withdrawn", None, None, due, "done", "x", None, today)


# --- CSV import ------------------------------------------------------------------------------------

_rule = parent_problem


def test_the_demo_hierarchy_imports_cleanly_and_again_unchanged():
    units, people = demo_hierarchy(240)
    result = parse_units_csv(units_csv(units), D0, {}, {}, _rule)
    assert not result.errors and len(result.new) == len(units) == 1 + 5 + 2 + 15 + 240
    existing = {u.unit_id: Existing(u.unit_id, u.code, u.name, u.kind, u.parent_id, D0, False) for u in result.new}
    again = parse_units_csv(units_csv(units), D0, {e.code: e for e in existing.values()}, existing, _rule)
    assert not again.errors and not again.new and again.unchanged == len(units)
    parts = split_csv(units_csv(units), limit=5_000)
    assert len(parts) > 3 and "".join(parts) == units_csv(units) and all(p.endswith("\n") for p in parts)


def test_bad_rows_are_reported_by_line_and_nothing_is_kept():
    text = ('code,name,kind,parent_code\n'
            'P,Tỉnh,provincial_federation,\n'
            'H,"Huyện\nhai dòng",upper_level_union,P\n'  # a quoted field over two lines: the next row is line 5
            'G1,Cơ sở,grassroots_union,X\n'
            'G2,Cơ sở,grassroots_union,G3\n'
            'G3,Cơ sở,grassroots_union,G2\n'
            'G4,Cơ sở,grassroots_union,P,extra\n'
            'P,Trùng,upper_level_union,P\n'
            'G5,Cơ sở,grassroots_union,H\n')
    result = parse_units_csv(text, D0, {}, {}, _rule)
    assert result.new == []
    assert [(e.line, e.field) for e in result.errors] == [
        (5, "parent_code"), (6, "parent_code"), (7, "parent_code"), (8, ""), (9, "code")]
    assert "không có trong tệp và chưa được đăng ký" in result.errors[0].message
    assert "Công đoàn cơ sở không thể trực thuộc công đoàn cơ sở." == result.errors[1].message
    missing = parse_units_csv("code,name\nA,B\n", D0, {}, {}, _rule)
    assert missing.errors[0].line == 1 and "kind" in missing.errors[0].message
    assert mint_unit_id("CĐCS_1") == mint_unit_id(unicodedata.normalize("NFD", "CĐCS_1"))


# --- individual plans ------------------------------------------------------------------------------

def test_results_table_in_vietnamese():
    rows = [ExportRow("Nguyễn Thị Hoa", "Công đoàn cơ sở Trường THCS Nhơn Bình", ["chairperson", "executive_member"],
                      True, "assessed", 3, date(2026, 1, 15), "good", date(2026, 12, 10), "Hoàn thành", 1),
            ExportRow("Lê Văn An", "Công đoàn cơ sở Trường THCS Nhơn Bình", ["head_of_unit"], True, "missing", 0,
                      None, None, None, None, 0)]
    t = table(rows, 2026)
    assert t[0][:3] == ["STT", "Họ và tên", "Đơn vị"]
    assert t[1][3] == "Chủ tịch, Ủy viên BCH" and t[1][8] == "15/01/2026" and t[1][10] == "Hoàn thành tốt nhiệm vụ"
    assert t[2][6] == "Chưa xây dựng" and t[2][8] == ""
    data = to_csv(t)
    assert data.startswith("\ufeff".encode()) and "Họ và tên".encode() in data


# --- the demo hierarchy -----------------------------------------------------------------------------

def test_demo_hierarchy_has_the_shape_the_issue_asks_for():
    units, people = demo_hierarchy()
    kinds = [u.kind for u in units]
    assert kinds.count("provincial_federation") == 1 and kinds.count("upper_level_union") >= 10
    assert kinds.count("grassroots_union") >= 200
    assert {"BAN_TGNC", "BAN_TCKT", "VAN_PHONG"} <= {u.code for u in units if u.kind == "department"}
    assert all(p.email.endswith("@example.org") for p in people)
    assert len({p.email for p in people}) == len(people) and len({p.person_id for p in people}) == len(people)
    assert all(unicodedata.is_normalized("NFC", p.full_name) for p in people)
    assert any("ễ" in p.full_name or "ầ" in p.full_name or "ạ" in p.full_name or "ư" in p.full_name for p in people)
    roles = {r for p in people for r in p.roles}
    assert roles == {"chairperson", "executive_member", "head_of_unit", "cadre", "member"}
    assert demo_hierarchy() == (units, people)  # deterministic
