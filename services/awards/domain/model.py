"""Award rounds, nominations and their review, decisions, exemplary models. Plain Python.

The shape follows Vietnamese reward software (phần mềm thi đua – khen thưởng): a round
(đợt khen thưởng) is opened by an issuing unit; a unit nominates collectives and individuals of its
subtree (lập hồ sơ đề nghị); each intermediate level endorses and sends them up (xét, trình cấp
trên) or returns them; the council of the issuing level (Hội đồng Thi đua – Khen thưởng) records
its result — approved, rejected, or escalated to a higher form (đề nghị hình thức cao hơn); a
decision (quyết định: number, date, signer, awardees) grants the awards.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from runtime import errors
from services.awards.domain.eligibility import UnitStanding, vn_date

__all__ = ["UnitStanding", "DomainError", "Invalid", "Conflict", "NotAllowed", "AwardForm", "Round", "Nomination",
           "Decision", "Award", "RoundSource", "ExemplaryModel", "STATUS_LABELS", "level_for_kind", "default_report_period",
           "check_quotas", "new_round"]


class Invalid(errors.Invalid):
    """The command contradicts itself or the round's rules."""


class Conflict(errors.Conflict):
    """The command conflicts with the current state (duplicate, quota, wrong status)."""


class NotAllowed(errors.Forbidden):
    """The actor may not do this."""


DomainError = errors.DomainError


LEVEL_BY_KIND = {
    "national_federation": "Cấp Tổng Liên đoàn",
    "provincial_federation": "Cấp tỉnh",
    "upper_level_union": "Cấp trên cơ sở",
    "grassroots_union": "Cấp cơ sở",
    "department": "Cấp tỉnh",
    "affiliated_unit": "Cấp tỉnh",
}


def level_for_kind(kind: str | None) -> str:
    return LEVEL_BY_KIND.get(kind or "", "Cấp đơn vị")


def default_report_period(opens_on: date) -> str:
    """The annual report that counts: last year's for a round in the year (the May round counts
    the report sent before 30/11 of the year before); this year's for a year-end round (December)."""
    return str(opens_on.year if opens_on.month == 12 else opens_on.year - 1)


# --- award forms ---------------------------------------------------------------------------

@dataclass(frozen=True)
class AwardForm:
    code: str
    name: str
    rank: int
    nominee_kinds: tuple[str, ...]
    granted_by: tuple[str, ...]
    active: bool = True

    def allows(self, nominee_kind: str) -> bool:
        return nominee_kind in self.nominee_kinds


# --- rounds --------------------------------------------------------------------------------

@dataclass
class Round:
    round_id: str
    name: str
    level: str
    issuer_unit_id: str
    year: int
    opens_on: date
    closes_on: date
    anchor_on: date | None
    report_period: str
    require_report_accepted: bool
    requirement_id: str | None
    min_rating: str
    collective_categories: list[str]
    individual_categories: list[str]
    forms: list[str]
    quotas: dict[str, int]
    opened_at: datetime
    opened_by: str | None = None
    source_plan_id: str | None = None
    source_item_id: str | None = None

    def status(self, today: date) -> str:
        if today < self.opens_on:
            return "upcoming"
        if today > self.closes_on:
            return "closed"
        return "open"

    @property
    def report_year(self) -> int:
        return int(self.report_period[:4])

    def check_taking_nominations(self, today: date) -> None:
        window = f"{vn_date(self.opens_on)} – {vn_date(self.closes_on)}"
        if today < self.opens_on:
            raise Conflict(f"Đợt khen thưởng “{self.name}” chưa bắt đầu nhận hồ sơ đề nghị (thời gian: {window}).",
                           "round_id")
        if today > self.closes_on:
            raise Conflict(f"Đợt khen thưởng “{self.name}” đã hết thời gian nhận hồ sơ đề nghị (thời gian: {window}).",
                           "round_id")

    def categories_for(self, nominee_kind: str) -> list[str]:
        return self.collective_categories if nominee_kind == "collective" else self.individual_categories

    def check_category(self, nominee_kind: str, category: str | None) -> None:
        allowed = self.categories_for(nominee_kind)
        who = "tập thể" if nominee_kind == "collective" else "cá nhân"
        if allowed and category is None:
            raise Invalid(f"Cần chọn danh hiệu/nội dung đề nghị cho {who}: " + "; ".join(allowed) + ".", "category")
        if allowed and category not in allowed:
            raise Invalid(f"“{category}” không thuộc các nội dung khen thưởng {who} của đợt: " + "; ".join(allowed) + ".",
                          "category")

    def check_form(self, nominee_kind: str, form: AwardForm | None, code: str, field_name: str = "form") -> AwardForm:
        if form is None or not form.active:
            raise Invalid(f"Không có hình thức khen thưởng mã “{code}” trong danh mục.", field_name)
        if form.code not in self.forms:
            raise Invalid(f"Hình thức “{form.name}” không thuộc các hình thức của đợt khen thưởng.", field_name)
        if not form.allows(nominee_kind):
            who = "tập thể" if nominee_kind == "collective" else "cá nhân"
            raise Invalid(f"Hình thức “{form.name}” không áp dụng cho {who}.", field_name)
        return form


def new_round(*, round_id: str, name: str, level: str, issuer_unit_id: str, opens_on: date, closes_on: date,
              anchor_on: date | None, report_period: str | None, require_report_accepted: bool,
              requirement_id: str | None, min_rating: str, collective_categories: list[str],
              individual_categories: list[str], forms: list[str], quotas: dict[str, int], opened_at: datetime,
              opened_by: str | None, source_plan_id: str | None = None, source_item_id: str | None = None) -> Round:
    if closes_on < opens_on:
        raise Invalid(f"Ngày kết thúc ({vn_date(closes_on)}) trước ngày bắt đầu ({vn_date(opens_on)}).", "closes_on")
    if anchor_on is not None and not opens_on <= anchor_on <= closes_on:
        raise Invalid(f"Ngày trọng tâm {vn_date(anchor_on)} nằm ngoài thời gian của đợt.", "anchor_on")
    if not forms:
        raise Invalid("Đợt khen thưởng cần ít nhất một hình thức khen thưởng.", "forms")
    return Round(round_id=round_id, name=name, level=level, issuer_unit_id=issuer_unit_id, year=opens_on.year,
                 opens_on=opens_on, closes_on=closes_on, anchor_on=anchor_on,
                 report_period=report_period or default_report_period(opens_on),
                 require_report_accepted=require_report_accepted, requirement_id=requirement_id,
                 min_rating=min_rating, collective_categories=list(dict.fromkeys(collective_categories)),
                 individual_categories=list(dict.fromkeys(individual_categories)), forms=list(dict.fromkeys(forms)),
                 quotas=dict(quotas), opened_at=opened_at, opened_by=opened_by, source_plan_id=source_plan_id,
                 source_item_id=source_item_id)


def check_quotas(quotas: dict[str, int], used: dict[str, int], adding: dict[str, int], names: dict[str, str],
                 what: str = "hồ sơ đề nghị") -> None:
    """Refuse when `used + adding` would pass a unit's quota. `adding` counts, per unit of the
    routes, what the command adds."""
    for unit_id, n in adding.items():
        if unit_id not in quotas or n == 0:
            continue
        if used.get(unit_id, 0) + n > quotas[unit_id]:
            raise Conflict(f"Vượt chỉ tiêu khen thưởng của {names.get(unit_id, unit_id)}: chỉ tiêu {quotas[unit_id]}, "
                           f"đã có {used.get(unit_id, 0)} {what}, thêm {n}.", f"quotas.{unit_id}")


# --- nominations ---------------------------------------------------------------------------

STATUS_LABELS = {
    "submitted": "Chờ cấp trên xét, trình",
    "under_review": "Chờ Hội đồng Thi đua – Khen thưởng xét",
    "approved": "Hội đồng đồng ý",
    "escalated": "Hội đồng đề nghị hình thức cao hơn",
    "rejected": "Hội đồng không đồng ý",
    "awarded": "Đã có quyết định khen thưởng",
    "withdrawn": "Đơn vị đã rút hồ sơ",
    "returned": "Cấp trên trả lại, không trình",
}
# Statuses in which the nominee's place in the round is taken (one nomination per nominee).
HOLDS_PLACE = {"submitted", "under_review", "approved", "escalated", "rejected", "awarded"}
# Statuses that count toward the quotas of the units on the nomination's route.
COUNTS_TO_QUOTA = {"submitted", "under_review", "approved", "escalated", "awarded"}
COUNCIL_MAY_ACT = {"under_review", "approved", "escalated", "rejected"}


@dataclass
class Nomination:
    nomination_id: str
    round_id: str
    by_unit_id: str
    nominee_kind: str
    nominee_id: str
    nominee_name: str
    nominee_unit_id: str
    category: str | None
    form: str
    achievements: str
    status: str
    at_unit_id: str | None
    route: list[str]  # the nominating unit and its ancestors below the issuing unit (quota holders)
    eligible_at_submission: bool
    reasons_at_submission: list[str]
    submitted_at: datetime
    submitted_by: str
    council_result: str | None = None
    council_form: str | None = None
    council_note: str | None = None
    decided_on: date | None = None
    decided_by: str | None = None
    decision_id: str | None = None
    award_id: str | None = None
    trail: list[dict[str, Any]] = field(default_factory=list)
    escalated_from: str | None = None  # the lower council's nomination this one carries up
    escalated_to: str | None = None  # the nomination this one made at the higher level's council

    @property
    def place_key(self) -> str | None:
        """Unique while the nominee's place in the round is taken."""
        if self.status not in HOLDS_PLACE:
            return None
        return f"{self.round_id}|{self.nominee_kind}|{self.nominee_id}"

    @property
    def final_form(self) -> str:
        return self.council_form or self.form

    def step(self, at: datetime, action: str, actor_id: str | None, unit_id: str | None, note: str | None) -> None:
        self.trail.append({"at": at.isoformat(), "action": action, "actor_id": actor_id, "unit_id": unit_id,
                           "note": note})

    def same_request(self, by_unit_id: str, nominee_kind: str, nominee_id: str, form: str, category: str | None,
                     achievements: str) -> bool:
        return (self.by_unit_id, self.nominee_kind, self.nominee_id, self.form, self.category, self.achievements) == (
            by_unit_id, nominee_kind, nominee_id, form, category, achievements)

    def forward(self, unit_id: str, parent_id: str | None, issuer_unit_id: str, actor_id: str, at: datetime,
                note: str | None) -> None:
        self._must_wait_at(unit_id)
        if parent_id is None:
            raise Conflict(f"Đơn vị {unit_id} không còn thuộc phạm vi của đơn vị ban hành đợt khen thưởng.",
                           "unit_id")
        self.at_unit_id = parent_id
        self.status = "under_review" if parent_id == issuer_unit_id else "submitted"
        self.step(at, "forwarded", actor_id, unit_id, note)

    def return_(self, unit_id: str, actor_id: str, at: datetime, note: str | None) -> None:
        self._must_wait_at(unit_id)
        self.status = "returned"
        self.at_unit_id = None
        self.step(at, "returned", actor_id, unit_id, note)

    def _must_wait_at(self, unit_id: str) -> None:
        if self.status != "submitted" or self.at_unit_id != unit_id:
            raise Conflict(f"Hồ sơ {self.nomination_id} không chờ {unit_id} xét, trình "
                           f"(trạng thái: {STATUS_LABELS[self.status]}).", "nomination_ids")

    def withdraw(self, actor_id: str, at: datetime, reason: str | None) -> None:
        if self.status not in ("submitted", "under_review"):
            raise Conflict(f"Không thể rút hồ sơ {self.nomination_id}: {STATUS_LABELS[self.status]}.", "nomination_id")
        self.status = "withdrawn"
        self.at_unit_id = None
        self.step(at, "withdrawn", actor_id, self.by_unit_id, reason)

    def record_council(self, result: str, *, form: AwardForm | None, current: AwardForm, note: str | None,
                       decided_on: date, actor_id: str, unit_id: str, at: datetime, reasons: list[str]) -> bool:
        """Record the council's result. Returns False when it is what is already recorded."""
        if self.status not in COUNCIL_MAY_ACT:
            if self.status == "submitted":
                raise Conflict(f"Hồ sơ {self.nomination_id} chưa được cấp trên trình lên Hội đồng "
                               f"(đang chờ {self.at_unit_id}).", "nomination_id")
            raise Conflict(f"Hội đồng không thể xét hồ sơ {self.nomination_id}: {STATUS_LABELS[self.status]}.",
                           "nomination_id")
        council_form: str | None
        if result == "rejected":
            council_form = None
        else:
            if reasons:
                raise Conflict(f"Đối tượng chưa đủ điều kiện khen thưởng: {'; '.join(reasons)}.", "result")
            if result == "escalated":
                if form is None:
                    raise Invalid("Đề nghị hình thức cao hơn cần ghi hình thức đề nghị.", "form")
                if form.rank <= current.rank:
                    raise Invalid(f"“{form.name}” không cao hơn hình thức đã đề nghị “{current.name}”.", "form")
                if not form.allows(self.nominee_kind):
                    raise Invalid(f"Hình thức “{form.name}” không áp dụng cho đối tượng này.", "form")
                council_form = form.code
            else:
                council_form = self.form
        if (self.council_result, self.council_form, self.council_note) == (result, council_form, note) \
                and self.status == result:
            return False
        if self.escalated_to is not None:
            raise Conflict(f"Hồ sơ {self.nomination_id} đã được trình lên Hội đồng cấp trên (hồ sơ "
                           f"{self.escalated_to}); kết quả xét của cấp trên là kết quả cuối cùng.", "nomination_id")
        self.council_result = result
        self.council_form = council_form
        self.council_note = note
        self.decided_on = decided_on
        self.decided_by = actor_id
        self.status = result
        self.step(at, f"council_{result}", actor_id, unit_id, note)
        return True

    def send_up(self, to_nomination_id: str, to_unit_name: str, actor_id: str, unit_id: str, at: datetime) -> None:
        """The escalation reached the higher level's council: the nomination made there."""
        self.escalated_to = to_nomination_id
        self.step(at, "escalated_up", actor_id, unit_id, f"Trình Hội đồng Thi đua – Khen thưởng của {to_unit_name}")

    def grant(self, decision_id: str, award_id: str, actor_id: str, unit_id: str, at: datetime,
              form: AwardForm | None = None, issuer_kind: str | None = None) -> None:
        if self.status not in ("approved", "escalated"):
            raise Conflict(f"Hồ sơ {self.nomination_id} chưa được Hội đồng đồng ý "
                           f"(trạng thái: {STATUS_LABELS[self.status]}).", "nomination_ids")
        if self.status == "escalated" and form is not None and issuer_kind is not None \
                and issuer_kind not in form.granted_by:
            where = "đã được trình lên Hội đồng cấp trên" if self.escalated_to else "được đề nghị lên cấp trên"
            raise Conflict(f"Hồ sơ {self.nomination_id} ({self.nominee_name}) {where}: “{form.name}” do cấp trên "
                           f"quyết định tặng, không thuộc quyết định của cấp này.", "nomination_ids")
        self.status = "awarded"
        self.decision_id = decision_id
        self.award_id = award_id
        self.step(at, "awarded", actor_id, unit_id, None)


# --- decisions and exemplary models --------------------------------------------------------

@dataclass
class Decision:
    decision_id: str
    round_id: str
    issuer_unit_id: str
    number: str
    decision_date: date
    signer: str
    nomination_ids: list[str]
    issued_at: datetime
    issued_by: str

    def same_request(self, round_id: str, number: str, decision_date: date, signer: str,
                     nomination_ids: list[str]) -> bool:
        return (self.round_id, self.number, self.decision_date, self.signer, sorted(self.nomination_ids)) == (
            round_id, number, decision_date, signer, sorted(nomination_ids))


@dataclass(frozen=True)
class Award:
    """One award a decision grants: the nominee, the form, and the decision's number, date, signer."""

    award_id: str
    decision_id: str
    round_id: str
    round_name: str
    nomination_id: str
    nominee_kind: str
    nominee_id: str
    nominee_name: str
    unit_id: str
    form: str
    form_name: str
    category: str | None
    decision_number: str
    decision_date: date
    signer: str
    year: int


@dataclass(frozen=True)
class RoundSource:
    """A plan item whose output is an award round: what opens one round a year (its timing)."""

    plan_id: str
    item_id: str
    plan_revision: int
    plan_number: str
    issuer_unit_id: str
    issued_on: date
    content: str
    timing: dict[str, Any]
    active: bool = True


@dataclass
class ExemplaryModel:
    model_id: str
    unit_id: str
    person_id: str | None
    title: str
    story: str
    year: int
    award_id: str | None
    registered_at: datetime
    registered_by: str

    def same_request(self, unit_id: str, person_id: str | None, title: str, story: str, year: int,
                     award_id: str | None) -> bool:
        return (self.unit_id, self.person_id, self.title, self.story, self.year, self.award_id) == (
            unit_id, person_id, title, story, year, award_id)
