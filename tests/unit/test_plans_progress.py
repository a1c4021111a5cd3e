"""Progress that tells the truth: an ongoing item's yearly occurrence closes with its year, and
completion dates lie between the day a task began and today, backdated by 30 days at most."""

from __future__ import annotations

from datetime import date

import pytest

from services.plans.domain.tasks import MAX_BACKDATE_DAYS, TaskError, category, check_done_on, period_bounds

TODAY = date(2026, 11, 20)


def test_an_ongoing_items_year_closes_with_it() -> None:
    assert category("open", None, None, TODAY, "2026") == "open"  # its year runs: in time
    assert category("in_progress", None, None, TODAY, "2026") == "in_progress"
    assert category("open", None, None, date(2027, 1, 1), "2026") == "not_done"  # the year is over
    assert category("in_progress", None, None, date(2027, 1, 1), "2026") == "not_done"
    assert category("done", None, True, date(2027, 1, 1), "2026") == "done_on_time"
    assert category("open", date(2026, 11, 30), None, date(2027, 1, 1), "2026") == "overdue"  # dated: overdue


def test_periods() -> None:
    assert period_bounds("2026") == (date(2026, 1, 1), date(2026, 12, 31))
    assert period_bounds("2026-Q4") == (date(2026, 10, 1), date(2026, 12, 31))
    assert period_bounds("2026-Q1") == (date(2026, 1, 1), date(2026, 3, 31))
    assert period_bounds("2026-02") == (date(2026, 2, 1), date(2026, 2, 28))


@pytest.mark.parametrize(("day", "why"), [
    (date(2026, 11, 21), "chưa đến"),  # tomorrow
    (date(2026, 4, 30), r"trước ngày nhiệm vụ bắt đầu \(01/05/2026\)"),  # before the plan was issued
    (date(2026, 10, 20), f"lùi quá {MAX_BACKDATE_DAYS} ngày"),  # backdated 31 days
])
def test_completion_dates_refused(day: date, why: str) -> None:
    with pytest.raises(TaskError, match=why) as err:
        check_done_on(day, TODAY, period="2026", start=None, issued_on=date(2026, 5, 1), due=date(2026, 11, 30))
    assert err.value.field == "done_on"


def test_completion_dates_taken() -> None:
    check_done_on(TODAY, TODAY, period="2026", start=None, issued_on=date(2026, 5, 1), due=date(2026, 11, 30))
    check_done_on(date(2026, 10, 21), TODAY, period="2026", start=None, issued_on=date(2026, 5, 1), due=None)
    # a window's occurrence begins with its window
    with pytest.raises(TaskError, match="01/05/2026"):
        check_done_on(date(2026, 4, 30), date(2026, 5, 10), period="2026", start=date(2026, 5, 1), issued_on=None,
                      due=date(2026, 5, 31))
    # an ongoing occurrence of 2026 is done in 2026, recorded a few days later
    check_done_on(date(2026, 12, 30), date(2027, 1, 5), period="2026", start=None, issued_on=None, due=None)
    with pytest.raises(TaskError, match="khép lại cùng năm") as err:
        check_done_on(date(2027, 1, 2), date(2027, 1, 5), period="2026", start=None, issued_on=None, due=None)
    assert err.value.conflict


# --- the unit's report ----------------------------------------------------------------------------

def test_a_reports_date_is_kept_within_the_task() -> None:
    from services.plans.domain.tasks import report_done_on

    kw = dict(period="2026", start=None, issued_on=date(2026, 11, 1), due=date(2026, 11, 30))
    today = date(2026, 11, 20)
    assert report_done_on(date(2026, 11, 19), today, **kw) == date(2026, 11, 19)
    assert report_done_on(date(2026, 10, 20), today, **kw) == date(2026, 11, 1)  # not before it began
    assert report_done_on(date(2026, 11, 25), today, **kw) == today  # not after today
    # a report many days old is its own record: no 30-day backdating bound
    assert report_done_on(date(2026, 11, 2), date(2026, 12, 31), **kw) == date(2026, 11, 2)
    assert report_done_on(date(2026, 11, 2), date(2026, 10, 31), **kw) is None  # not begun yet
    # an ongoing item's yearly occurrence closes with its year
    assert report_done_on(date(2027, 1, 5), date(2027, 1, 6), period="2026", start=None, issued_on=None,
                          due=None) == date(2026, 12, 31)


def test_a_report_sent_returned_and_sent_again() -> None:
    from services.plans.domain.tasks import DONE, IN_PROGRESS, OPEN, WITHDRAWN, report_recorder, report_returned, report_sent

    kw = dict(today=date(2026, 11, 20), period="2026", start=None, issued_on=date(2026, 11, 1), due=date(2026, 11, 30))
    change = report_sent(OPEN, None, sent=date(2026, 11, 19), **kw)
    assert change is not None and (change.status, change.done_on, change.on_time, change.evidence) == (
        DONE, date(2026, 11, 19), True, "Đã gửi báo cáo")
    assert report_sent(DONE, date(2026, 11, 10), sent=date(2026, 11, 19), **kw) is None
    assert report_sent(WITHDRAWN, None, sent=date(2026, 11, 19), **kw) is None
    back = report_returned(DONE, report_recorder("r-1"), "r-1", "Bổ sung số liệu.")
    assert back is not None and (back.status, back.done_on, back.on_time) == (IN_PROGRESS, None, None)
    assert back.evidence and back.evidence.endswith(": Bổ sung số liệu.")
    assert report_returned(DONE, "p-chair", "r-1") is None  # a person's done task stays theirs
    assert report_returned(DONE, report_recorder("r-2"), "r-1") is None  # another report's
    assert report_returned(IN_PROGRESS, report_recorder("r-1"), "r-1") is None
    late = report_sent(IN_PROGRESS, None, sent=date(2026, 12, 3), **{**kw, "today": date(2026, 12, 3)})
    assert late is not None and (late.done_on, late.on_time) == (date(2026, 12, 3), False)
    assert report_recorder("r-1") == "report:r-1" and len(report_recorder("x" * 100)) <= 100


def test_report_events_are_taken_in_their_order_only() -> None:
    from services.plans.domain.tasks import is_later_report_event as later

    assert later(None, 1, "submitted")
    assert later((1, "submitted"), 1, "returned") and later((1, "submitted"), 1, "accepted")
    assert later((1, "accepted"), 1, "returned")  # a level above returns an accepted report
    assert later((1, "returned"), 2, "submitted")
    assert not later((1, "returned"), 1, "submitted") and not later((2, "submitted"), 1, "returned")
    assert not later((1, "submitted"), 1, "submitted")
