"""Reporting requirements and units' reports: the rules of submission, timeliness and review.
Plain Python, no I/O. Dates are calendar days in Vietnam (Asia/Ho_Chi_Minh): the shared clock
gives aware local datetimes, and "on time" compares their local day with the due date.

Decisions where the issue is silent:
- **Timeliness** is judged on a report's *first* submission, against the due date plus the
  requirement's grace days (inclusive: "trước ngày 30/11" is due 30/11, the whole local day). A
  resubmission (a correction, usually after a return) keeps the flag: the unit met the deadline,
  and the reviewer asking for a correction does not make it late. A late first submission stays
  late after corrections.
- **Cut-off**: after the cut-off day no report is received, except the resubmission of a report
  the receiving level returned (it asked for it).
- **The hierarchy of the period** is the hierarchy on ``as_of`` (``hierarchy_as_of``, by default
  the due date): who must report (the units of the reporting kinds under the issuer that day),
  who receives each report (its parent that day), and how consolidation groups. A reorganisation
  effective after that day (the 2025 merges, say, or a merge while the period's reports are being
  consolidated) changes nothing for the period; one effective before it is the period's own
  hierarchy (a unit dissolved in July has no report due in November).
- **Review**: the receiving level (the reporting unit's parent on ``as_of``) accepts or returns a
  submitted report; a higher level may return an accepted report (DHIS2's approve/unapprove); an
  accepted report may also be returned by its receiving level. A returned report is missing until
  resubmitted. A unit may resubmit a submitted or returned report before the cut-off: the report
  goes back to "submitted" (to be reviewed again).
- **An accepted report stays as accepted.** No submission changes it — with or without a
  ``report_id`` — until its receiving level reopens it (``reopen``: back to "submitted", still
  counted as received, open for a corrected revision) or returns it. Sending the accepted values
  again is answered as a duplicate (a retry); different values are refused (409,
  ``report_accepted``).
- **A report id names one content.** A submission carrying the id of the stored submission with the
  same values is a retry (``duplicate: true``); with different values it is refused (409,
  ``report_id_reused``): a correction is a new submission (without that id), never a silently
  dropped change.
- **Every revision is kept**: its values, who submitted it and when (``ReportRevision``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from contracts.api.common import ErrorCode
from runtime.errors import DomainError

VN_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
APPROACHING_AT = time(8, 0)  # "deadline approaching" goes out at 08:00 local time
DEFAULT_REMINDER_DAYS = (7, 3, 1)

DRAFT, SUBMITTED, ACCEPTED, RETURNED = "draft", "submitted", "accepted", "returned"
# Stable codes of the refusals of a submission (the ``type`` of the error reply's detail).
REPORT_ACCEPTED, REPORT_ID_REUSED, NOT_REOPENABLE = "report_accepted", "report_id_reused", "not_reopenable"
STATUSES = (DRAFT, SUBMITTED, ACCEPTED, RETURNED)


class ReportError(DomainError):
    """A rule of submission or review was broken. ``field`` names the offending request field;
    ``kind`` is conflict (state), forbidden (scope), invalid (input) or not_found; ``reason`` a
    stable code for programs (the ``type`` of the reply's detail), e.g. ``report_accepted``."""

    def __init__(self, message: str, field: str = "", kind: str = "conflict", reason: str | None = None) -> None:
        details = [{"field": field, "message": message, "type": reason}] if reason else None
        super().__init__(message, field, details)
        self.kind = kind
        self.reason = reason
        self.code = _CODES[kind]


_CODES = {"conflict": ErrorCode.CONFLICT, "forbidden": ErrorCode.FORBIDDEN, "invalid": ErrorCode.VALIDATION,
          "not_found": ErrorCode.NOT_FOUND}


def local_day(at: datetime) -> date:
    if at.tzinfo is None:
        raise ValueError("naive datetime: its day in Vietnam is a guess")
    return at.astimezone(VN_TZ).date()


def dmy(d: date) -> str:
    return d.strftime("%d/%m/%Y")


# ------------------------------------------------------------------------------------- requirements


@dataclass(frozen=True)
class Requirement:
    """Who reports what to whom, for which period, by when. Immutable once opened."""

    requirement_id: str
    name: str
    issuer_unit_id: str
    receiving_unit_id: str
    reporting_kinds: tuple[str, ...]
    period: str
    due_date: date
    form_id: str
    form_version: int
    grace_days: int = 0
    cutoff_date: date | None = None
    hierarchy_as_of: date | None = None
    content: str | None = None
    receiving_department: str | None = None
    reminder_days: tuple[int, ...] = DEFAULT_REMINDER_DAYS
    source_plan_id: str | None = None
    source_item_id: str | None = None
    opened_at: datetime | None = None

    def __post_init__(self) -> None:
        if not self.reporting_kinds:
            raise ReportError("Cần ít nhất một loại đơn vị phải báo cáo.", "reporting_kinds", "invalid")
        if self.grace_days < 0:
            raise ReportError("Số ngày gia hạn không được là số âm.", "grace_days", "invalid")
        if self.cutoff_date is not None and self.cutoff_date < self.last_on_time_day:
            raise ReportError(f"Hạn cuối nhận báo cáo {dmy(self.cutoff_date)} trước ngày cuối cùng còn đúng hạn "
                              f"{dmy(self.last_on_time_day)} (hạn nộp cộng số ngày gia hạn).", "cutoff_date", "invalid")
        if any(d < 0 or d > 366 for d in self.reminder_days):
            raise ReportError("Số ngày nhắc trước hạn phải từ 0 đến 366.", "reminder_days", "invalid")

    @property
    def as_of(self) -> date:
        """The day whose hierarchy the period uses."""
        return self.hierarchy_as_of or self.due_date

    @property
    def last_on_time_day(self) -> date:
        return self.due_date + timedelta(days=self.grace_days)

    def is_on_time(self, at: datetime) -> bool:
        return local_day(at) <= self.last_on_time_day

    def cut_off(self, at: datetime) -> bool:
        return self.cutoff_date is not None and local_day(at) > self.cutoff_date

    def overdue_at(self) -> datetime:
        """The first late instant: local midnight after the last on-time day."""
        return datetime.combine(self.last_on_time_day + timedelta(days=1), time.min, tzinfo=VN_TZ)

    def reminders(self, after: datetime) -> list[tuple[str, str, datetime, dict[str, Any]]]:
        """(key, kind, when, payload) of the reminders still ahead of ``after``: "deadline
        approaching" at 08:00 on due − N days for each N, and "overdue" at the first late instant.
        One reminder per requirement and offset; it fans out to the units still missing when it
        fires (one event per unit). Reminders already past when the requirement opens are not
        scheduled (no burst of stale notices on a late opening or a replay)."""
        out = []
        for n in sorted(set(self.reminder_days), reverse=True):
            at = datetime.combine(self.due_date - timedelta(days=n), APPROACHING_AT, tzinfo=VN_TZ)
            if at > after:
                out.append((f"rq:{self.requirement_id}:d{n}", "report_deadline_approaching", at,
                            {"requirement_id": self.requirement_id, "days_before": n}))
        at = self.overdue_at()
        if at > after:
            out.append((f"rq:{self.requirement_id}:overdue", "report_overdue", at,
                        {"requirement_id": self.requirement_id}))
        return out


# ------------------------------------------------------------------------------------------ reports


@dataclass
class Report:
    """A unit's report for a requirement and period (one per unit; revisions replace the values)."""

    report_id: str
    requirement_id: str
    period: str
    unit_id: str
    receiving_unit_id: str | None
    revision: int
    submitted_at: datetime | None
    due_date: date | None
    on_time: bool | None
    values: dict[str, Any] = field(default_factory=dict)
    status: str = SUBMITTED
    first_submitted_at: datetime | None = None
    form_id: str | None = None
    form_version: int | None = None
    submission_id: str | None = None  # the caller's id of the latest submission (retries of a resubmission)
    draft_values: dict[str, Any] | None = None
    review_comment: str | None = None

    def is_retry_of(self, request_id: str | None) -> bool:
        """A submission carrying the id of the stored (latest) submission, while the report stands
        submitted or accepted, claims to be a retry (``check_resubmission`` says whether it is)."""
        return (request_id is not None and self.status in (SUBMITTED, ACCEPTED)
                and request_id in (self.report_id, self.submission_id))

    def check_resubmission(self, values: dict[str, Any] | None, request_id: str | None) -> bool:
        """Whether a submission of ``values`` (None: none given, the stored ones meant) is a retry
        of the stored one (True: answer from the stored state, no second effect), or a new revision
        (False). Refused: a changed submission under the id of the stored one, and any change of an
        accepted report (until its receiving level reopens it)."""
        same = values is None or same_values(values, self.values)
        if self.is_retry_of(request_id):
            if same:
                return True
            when = f" ngày {dmy(local_day(self.submitted_at))}" if self.submitted_at else ""
            raise ReportError(
                f"Mã báo cáo {request_id} đã dùng cho lần gửi thứ {self.revision}{when} với số liệu khác; hệ thống "
                "không ghi đè lặng lẽ báo cáo đã gửi. Muốn sửa báo cáo, gửi lại không kèm mã này (hoặc với mã mới)"
                + (" sau khi cấp tiếp nhận báo cáo mở lại." if self.status == ACCEPTED else "."),
                "report_id", "conflict", REPORT_ID_REUSED)
        if self.status == ACCEPTED:
            if same:
                return True
            raise ReportError(
                f"Báo cáo {self.report_id} (lần gửi thứ {self.revision}) đã được tiếp nhận nên không thay đổi được. "
                "Muốn sửa số liệu, đề nghị cấp tiếp nhận báo cáo mở lại hoặc trả lại báo cáo, rồi gửi lại.",
                "values", "conflict", REPORT_ACCEPTED)
        return False

    def submit(self, values: dict[str, Any], at: datetime, on_time: bool, request_id: str | None) -> None:
        """First submission (from nothing or a draft) or resubmission. Timeliness is the first
        submission's (see the module docstring)."""
        if self.status == DRAFT or self.first_submitted_at is None:
            self.revision = 1
            self.first_submitted_at = at
            self.on_time = on_time
        else:
            self.revision += 1
        self.values = values
        self.submitted_at = at
        self.status = SUBMITTED
        self.submission_id = request_id
        self.draft_values = None
        self.review_comment = None

    # --- review

    def check_accept(self) -> None:
        if self.status == RETURNED:
            raise ReportError(f"Báo cáo {self.report_id} đã bị trả lại; chỉ chấp nhận được sau khi đơn vị gửi lại.",
                              "report_id")
        if self.status == DRAFT:
            raise ReportError(f"Báo cáo {self.report_id} mới là bản nháp, chưa được gửi.", "report_id")

    def accept(self, comment: str | None) -> None:
        self.check_accept()
        self.status = ACCEPTED
        self.review_comment = comment

    def check_return(self, by_receiving_level: bool) -> None:
        if self.status == DRAFT:
            raise ReportError(f"Báo cáo {self.report_id} mới là bản nháp, chưa được gửi.", "report_id")
        if self.status == RETURNED:
            raise ReportError(f"Báo cáo {self.report_id} đã bị trả lại, đang chờ đơn vị gửi lại.", "report_id")
        if self.status == SUBMITTED and not by_receiving_level:
            raise ReportError(f"Báo cáo {self.report_id} chưa được xét: cấp nhận báo cáo {self.receiving_unit_id} xét "
                              f"trước; cấp trên chỉ trả lại được báo cáo đã được chấp nhận.",
                              "report_id", "forbidden")

    def return_(self, comment: str, by_receiving_level: bool) -> None:
        self.check_return(by_receiving_level)
        self.status = RETURNED
        self.review_comment = comment

    def check_reopen(self) -> None:
        if self.status != ACCEPTED:
            raise ReportError(f"Báo cáo {self.report_id} đang ở trạng thái “{STATUS_VI[self.status]}”, chưa được "
                              "tiếp nhận: chỉ báo cáo đã tiếp nhận mới cần mở lại.", "report_id", "conflict",
                              NOT_REOPENABLE)

    def reopen(self, comment: str) -> None:
        """The receiving level unlocks an accepted report for a correction: back to "submitted"
        (still received, reviewed again), the values as they stand until the unit resubmits."""
        self.check_reopen()
        self.status = SUBMITTED
        self.review_comment = comment


STATUS_VI = {DRAFT: "bản nháp", SUBMITTED: "đã gửi", ACCEPTED: "đã tiếp nhận", RETURNED: "bị trả lại"}


def same_values(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """Equal contents, as stored (JSON): 3 and 3.0 are the same figure."""
    def norm(v: Any) -> Any:
        return float(v) if isinstance(v, int | float) and not isinstance(v, bool) else v
    return {k: norm(v) for k, v in a.items()} == {k: norm(v) for k, v in b.items()}


@dataclass(frozen=True)
class ReportRevision:
    """One submitted revision of a report, kept for good: the values, who and when."""

    report_id: str
    revision: int
    values: dict[str, Any]
    submitted_at: datetime
    submitted_by: str | None
    on_time: bool | None
    form_id: str | None = None
    form_version: int | None = None


@dataclass(frozen=True, slots=True)
class ReviewEntry:
    """One step of a report's review history: accepted, returned or reopened, by whom, when."""

    action: str
    revision: int
    by_unit_id: str | None
    actor_id: str | None
    comment: str | None
    at: datetime


@dataclass(frozen=True, slots=True)
class Link:
    """One unit of a report's chain up the hierarchy on a day (depth 0: the unit itself, 1: the
    level that receives its report, …)."""

    unit_id: str
    parent_id: str | None
    depth: int
    kind: str
    name: str
    closed_on: date | None = None
    merged_into: str | None = None


@dataclass(frozen=True, slots=True)
class Standing:
    """What one read tells of a unit and a requirement (the submission path's first read): the
    requirement (None when reports does not know it) and the unit's report (None when none yet)."""

    requirement: Requirement | None
    report: Report | None


@dataclass(frozen=True, slots=True)
class Department:
    """A department directly under a unit (e.g. Ban Tuyên giáo – Nữ công of a provincial federation)."""

    unit_id: str
    name: str
    code: str


@dataclass(frozen=True, slots=True)
class ExportPart:
    """A stored file of a consolidation with one chunk of its content."""

    export_id: str
    consolidation_id: str
    requirement_id: str
    unit_id: str
    name: str
    media_type: str
    size: int
    sha256: str
    created_at: datetime
    chunk: bytes


def default_due_date(period: str) -> date | None:
    """Free-form reports (a requirement reports does not know): a yearly period is due 30/11, the
    annual results report of the seed plan; other periods have no due date."""
    if len(period) == 4:
        return date(int(period), 11, 30)
    return None


def is_on_time(at: datetime, due: date | None) -> bool:
    # `at` is already Asia/Ho_Chi_Minh (the shared clock): the local calendar day is what counts.
    return due is None or local_day(at) <= due
