"""The seed plan as data: every item, its parties, its output and its due dates for 2021–2027."""

from __future__ import annotations

import json
import unicodedata
from datetime import date, datetime, timedelta

import pytest

from contracts.types import Role, UnitKind
from services.plans.domain.hierarchy import Hierarchy
from services.plans.domain.seed_plan import (
    DEPARTMENTS,
    OUTPUT_KINDS,
    PARTY_KINDS,
    PLACEHOLDER_NUMBER,
    SEED_PLAN,
)
from services.plans.domain.timing import VN_TZ, Occurrence, from_dict, is_on_time, parse_timing

Y = range(2021, 2028)

# Expected occurrences for 2021–2027, written out per timing kind.
ONGOING = [Occurrence(str(y), None, None) for y in Y]  # a period per year, never a deadline
YEARLY_NO_DATE = [Occurrence(str(y), None, None) for y in Y]
YEARLY_30_11 = [
    Occurrence("2021", None, date(2021, 11, 30)), Occurrence("2022", None, date(2022, 11, 30)),
    Occurrence("2023", None, date(2023, 11, 30)), Occurrence("2024", None, date(2024, 11, 30)),
    Occurrence("2025", None, date(2025, 11, 30)), Occurrence("2026", None, date(2026, 11, 30)),
    Occurrence("2027", None, date(2027, 11, 30)),
]
YEARLY_DECEMBER = [
    Occurrence("2021", None, date(2021, 12, 31)), Occurrence("2022", None, date(2022, 12, 31)),
    Occurrence("2023", None, date(2023, 12, 31)), Occurrence("2024", None, date(2024, 12, 31)),
    Occurrence("2025", None, date(2025, 12, 31)), Occurrence("2026", None, date(2026, 12, 31)),
    Occurrence("2027", None, date(2027, 12, 31)),
]
MAY_WINDOW = [
    Occurrence("2021", date(2021, 5, 1), date(2021, 5, 31), date(2021, 5, 19)),
    Occurrence("2022", date(2022, 5, 1), date(2022, 5, 31), date(2022, 5, 19)),
    Occurrence("2023", date(2023, 5, 1), date(2023, 5, 31), date(2023, 5, 19)),
    Occurrence("2024", date(2024, 5, 1), date(2024, 5, 31), date(2024, 5, 19)),
    Occurrence("2025", date(2025, 5, 1), date(2025, 5, 31), date(2025, 5, 19)),
    Occurrence("2026", date(2026, 5, 1), date(2026, 5, 31), date(2026, 5, 19)),
    Occurrence("2027", date(2027, 5, 1), date(2027, 5, 31), date(2027, 5, 19)),
]
Q4_2021 = [Occurrence("2021-Q4", None, date(2021, 12, 31))]
DECEMBER_2021 = [Occurrence("2021-12", None, date(2021, 12, 31))]

EXPECTED = {
    "II.1.a": ONGOING,
    "II.1.b": YEARLY_DECEMBER,  # "hoàn thành vào tháng 12 hằng năm"
    "II.1.c": ONGOING,
    "II.1.d": ONGOING,
    "II.1.e": YEARLY_NO_DATE,  # "hằng năm"
    "II.1.f": YEARLY_NO_DATE,
    "II.1.g": YEARLY_NO_DATE,
    "II.1.h": ONGOING,  # no timing stated
    "II.2.a": ONGOING,
    "II.2.b": ONGOING,
    "II.2.c": MAY_WINDOW,  # Tháng Công nhân, 19/5
    "II.3.a": YEARLY_30_11,  # "Trước ngày 30/11 hàng năm"
    "IV.1.1.a": Q4_2021,  # "quý IV/2021"
    "IV.1.1.b": Q4_2021,
    "IV.1.1.c": ONGOING,
    "IV.1.1.d": ONGOING,
    "IV.1.1.e": ONGOING,  # "Thường xuyên và theo định kỳ"
    "IV.1.2.a": DECEMBER_2021,  # "tháng 12/2021"
    "IV.1.3.a": ONGOING,  # no timing stated
    "IV.2.a": DECEMBER_2021,
    "IV.2.b": YEARLY_NO_DATE,  # "Hàng năm": the II.3.a report
}

ITEMS = SEED_PLAN.items()


def test_every_item_is_there_once_in_order():
    assert [i.item_id for i in ITEMS] == list(EXPECTED)


@pytest.mark.parametrize("item", ITEMS, ids=lambda i: i.item_id)
def test_item_due_dates_2021_to_2027(item):
    assert item.timing.occurrences(2021, 2027) == EXPECTED[item.item_id]


def test_expected_outputs():
    assert {i.item_id: i.output for i in ITEMS} == {
        "II.1.a": "activity", "II.1.b": "plan", "II.1.c": "activity", "II.1.d": "activity",
        "II.1.e": "individual_plan", "II.1.f": "individual_plan", "II.1.g": "activity", "II.1.h": "regulation",
        "II.2.a": "posts", "II.2.b": "award_round", "II.2.c": "award_round", "II.3.a": "report",
        "IV.1.1.a": "guidance", "IV.1.1.b": "conference", "IV.1.1.c": "posts", "IV.1.1.d": "posts",
        "IV.1.1.e": "report", "IV.1.2.a": "regulation", "IV.1.3.a": "activity", "IV.2.a": "plan",
        "IV.2.b": "report",
    }
    assert {i.output for i in ITEMS} == set(OUTPUT_KINDS)  # every output kind is used by the seed


@pytest.mark.parametrize("item", ITEMS, ids=lambda i: i.item_id)
def test_timing_is_what_the_text_says(item):
    if item.timing_text is None:
        assert item.timing.kind == "ongoing" and "No timing stated" in (item.note or "")
    else:
        assert parse_timing(item.timing_text) == item.timing
    assert from_dict(json.loads(json.dumps(item.timing.to_dict()))) == item.timing


def _parties(item):
    return list(item.responsible) + list(item.reports_to)


def _check_party(p):
    assert p["kind"] in PARTY_KINDS
    assert set(p) - {"kind"} == PARTY_KINDS[p["kind"]], p
    if p["kind"] == "units_of_kind":
        assert p["unit_kinds"] and all(k in {u.value for u in UnitKind} for k in p["unit_kinds"])
        assert p["under"] == "issuer"
    if p["kind"] == "people_of_role":
        assert p["roles"] and all(r in {x.value for x in Role} for r in p["roles"])
    if p["kind"] == "department":
        assert p["code"] in DEPARTMENTS
    if p["kind"] == "external":
        assert p["unit_kind"] in {u.value for u in UnitKind}


def test_parties_are_well_formed():
    for item in ITEMS:
        assert item.responsible, item.item_id
        for p in _parties(item):
            _check_party(p)
    for r in SEED_PLAN.recipients:
        assert r.purpose in {"for_information", "for_action", "archive"}
        for p in r.parties:
            _check_party(p)


def test_key_responsibilities():
    all_levels = {"kind": "units_of_kind", "unit_kinds": ["upper_level_union", "grassroots_union"], "under": "issuer"}
    item = SEED_PLAN.item
    assert item("II.3.a").responsible == (all_levels,)
    assert item("II.3.a").reports_to == ({"kind": "department", "code": "BAN_TGNC"},)
    assert item("II.1.b").responsible == (all_levels,)
    assert item("II.1.e").responsible == ({"kind": "people_of_role", "roles": ["executive_member", "head_of_unit"],
                                           "under": "issuer"},)
    assert {"kind": "people_of_role", "roles": ["cadre", "member"], "under": "issuer"} in item("II.1.f").responsible
    for code in ("IV.1.1.a", "IV.1.1.b", "IV.1.1.c", "IV.1.1.e"):
        assert item(code).responsible == ({"kind": "department", "code": "BAN_TGNC"},)
    assert item("IV.1.2.a").responsible == ({"kind": "department", "code": "BAN_TCKT"},)
    assert {"kind": "department", "code": "VAN_PHONG"} in item("IV.1.3.a").responsible
    assert [p["name"] for p in item("IV.1.1.e").reports_to] == ["Tổng LĐLĐ Việt Nam", "Ban Tuyên giáo Tỉnh ủy"]


def test_parties_are_not_shared_between_items():
    a, b = SEED_PLAN.item("II.1.a"), SEED_PLAN.item("II.1.b")
    assert a.responsible[0] == b.responsible[0] and a.responsible[0] is not b.responsible[0]


def test_cross_references_point_at_items():
    ids = {i.item_id for i in ITEMS}
    for item in ITEMS:
        assert set(item.see_also) <= ids, item.item_id
    assert "II.3.a" in SEED_PLAN.item("IV.2.b").see_also  # the yearly report is asked for once


def test_plan_header():
    assert SEED_PLAN.number == PLACEHOLDER_NUMBER and SEED_PLAN.number_is_placeholder
    assert SEED_PLAN.issuer_name == "LĐLĐ tỉnh Bình Định"
    assert SEED_PLAN.issued_on is None and SEED_PLAN.issued_not_before == date(2021, 10, 18)
    assert SEED_PLAN.first_year == 2021
    assert "01-KL/TW" in SEED_PLAN.title and "05-CT/TW" in SEED_PLAN.title
    assert [(b.number, b.issued_on) for b in SEED_PLAN.basis] == [
        ("01-KL/TW", date(2021, 5, 15)), ("05-CT/TW", None), ("115-CV/TU", date(2021, 6, 9)),
        ("11-KH/TU", date(2021, 10, 18)), ("101-QĐ/TW", date(2012, 7, 6))]
    assert [r.label for r in SEED_PLAN.recipients] == [
        "Tổng LĐLĐ Việt Nam", "Ban Dân vận Tỉnh ủy", "Ban Tuyên giáo Tỉnh ủy", "Thường trực, các ban LĐLĐ tỉnh",
        "Các đơn vị SN trực thuộc", "Các cấp công đoàn trong tỉnh", "Lưu: VT, Ban TG-NC"]
    assert SEED_PLAN.signed_by["name"] == "Nguyễn Mạnh Hùng"
    assert [s.code for s in SEED_PLAN.sections] == ["I", "II.1", "II.2", "II.3", "IV.1.1", "IV.1.2", "IV.1.3", "IV.2"]


def test_plan_serialises_to_json_in_nfc():
    text = json.dumps(SEED_PLAN.to_dict(), ensure_ascii=False)
    assert unicodedata.is_normalized("NFC", text)
    back = json.loads(text)
    assert back["number_is_placeholder"] is True
    assert len([i for s in back["sections"] for i in s["items"]]) == len(ITEMS)
    assert back["sections"][3]["items"][0]["timing"] == {"kind": "yearly_by_day", "month": 11, "day": 30}


def test_the_30_11_report_is_on_time_until_local_midnight():
    due = SEED_PLAN.item("II.3.a").timing.occurrences(2025, 2025)[0].due
    assert due == date(2025, 11, 30)
    assert is_on_time(datetime(2025, 11, 30, 23, 59, tzinfo=VN_TZ), due)
    assert not is_on_time(datetime(2025, 12, 1, 0, 0, tzinfo=VN_TZ), due)


def test_responsible_units_resolve_against_the_hierarchy_as_of_the_due_date():
    """"các cấp công đoàn" under the issuer = units of those kinds in the issuer's subtree on that day."""
    kinds = {"VN": "national_federation", "BD": "provincial_federation", "TGNC": "department",
             "QN": "upper_level_union", "g1": "grassroots_union", "g2": "grassroots_union", "g3": "grassroots_union"}
    h = Hierarchy()
    start = date(2021, 1, 1)
    h.register("VN", None, start)
    h.register("BD", "VN", start)
    h.register("TGNC", "BD", start)
    h.register("QN", "BD", start)
    h.register("g1", "QN", start)
    h.register("g2", "BD", start)
    h.register("g3", "VN", start)  # elsewhere in the country
    h.register("g4", "QN", date(2022, 3, 1))
    kinds["g4"] = "grassroots_union"
    h.close("g2", date(2022, 6, 1))
    party = SEED_PLAN.item("II.3.a").responsible[0]

    def resolve(due):
        return sorted(u for u in h.subtree("BD", due, include_self=False) if kinds[u] in party["unit_kinds"])

    dues = {o.period: o.due for o in SEED_PLAN.item("II.3.a").timing.occurrences(2021, 2022)}
    assert resolve(dues["2021"]) == ["QN", "g1", "g2"]
    assert resolve(dues["2022"]) == ["QN", "g1", "g4"]
    assert resolve(dues["2022"] - timedelta(days=365)) == ["QN", "g1", "g2"]
