"""The reports service's rules without I/O: requirements (timeliness with grace, cut-off, the
period's hierarchy day, reminders), review transitions, and requirements read from plan items."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from services.reports.domain.model import (
    ACCEPTED,
    DRAFT,
    RETURNED,
    SUBMITTED,
    VN_TZ,
    Report,
    ReportError,
    Requirement,
)
from services.reports.domain.requirements import (
    TimingSpec,
    first_period,
    receiving_department_of,
    requirement_id_for,
    template_of,
)

SEED_CONTENT = ("Các cấp công đoàn tổ chức đánh giá kết quả …; gửi báo cáo kết quả thực hiện về LĐLĐ tỉnh (qua Ban "
                "Tuyên giáo - Nữ công) để tổng hợp, báo cáo Tổng Liên đoàn, Ban Tuyên giáo Tỉnh ủy.")
EVERY_LEVEL = [{"kind": "units_of_kind", "unit_kinds": ["upper_level_union", "grassroots_union"]}]


def vn(*args: int) -> datetime:
    return datetime(*args, tzinfo=VN_TZ)  # type: ignore[misc]


def req(**over: object) -> Requirement:
    base: dict = dict(requirement_id="q", name="Báo cáo năm 2026", issuer_unit_id="prov", receiving_unit_id="prov",
                      reporting_kinds=("grassroots_union",), period="2026", due_date=date(2026, 11, 30),
                      form_id="bc-01-kl-tw", form_version=1)
    base.update(over)
    return Requirement(**base)


def test_on_time_is_the_local_day_up_to_the_due_date_plus_grace() -> None:
    q = req()
    assert q.is_on_time(vn(2026, 11, 30, 23, 59)) and not q.is_on_time(vn(2026, 12, 1, 0, 1))
    # 30/11 23:30 in Hà Nội is 16:30 UTC: the local day counts, not the UTC one.
    assert not q.is_on_time(datetime(2026, 11, 30, 17, 30, tzinfo=VN_TZ).astimezone(VN_TZ).replace(day=1, month=12))
    g = req(grace_days=2)
    assert g.last_on_time_day == date(2026, 12, 2) and g.is_on_time(vn(2026, 12, 2, 20, 0))
    assert g.overdue_at() == vn(2026, 12, 3, 0, 0)


def test_the_period_hierarchy_is_the_due_date_unless_set() -> None:
    assert req().as_of == date(2026, 11, 30)
    assert req(hierarchy_as_of=date(2026, 1, 1)).as_of == date(2026, 1, 1)


def test_cut_off_must_not_precede_the_last_on_time_day() -> None:
    with pytest.raises(ReportError) as e:
        req(grace_days=5, cutoff_date=date(2026, 12, 3))
    assert e.value.field == "cutoff_date" and e.value.kind == "invalid"
    q = req(cutoff_date=date(2026, 12, 15))
    assert not q.cut_off(vn(2026, 12, 15, 22, 0)) and q.cut_off(vn(2026, 12, 16, 0, 0))
    with pytest.raises(ReportError):
        req(reporting_kinds=())


def test_reminders_are_one_per_offset_and_only_ahead() -> None:
    q = req(reminder_days=(1, 7, 3))
    keys = [(k, kind, at) for k, kind, at, _ in q.reminders(vn(2026, 11, 25, 12, 0))]
    assert keys == [("rq:q:d3", "report_deadline_approaching", vn(2026, 11, 27, 8, 0)),
                    ("rq:q:d1", "report_deadline_approaching", vn(2026, 11, 29, 8, 0)),
                    ("rq:q:overdue", "report_overdue", vn(2026, 12, 1, 0, 0))]
    assert q.reminders(vn(2026, 12, 2, 0, 0)) == []  # opened too late: no burst of stale notices


def report(status: str = DRAFT) -> Report:
    return Report("r", "q", "2026", "g1", "u1", 0, None, date(2026, 11, 30), None, status=status)


def test_timeliness_is_the_first_submissions_and_resubmission_keeps_it() -> None:
    r = report()
    r.submit({"a": 1}, vn(2026, 11, 29, 9, 0), True, "r")
    assert (r.revision, r.status, r.on_time, r.first_submitted_at) == (1, SUBMITTED, True, vn(2026, 11, 29, 9, 0))
    r.return_("Sửa lại", by_receiving_level=True)
    r.submit({"a": 2}, vn(2026, 12, 5, 9, 0), False, None)
    assert (r.revision, r.status, r.on_time, r.values) == (2, SUBMITTED, True, {"a": 2})
    assert r.first_submitted_at == vn(2026, 11, 29, 9, 0) and r.review_comment is None


def test_a_retry_carries_the_stored_submissions_id() -> None:
    r = report()
    r.report_id = "rep-1"  # the first submission's id names the report
    r.submit({}, vn(2026, 11, 1, 9, 0), True, "rep-1")
    assert r.is_retry_of("rep-1") and not r.is_retry_of("rep-2") and not r.is_retry_of(None)
    r.return_("x", by_receiving_level=True)
    assert not r.is_retry_of("rep-1")  # a returned report: the same id is the resubmission asked for
    r.submit({}, vn(2026, 11, 2, 9, 0), True, "rep-1b")
    assert r.is_retry_of("rep-1b") and r.is_retry_of("rep-1")


def test_review_follows_the_approve_unapprove_shape() -> None:
    r = report()
    with pytest.raises(ReportError):
        r.accept(None)  # a draft
    r.submit({}, vn(2026, 11, 1, 9, 0), True, None)
    with pytest.raises(ReportError) as e:
        r.return_("x", by_receiving_level=False)  # a higher level waits for the receiving level's review
    assert e.value.kind == "forbidden"
    r.accept("Đạt")
    assert r.status == ACCEPTED
    r.return_("Số liệu sai", by_receiving_level=False)  # a higher level returns an accepted report
    assert (r.status, r.review_comment) == (RETURNED, "Số liệu sai")
    with pytest.raises(ReportError):
        r.accept(None)  # returned: accepted only once resubmitted
    with pytest.raises(ReportError):
        r.return_("again", by_receiving_level=True)


def test_the_seed_30_11_item_becomes_a_yearly_requirement() -> None:
    t = template_of("kh-01", "KH-01/LĐLĐ", "Kế hoạch thực hiện Kết luận số 01-KL/TW", "prov", "II.3.a", "report",
                    SEED_CONTENT, TimingSpec("yearly_by_day", month=11, day=30), EVERY_LEVEL)
    assert t is not None
    assert (t.reporting_kinds, t.receiving_department) == (("upper_level_union", "grassroots_union"),
                                                           "Ban Tuyên giáo - Nữ công")
    assert first_period(t, date(2026, 1, 10), date(2026, 1, 15)) == ("2026", date(2026, 11, 30))
    assert first_period(t, date(2026, 1, 10), date(2026, 12, 1)) == ("2027", date(2027, 11, 30))  # not in the past
    assert t.requirement_id("2026") == "kh-01:II.3.a:2026"
    assert "KH-01/LĐLĐ" in t.name("2026") and t.name("2026").endswith("năm 2026")  # as people write it
    assert type(t).from_dict(t.to_dict()) == t


def test_items_without_a_deadline_or_without_reporting_units_ask_nothing() -> None:
    ongoing = TimingSpec("ongoing")
    assert template_of("p", "1", "T", "prov", "IV.2.b", "report", "Hàng năm, báo cáo", ongoing, EVERY_LEVEL) is None
    dated = TimingSpec("yearly_by_day", month=11, day=30)
    assert template_of("p", "1", "T", "prov", "IV.1.1.e", "report", "Tổng hợp",
                       dated, [{"kind": "department", "code": "BAN_TGNC"}]) is None
    assert template_of("p", "1", "T", "prov", "II.2.a", "posts", "Tin bài", dated, EVERY_LEVEL) is None


@pytest.mark.parametrize("timing,period,due", [
    (TimingSpec("once_by_quarter", year=2026, quarter=4), "2026-Q4", date(2026, 12, 31)),
    (TimingSpec("once_by_month", year=2026, month=2), "2026-02", date(2026, 2, 28)),
    (TimingSpec("once_by_date", year=2026, month=6, day=15), "2026-06", date(2026, 6, 15)),
    (TimingSpec("yearly_by_month", month=12), "2026", date(2026, 12, 31)),
    (TimingSpec("yearly_window", month=5, day=1, end_month=5, end_day=31), "2026", date(2026, 5, 31)),
])
def test_periods_follow_plans_labels(timing: TimingSpec, period: str, due: date) -> None:
    t = template_of("p", "1", "T", "prov", "i", "report", "x", timing, EVERY_LEVEL)
    assert t is not None and first_period(t, date(2026, 1, 1), date(2026, 1, 2)) == (period, due)
    late = first_period(t, date(2026, 1, 1), date(2027, 1, 2))
    assert late is None or late[0].startswith("2027")  # a one-off in the past is skipped


def test_receiving_department_and_ids() -> None:
    assert receiving_department_of("gửi về LĐLĐ tỉnh (qua  Ban Tổ chức - Kiểm tra) trước 30/11") == \
        "Ban Tổ chức - Kiểm tra"
    assert receiving_department_of("gửi về LĐLĐ tỉnh") is None
    assert requirement_id_for("kh 01", "II.3.a", "2026").startswith("rq-")  # a space is not an id character
