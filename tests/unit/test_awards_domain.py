"""The awards domain without I/O: eligibility converges whatever the order of the facts, windows of
rounds from plan timings, the nomination's way up and through the council, quotas."""

from __future__ import annotations

import itertools
from datetime import date, datetime, timedelta
from types import SimpleNamespace

import pytest

from runtime.clock import TZ
from services.awards.domain.eligibility import (
    Assessment,
    UnitStanding,
    assessment_version,
    collective_reasons,
    individual_reasons,
    period_label,
)
from services.awards.domain.model import (
    AwardForm,
    Conflict,
    Invalid,
    Nomination,
    check_quotas,
    default_report_period,
    new_round,
)
from services.awards.domain.windows import first_window, next_opening, planned_round_name, window_for

T0 = datetime(2025, 11, 20, 9, 0, tzinfo=TZ)


def _apply(standing: UnitStanding, fact: tuple) -> None:
    kind, *args = fact
    getattr(standing, f"record_{kind}")(*args)


# --- eligibility -----------------------------------------------------------------------------

FACTS = [
    ("submitted", "r1", "annual", 1, True, T0),
    ("returned", "r1", "annual", 1, T0 + timedelta(days=2)),
    ("submitted", "r1", "annual", 2, True, T0 + timedelta(days=3)),
    ("accepted", "r1", "annual", 2, True, T0 + timedelta(days=5)),
]


@pytest.mark.parametrize("order", list(itertools.permutations(range(len(FACTS)))))
def test_report_facts_converge_whatever_the_order(order):
    s = UnitStanding("g1", "2025")
    for i in order:
        _apply(s, FACTS[i])
    assert s.reasons_not_eligible(require_accepted=True) == []
    assert s.reasons_not_eligible() == []


@pytest.mark.parametrize("order", list(itertools.permutations(range(3))))
def test_a_returned_report_not_yet_resubmitted_is_not_eligible_in_any_order(order):
    facts = FACTS[:2] + [("accepted", "r0", "other", 1, True, T0)]  # another requirement's report, fine
    s = UnitStanding("g1", "2025")
    for i in order:
        _apply(s, facts[i])
    assert s.reasons_not_eligible() == ["Báo cáo kết quả kỳ 2025 đã bị trả lại để bổ sung, chưa được gửi lại"]
    assert s.reasons_not_eligible(requirement_id="other") == []


def test_reasons_for_missing_late_and_unaccepted_reports():
    s = UnitStanding("g1", "2025-Q4")
    assert s.reasons_not_eligible() == ["Chưa gửi báo cáo kết quả kỳ quý IV/2025"]
    s.record_submitted("r1", "q", 1, False, T0)
    assert s.reasons_not_eligible(require_accepted=True) == [
        "Báo cáo kết quả kỳ quý IV/2025 gửi trễ hạn", "Báo cáo kết quả kỳ quý IV/2025 chưa được cấp trên chấp nhận"]
    # The receiving level's word on acceptance is final (e.g. an extension granted).
    s.record_accepted("r1", "q", 1, True, T0 + timedelta(days=1))
    assert s.reasons_not_eligible(require_accepted=True) == []


def test_assessments_converge_and_need_a_good_rating():
    person = SimpleNamespace(active=True)
    early = Assessment("ip1", "p1", 2025, "done", date(2025, 12, 10),
                       assessment_version(date(2025, 12, 10), T0, "e1"))
    later = Assessment("ip1", "p1", 2025, "excellent", date(2025, 12, 20),
                       assessment_version(date(2025, 12, 20), T0, "e2"))
    for order in ([early, later], [later, early]):
        assert individual_reasons(person, order, 2025) == []
    assert individual_reasons(person, [early], 2025) == [
        "Kế hoạch cá nhân năm 2025 tự đánh giá ở mức “Hoàn thành nhiệm vụ”, chưa đạt mức “Hoàn thành tốt nhiệm vụ” trở lên"]
    assert individual_reasons(person, [], 2025) == ["Chưa tự đánh giá kết quả thực hiện kế hoạch cá nhân năm 2025"]
    assert individual_reasons(person, [later], 2024) == ["Chưa tự đánh giá kết quả thực hiện kế hoạch cá nhân năm 2024"]
    assert individual_reasons(SimpleNamespace(active=False), [later], 2025) == [
        "Cá nhân không còn sinh hoạt công đoàn tại đơn vị"]


def test_a_merged_unit_is_not_eligible_and_says_where_it_went():
    s = UnitStanding("g1", "2025")
    s.record_accepted("r1", "annual", 1, True, T0)
    unit = SimpleNamespace(closed_on=date(2026, 3, 1), merged_into="g2")
    assert collective_reasons(unit, s, require_accepted=True, requirement_id=None, merged_into_name="CĐCS B") == [
        "Đơn vị đã sáp nhập vào CĐCS B từ ngày 01/03/2026"]


def test_period_labels():
    assert [period_label(p) for p in ("2026", "2026-Q1", "2026-05")] == ["2026", "quý I/2026", "tháng 05/2026"]
    assert default_report_period(date(2026, 5, 1)) == "2025"
    assert default_report_period(date(2026, 12, 1)) == "2026"


# --- windows from plan timings ------------------------------------------------------------------

WORKERS_MONTH = {"kind": "yearly_window", "month": 5, "day": 1, "end_month": 5, "end_day": 31,
                 "text": "Hàng năm trong dịp triển khai các hoạt động của Tháng Công nhân, kỷ niệm Ngày sinh của "
                         "Chủ tịch Hồ Chí Minh"}


def test_the_seed_workers_month_round_is_may_anchored_on_19_may():
    w = window_for(WORKERS_MONTH, 2026, date(2021, 11, 15))
    assert (w.opens_on, w.closes_on, w.anchor_on, w.occasion) == (date(2026, 5, 1), date(2026, 5, 31),
                                                                  date(2026, 5, 19), "workers_month")
    assert planned_round_name(w, "KH-01/LĐLĐ").startswith("Khen thưởng dịp Tháng Công nhân")


def test_first_window_is_the_first_not_yet_over_and_the_next_opens_ahead():
    issued = date(2021, 11, 15)
    assert first_window(WORKERS_MONTH, issued, date(2026, 3, 1)).year == 2026
    assert first_window(WORKERS_MONTH, issued, date(2026, 5, 31)).year == 2026
    assert first_window(WORKERS_MONTH, issued, date(2026, 6, 1)).year == 2027
    # Issued in Q4/2021 and seen then: the first round is May 2022, not one in the past.
    assert first_window(WORKERS_MONTH, issued, issued).year == 2022
    due, w = next_opening(WORKERS_MONTH, 2026, issued)
    assert (due, w.year) == (date(2027, 4, 1), 2027)


def test_other_timings():
    issued = date(2021, 11, 15)
    ongoing = window_for({"kind": "ongoing", "text": "Thường xuyên"}, 2026, issued)
    assert (ongoing.opens_on, ongoing.closes_on, ongoing.occasion) == (date(2026, 1, 1), date(2026, 12, 31), "ongoing")
    q4 = {"kind": "once_by_quarter", "year": 2021, "quarter": 4}
    w = first_window(q4, issued, issued)
    assert (w.opens_on, w.closes_on) == (issued, date(2021, 12, 31))
    assert first_window(q4, issued, date(2022, 1, 1)) is None
    assert next_opening(q4, 2021, issued) is None
    dec = window_for({"kind": "yearly_by_month", "month": 12}, 2026, issued)
    assert (dec.opens_on, dec.closes_on, dec.occasion) == (date(2026, 12, 1), date(2026, 12, 31), "year_end")
    by_day = window_for({"kind": "yearly_by_day", "month": 11, "day": 30}, 2026, issued)
    assert (by_day.opens_on, by_day.closes_on) == (date(2026, 1, 1), date(2026, 11, 30))


# --- rounds, nominations, quotas ------------------------------------------------------------------

GIAY_KHEN = AwardForm("giay_khen", "Giấy khen", 20, ("collective", "individual"), ("upper_level_union",))
BANG_KHEN = AwardForm("bang_khen", "Bằng khen", 30, ("collective", "individual"), ("provincial_federation",))
CO = AwardForm("co", "Cờ thi đua", 35, ("collective",), ("provincial_federation",))


def _round(**kw):
    values = dict(round_id="r", name="Đợt 19/5", level="Cấp tỉnh", issuer_unit_id="prov", opens_on=date(2026, 5, 1),
                  closes_on=date(2026, 5, 31), anchor_on=date(2026, 5, 19), report_period=None,
                  require_report_accepted=True, requirement_id=None, min_rating="good",
                  collective_categories=["Tập thể xuất sắc"], individual_categories=[], forms=["bang_khen", "co"],
                  quotas={"u1": 2}, opened_at=T0, opened_by="chair")
    values.update(kw)
    return new_round(**values)


def test_round_rules():
    r = _round()
    assert r.report_period == "2025" and r.status(date(2026, 4, 30)) == "upcoming"
    with pytest.raises(Conflict, match="chưa bắt đầu nhận hồ sơ"):
        r.check_taking_nominations(date(2026, 4, 30))
    with pytest.raises(Conflict, match="đã hết thời gian"):
        r.check_taking_nominations(date(2026, 6, 1))
    r.check_taking_nominations(date(2026, 5, 19))
    with pytest.raises(Invalid) as e:
        r.check_form("individual", CO, "co")
    assert e.value.field == "form"
    with pytest.raises(Invalid):
        r.check_form("collective", GIAY_KHEN, "giay_khen")  # not a form of this round
    with pytest.raises(Invalid):
        r.check_category("collective", "Không có")
    r.check_category("individual", None)  # no individual categories: free
    with pytest.raises(Invalid) as e:
        _round(closes_on=date(2026, 4, 1))
    assert e.value.field == "closes_on"


def _nomination(**kw):
    values = dict(nomination_id="n1", round_id="r", by_unit_id="g1", nominee_kind="collective", nominee_id="g1",
                  nominee_name="CĐCS 1", nominee_unit_id="g1", category=None, form="bang_khen", achievements="…",
                  status="submitted", at_unit_id="u1", route=["g1", "u1"], eligible_at_submission=True,
                  reasons_at_submission=[], submitted_at=T0, submitted_by="p")
    values.update(kw)
    return Nomination(**values)


def test_a_nomination_goes_up_level_by_level_then_to_the_council():
    n = _nomination()
    with pytest.raises(Conflict, match="chưa được cấp trên trình"):
        n.record_council("approved", form=None, current=BANG_KHEN, note=None, decided_on=date(2026, 5, 20),
                         actor_id="c", unit_id="prov", at=T0, reasons=[])
    with pytest.raises(Conflict, match="không chờ"):
        n.forward("u2", "prov", "prov", "p", T0, None)
    n.forward("u1", "prov", "prov", "p", T0, "Đồng ý trình")
    assert (n.status, n.at_unit_id) == ("under_review", "prov")
    with pytest.raises(Conflict, match="chưa đủ điều kiện"):
        n.record_council("approved", form=None, current=BANG_KHEN, note=None, decided_on=date(2026, 5, 20),
                         actor_id="c", unit_id="prov", at=T0, reasons=["Chưa gửi báo cáo kết quả kỳ 2025"])
    with pytest.raises(Invalid, match="không cao hơn"):
        n.record_council("escalated", form=GIAY_KHEN, current=BANG_KHEN, note=None, decided_on=date(2026, 5, 20),
                         actor_id="c", unit_id="prov", at=T0, reasons=[])
    assert n.record_council("escalated", form=CO, current=BANG_KHEN, note="Xuất sắc", decided_on=date(2026, 5, 20),
                            actor_id="c", unit_id="prov", at=T0, reasons=[])
    assert not n.record_council("escalated", form=CO, current=BANG_KHEN, note="Xuất sắc",
                                decided_on=date(2026, 5, 20), actor_id="c", unit_id="prov", at=T0, reasons=[])
    assert (n.status, n.final_form) == ("escalated", "co")
    n.grant("d1", "aw1", "c", "prov", T0)
    assert n.status == "awarded" and [s["action"] for s in n.trail] == ["forwarded", "council_escalated", "awarded"]
    with pytest.raises(Conflict):
        n.withdraw("p", T0, None)


def test_places_and_quotas():
    n = _nomination()
    assert n.place_key == "r|collective|g1"
    n.return_("u1", "p", T0, "Chưa đủ hồ sơ")
    assert n.place_key is None  # a returned nomination frees the place
    rejected = _nomination(status="rejected")
    assert rejected.place_key is not None  # the council's "no" keeps it: one nomination per nominee per round
    check_quotas({"u1": 2}, {"u1": 1}, {"u1": 1, "g1": 1}, {})
    with pytest.raises(Conflict, match="Vượt chỉ tiêu khen thưởng của Công đoàn KCN: chỉ tiêu 2") as e:
        check_quotas({"u1": 2}, {"u1": 2}, {"u1": 1}, {"u1": "Công đoàn KCN"})
    assert e.value.field == "quotas.u1"


def test_one_report_counts_per_requirement():
    s = UnitStanding("g1", "2025")
    s.record_submitted("r-old", "annual", 1, False, T0)
    s.record_submitted("r-new", "annual", 1, True, T0 + timedelta(days=1))  # filed again under a new id
    assert s.reasons_not_eligible() == []
    s.record_submitted("r-other", "quarterly", 1, True, T0)
    s.record_returned("r-other", "quarterly", 1, T0 + timedelta(days=2))
    assert s.reasons_not_eligible() == ["Báo cáo kết quả kỳ 2025 đã bị trả lại để bổ sung, chưa được gửi lại"]
    assert s.reasons_not_eligible(requirement_id="annual") == []


def test_a_closure_dated_later_changes_nothing_today():
    s = UnitStanding("g1", "2025")
    s.record_accepted("r1", "annual", 1, True, T0)
    unit = SimpleNamespace(closed_on=date(2026, 6, 1), merged_into="g2")  # announced for next June
    assert collective_reasons(unit, s, require_accepted=True, requirement_id=None, on=date(2026, 5, 15)) == []
    assert collective_reasons(unit, s, require_accepted=True, requirement_id=None, on=date(2026, 6, 1),
                              merged_into_name="CĐCS B") == ["Đơn vị đã sáp nhập vào CĐCS B từ ngày 01/06/2026"]
