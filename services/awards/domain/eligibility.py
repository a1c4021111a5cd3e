"""Eligibility for awards, from the facts awards has heard of other services. Plain Python.

Facts, not states: every report event sets the fields of one (report, revision) record, every
assessment is kept with a version key, and eligibility is computed from the facts each time it is
asked for. So the answer is the same whatever order the events came in (accepted before submitted,
an older revision after a newer one, an assessment before the person is known).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

RATING_ORDER = {"not_done": 0, "done": 1, "good": 2, "excellent": 3}
RATING_LABELS = {
    "excellent": "Hoàn thành xuất sắc nhiệm vụ",
    "good": "Hoàn thành tốt nhiệm vụ",
    "done": "Hoàn thành nhiệm vụ",
    "not_done": "Không hoàn thành nhiệm vụ",
}
_ROMAN = {"1": "I", "2": "II", "3": "III", "4": "IV"}


def vn_date(d: date) -> str:
    """dd/mm/yyyy, as dates are shown in Vietnam."""
    return d.strftime("%d/%m/%Y")


def period_label(period: str) -> str:
    """'2026' → '2026', '2026-Q4' → 'quý IV/2026', '2026-05' → 'tháng 05/2026'."""
    if len(period) == 7 and period[5] == "Q":
        return f"quý {_ROMAN.get(period[6], period[6])}/{period[:4]}"
    if len(period) == 7:
        return f"tháng {period[5:]}/{period[:4]}"
    return period


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


# --- reports ---------------------------------------------------------------------------------

@dataclass
class ReportRevision:
    """What is known of one revision of one report. Each event fills in its own fields."""

    revision: int
    submitted_at: datetime | None = None
    submitted_on_time: bool | None = None
    returned_at: datetime | None = None
    accepted_at: datetime | None = None
    accepted_on_time: bool | None = None

    @property
    def state(self) -> str:
        """accepted, returned or submitted (awaiting review). A revision both returned and
        accepted is in the state of the later of the two."""
        if self.accepted_at is not None and (self.returned_at is None or self.accepted_at >= self.returned_at):
            return "accepted"
        if self.returned_at is not None:
            return "returned"
        return "submitted"

    @property
    def on_time(self) -> bool | None:
        # The receiving level's word (on acceptance) is final; the submission's is provisional.
        return self.accepted_on_time if self.accepted_on_time is not None else self.submitted_on_time


@dataclass
class ReportFacts:
    report_id: str
    requirement_id: str
    unit_id: str
    period: str
    revisions: dict[int, ReportRevision] = field(default_factory=dict)

    def rev(self, revision: int) -> ReportRevision:
        if revision not in self.revisions:
            self.revisions[revision] = ReportRevision(revision)
        return self.revisions[revision]

    def latest(self) -> ReportRevision | None:
        return self.revisions[max(self.revisions)] if self.revisions else None

    def last_news(self) -> datetime:
        """The time of the latest thing heard of this report (any revision, any event)."""
        times = [t for r in self.revisions.values() for t in (r.submitted_at, r.returned_at, r.accepted_at)
                 if t is not None]
        return max(times) if times else _EPOCH


@dataclass
class UnitStanding:
    """awards' view of one unit's reports for one period."""

    unit_id: str
    period: str
    reports: dict[str, ReportFacts] = field(default_factory=dict)

    def _facts(self, report_id: str, requirement_id: str) -> ReportFacts:
        if report_id not in self.reports:
            self.reports[report_id] = ReportFacts(report_id, requirement_id, self.unit_id, self.period)
        return self.reports[report_id]

    def record_submitted(self, report_id: str, requirement_id: str, revision: int, on_time: bool,
                         at: datetime | None = None) -> None:
        r = self._facts(report_id, requirement_id).rev(revision)
        if at is None or r.submitted_at is None or at >= r.submitted_at:  # the later word wins
            r.submitted_on_time = on_time
            r.submitted_at = at if at is not None else r.submitted_at

    def record_returned(self, report_id: str, requirement_id: str, revision: int, at: datetime) -> None:
        r = self._facts(report_id, requirement_id).rev(revision)
        if r.returned_at is None or at > r.returned_at:
            r.returned_at = at

    def record_accepted(self, report_id: str, requirement_id: str, revision: int, on_time: bool, at: datetime) -> None:
        r = self._facts(report_id, requirement_id).rev(revision)
        if r.accepted_at is None or at >= r.accepted_at:
            r.accepted_at = at
            r.accepted_on_time = on_time

    def reasons_not_eligible(self, require_accepted: bool = False, requirement_id: str | None = None) -> list[str]:
        label = period_label(self.period)
        reports = [f for f in self.reports.values() if f.revisions
                   and (requirement_id is None or f.requirement_id == requirement_id)]
        # One report counts per requirement: the one with the latest news (a unit that filed again
        # under a new report id is judged on that one).
        latest_per_requirement: dict[str, ReportFacts] = {}
        for f in reports:
            cur = latest_per_requirement.get(f.requirement_id)
            if cur is None or (f.last_news(), f.report_id) > (cur.last_news(), cur.report_id):
                latest_per_requirement[f.requirement_id] = f
        reports = list(latest_per_requirement.values())
        if not reports:
            return [f"Chưa gửi báo cáo kết quả kỳ {label}"]
        reasons: list[str] = []
        for facts in sorted(reports, key=lambda f: f.report_id):
            latest = facts.latest()
            assert latest is not None
            if latest.state == "returned":
                reasons.append(f"Báo cáo kết quả kỳ {label} đã bị trả lại để bổ sung, chưa được gửi lại")
                continue
            if latest.on_time is False:
                reasons.append(f"Báo cáo kết quả kỳ {label} gửi trễ hạn")
            if require_accepted and latest.state != "accepted":
                reasons.append(f"Báo cáo kết quả kỳ {label} chưa được cấp trên chấp nhận")
        return list(dict.fromkeys(reasons))


# --- individual plans ------------------------------------------------------------------------

@dataclass(frozen=True)
class Assessment:
    """The year-end self-assessment of one individual plan. `version` orders assessments of the
    same plan: (assessed_on, event time, event id) as one sortable string."""

    individual_plan_id: str
    person_id: str
    year: int
    rating: str
    assessed_on: date
    version: str


def assessment_version(assessed_on: date, event_time: datetime, event_id: str) -> str:
    return f"{assessed_on.isoformat()}|{event_time.astimezone(UTC).strftime('%Y-%m-%dT%H:%M:%S.%f')}|{event_id}"


def latest_assessment(assessments: list[Assessment], year: int) -> Assessment | None:
    of_year = [a for a in assessments if a.year == year]
    return max(of_year, key=lambda a: a.version) if of_year else None


def individual_reasons(person: Any | None, assessments: list[Assessment], year: int,
                       min_rating: str = "good") -> list[str]:
    """A person is eligible when active and their individual plan of `year` is self-assessed at
    `min_rating` or better."""
    reasons: list[str] = []
    if person is None:
        return ["Chưa có thông tin cá nhân trong danh bạ tổ chức"]
    if not person.active:
        reasons.append("Cá nhân không còn sinh hoạt công đoàn tại đơn vị")
    latest = latest_assessment(assessments, year)
    if latest is None:
        reasons.append(f"Chưa tự đánh giá kết quả thực hiện kế hoạch cá nhân năm {year}")
    elif RATING_ORDER.get(latest.rating, -1) < RATING_ORDER[min_rating]:
        reasons.append(f"Kế hoạch cá nhân năm {year} tự đánh giá ở mức “{RATING_LABELS.get(latest.rating, latest.rating)}”, "
                       f"chưa đạt mức “{RATING_LABELS[min_rating]}” trở lên")
    return reasons


# --- collectives -----------------------------------------------------------------------------

def closed_by(unit: Any, on: date | None) -> bool:
    """Closed (dissolved or merged) on ``on``: a closure dated later — announced for next June, say
    — changes nothing today. ``on`` None: any recorded closure counts."""
    return unit.closed_on is not None and (on is None or unit.closed_on <= on)


def collective_reasons(unit: Any | None, standing: UnitStanding, *, require_accepted: bool,
                       requirement_id: str | None, merged_into_name: str | None = None,
                       on: date | None = None) -> list[str]:
    """A unit is eligible when it is active on ``on`` (the day eligibility is judged) and its report
    for the period counts."""
    if unit is None:
        return ["Chưa có thông tin đơn vị trong danh bạ tổ chức"]
    reasons: list[str] = []
    if closed_by(unit, on):
        if unit.merged_into:
            reasons.append(f"Đơn vị đã sáp nhập vào {merged_into_name or unit.merged_into} từ ngày {vn_date(unit.closed_on)}")
        else:
            reasons.append(f"Đơn vị đã giải thể từ ngày {vn_date(unit.closed_on)}")
    reasons.extend(standing.reasons_not_eligible(require_accepted=require_accepted, requirement_id=requirement_id))
    return reasons
