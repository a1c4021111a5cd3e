"""Task occurrences: how a unit updates them and how progress is counted. Plain Python, no I/O.

Categories follow Vietnamese government task tracking (theo dõi, đôn đốc nhiệm vụ):
- done_on_time  "Hoàn thành đúng hạn"
- done_late     "Hoàn thành quá hạn"
- in_progress   "Đang thực hiện trong hạn"
- overdue       "Quá hạn chưa hoàn thành" (due date passed and not done, started or not)
- not_done      "Không hoàn thành trong năm" (an ongoing item — "thường xuyên", no due date — whose
                year ended without it being done: its yearly occurrence closes with the year)
- open          "Chưa thực hiện, còn trong hạn" (not started, not yet due, or no due date in its year)

Completion dates tell the truth: a task is done on a day between the day it began (its start, the
first day of its period, the day its plan was issued — the latest of these) and today, at most
``MAX_BACKDATE_DAYS`` before the day it is recorded, and an ongoing item's yearly occurrence
within its year. Who recorded it is kept (``updated_by``, shown as ``recorded_by``).
Withdrawn occurrences (a revision dropped them, their unit closed, the plan closed) count nowhere.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, timedelta

from contracts.api.common import ErrorCode
from runtime import errors
from services.plans.domain.timing import is_on_time

OPEN, IN_PROGRESS, DONE, WITHDRAWN = "open", "in_progress", "done", "withdrawn"
CATEGORIES = ("done_on_time", "done_late", "in_progress", "overdue", "not_done", "open")
MAX_BACKDATE_DAYS = 30
CATEGORY_LABELS = {
    "done_on_time": "Hoàn thành đúng hạn",
    "done_late": "Hoàn thành quá hạn",
    "in_progress": "Đang thực hiện trong hạn",
    "overdue": "Quá hạn chưa hoàn thành",
    "not_done": "Không hoàn thành trong năm",
    "open": "Chưa thực hiện, còn trong hạn",
    "total": "Tổng số",
}


class TaskError(errors.DomainError):
    """An update a task occurrence refuses: 422, or 409 (`conflict`) when its state forbids it."""

    def __init__(self, message: str, field: str = "", conflict: bool = False) -> None:
        super().__init__(message, field)
        self.conflict = conflict
        self.code = ErrorCode.CONFLICT if conflict else ErrorCode.VALIDATION


def category(status: str, due: date | None, on_time: bool | None, today: date, period: str | None = None) -> str:
    if status == DONE:
        return "done_on_time" if on_time or on_time is None else "done_late"
    if due is not None and due < today:
        return "overdue"
    if due is None and period and period[:4].isdigit() and int(period[:4]) < today.year:
        return "not_done"  # an ongoing item's year is over: it was not done, it is no longer "in time"
    return "in_progress" if status == IN_PROGRESS else "open"


def period_bounds(period: str) -> tuple[date, date]:
    """First and last day of a period: '2026', '2026-Q4', '2026-05'."""
    y = int(period[:4])
    if len(period) == 7 and period[5] == "Q":
        q = int(period[6])
        first = date(y, 3 * q - 2, 1)
        last = date(y + 1, 1, 1) if q == 4 else date(y, 3 * q + 1, 1)
        return first, last - timedelta(days=1)
    if len(period) == 7:
        m = int(period[5:])
        return date(y, m, 1), (date(y + 1, 1, 1) if m == 12 else date(y, m + 1, 1)) - timedelta(days=1)
    return date(y, 1, 1), date(y, 12, 31)


def check_done_on(day: date, today: date, *, period: str, start: date | None, issued_on: date | None,
                  due: date | None) -> None:
    """The rule of completion dates (module docstring), or TaskError naming done_on."""
    if day > today:
        raise TaskError(f"Ngày hoàn thành {day:%d/%m/%Y} chưa đến (hôm nay là {today:%d/%m/%Y}).", "done_on")
    last = period_bounds(period)[1]
    # it began when its plan was issued, its window opened, its year began — the latest of these
    began = max([d for d in (start, issued_on) if d is not None] + [date(int(period[:4]), 1, 1)])
    if day < began:
        raise TaskError(f"Ngày hoàn thành {day:%d/%m/%Y} trước ngày nhiệm vụ bắt đầu ({began:%d/%m/%Y}).", "done_on")
    if due is None and day > last:
        raise TaskError(f"Nhiệm vụ thường xuyên của năm {period[:4]} đã khép lại cùng năm: không thể ghi hoàn thành "
                        f"ngày {day:%d/%m/%Y}.", "done_on", conflict=True)
    if (today - day).days > MAX_BACKDATE_DAYS:
        raise TaskError(f"Ngày hoàn thành {day:%d/%m/%Y} lùi quá {MAX_BACKDATE_DAYS} ngày so với ngày ghi nhận "
                        f"({today:%d/%m/%Y}).", "done_on")


@dataclass(frozen=True)
class Change:
    status: str
    done_on: date | None
    on_time: bool | None
    evidence: str | None
    unchanged: bool = False


def apply_update(current_status: str, current_evidence: str | None, current_done_on: date | None, due: date | None,
                 new_status: str, evidence: str | None, done_on: date | None, today: date,
                 start: date | None = None) -> Change:
    """The new state of an occurrence after a unit's update, or TaskError."""
    if current_status == WITHDRAWN:
        raise TaskError("Nhiệm vụ này đã được thu hồi (kế hoạch được điều chỉnh hoặc kết thúc, hoặc đơn vị "
                        "đã ngừng hoạt động).", "occurrence_id", conflict=True)
    evidence = evidence.strip() if evidence else None
    if new_status == IN_PROGRESS:
        if current_status == DONE:
            raise TaskError("Nhiệm vụ đã hoàn thành, không thể chuyển lại thành đang thực hiện.", "status",
                            conflict=True)
        if current_status == IN_PROGRESS and evidence in (None, current_evidence):
            return Change(IN_PROGRESS, None, None, current_evidence, unchanged=True)
        return Change(IN_PROGRESS, None, None, evidence or current_evidence)
    if new_status != DONE:
        raise TaskError(f"Không có trạng thái nhiệm vụ “{new_status}”.", "status")
    if not evidence:
        raise TaskError("Nhiệm vụ hoàn thành cần có minh chứng: một ghi chú hoặc một đường dẫn.", "evidence")
    day = done_on or today
    if day > today:
        raise TaskError(f"Ngày hoàn thành {day:%d/%m/%Y} chưa đến.", "done_on")
    if current_status == DONE:
        if evidence == current_evidence and (done_on is None or done_on == current_done_on):
            return Change(DONE, current_done_on, is_on_time(current_done_on, due) if current_done_on else None,
                          current_evidence, unchanged=True)
        day = current_done_on or day  # amending the evidence keeps the day it was done
    return Change(DONE, day, is_on_time(day, due), evidence)


# --- the unit's report ------------------------------------------------------------------------
# A plan item that asks for a report ("send the 30/11 report") is done when the unit sends it: the
# reports service says so in its events. The report records it (``updated_by`` "report:<id>"); a
# task a person marked done is theirs and stays as they recorded it.

REPORT_PREFIX = "report:"
REPORT_SENT = "Đã gửi báo cáo"
REPORT_RETURNED = "Báo cáo bị cấp trên trả lại, đơn vị cần bổ sung và gửi lại"


def report_recorder(report_id: str) -> str:
    """Who records a task the report completes: "report:<report_id>" (100 characters at most, as
    every recorder; a longer id is shortened to a digest of it)."""
    label = REPORT_PREFIX + report_id
    if len(label) <= 100:
        return label
    return REPORT_PREFIX + hashlib.sha256(report_id.encode()).hexdigest()[:40]


def report_done_on(sent: date, today: date, *, period: str, start: date | None, issued_on: date | None,
                   due: date | None) -> date | None:
    """The completion date a report sent on `sent` (its local date) gives the task, within the rule
    of completion dates: not before the task began, not after today (nor after its year, for an
    ongoing item). None when no day fits (the task has not begun yet). The report's own date is
    a record, not a claim made afterwards: the backdating bound of a person's entry does not apply."""
    began = max([d for d in (start, issued_on) if d is not None] + [date(int(period[:4]), 1, 1)])
    last = today if due is not None else min(today, period_bounds(period)[1])
    if began > last:
        return None
    return min(max(sent, began), last)


SUBMITTED, ACCEPTED, RETURNED = "submitted", "accepted", "returned"
# Within one revision of a report: sent, then accepted or returned (a level above may return an
# accepted one); a new revision is sent after a return (or a reopening).
_STAGE_ORDER = {SUBMITTED: 0, ACCEPTED: 1, RETURNED: 2}


def is_later_report_event(last: tuple[int, str] | None, revision: int, stage: str) -> bool:
    """Whether a report event (its revision, its stage) comes after the last one recorded: events
    can be handled out of their order (two replicas, a parked one replayed), never taken back."""
    if last is None:
        return True
    return (revision, _STAGE_ORDER[stage]) > (last[0], _STAGE_ORDER.get(last[1], -1))


def report_sent(status: str, done_on: date | None, *, sent: date, today: date, period: str, start: date | None,
                issued_on: date | None, due: date | None) -> Change | None:
    """The task after the unit's report was sent (or sent again after a return): done, on the
    report's date; None when nothing changes (already done — by the report or by a person —,
    withdrawn, or not begun yet)."""
    if status in (DONE, WITHDRAWN):
        return None
    day = report_done_on(sent, today, period=period, start=start, issued_on=issued_on, due=due)
    if day is None:
        return None
    return Change(DONE, day, is_on_time(day, due), REPORT_SENT)


def report_returned(status: str, updated_by: str | None, report_id: str, comment: str = "") -> Change | None:
    """The task after the unit's report was returned: back in progress, if this report made it
    done (one a person marked done stays done); None otherwise."""
    if status != DONE or updated_by != report_recorder(report_id):
        return None
    note = REPORT_RETURNED + (f": {comment.strip()}" if comment.strip() else ".")
    return Change(IN_PROGRESS, None, None, note[:2000])


@dataclass(frozen=True, slots=True)
class TaskCount:
    """How many of a unit's tasks share a due date, a period year, a status and timeliness: the
    grain a rollup adds up."""

    unit_id: str
    due_date: date | None
    year: str
    status: str
    on_time: bool | None
    n: int


@dataclass
class Tally:
    done_on_time: int = 0
    done_late: int = 0
    in_progress: int = 0
    overdue: int = 0
    not_done: int = 0
    open: int = 0

    def add(self, cat: str, n: int = 1) -> None:
        setattr(self, cat, getattr(self, cat) + n)

    def merge(self, other: Tally) -> None:
        for c in CATEGORIES:
            self.add(c, getattr(other, c))

    @property
    def total(self) -> int:
        return sum(getattr(self, c) for c in CATEGORIES)

    def as_dict(self) -> dict[str, int]:
        return {**{c: getattr(self, c) for c in CATEGORIES}, "total": self.total}


def reference_date(due: date | None, period: str, today: date) -> date:
    """The day an occurrence is attributed to a place in the tree: its due date, else the end of
    its period's year — but never after today (the future belongs where the unit is now)."""
    ref = due or date(int(period[:4]), 12, 31)
    return min(ref, today)


__all__ = ["OPEN", "IN_PROGRESS", "DONE", "WITHDRAWN", "CATEGORIES", "CATEGORY_LABELS", "MAX_BACKDATE_DAYS",
           "TaskError", "category", "check_done_on", "period_bounds",
           "Change", "apply_update", "Tally", "reference_date", "REPORT_PREFIX", "REPORT_SENT", "REPORT_RETURNED",
           "report_recorder", "report_done_on", "report_sent", "report_returned", "SUBMITTED", "ACCEPTED", "RETURNED",
           "is_later_report_event"]
