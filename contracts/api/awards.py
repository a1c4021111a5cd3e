"""Requests served by the awards service: award rounds (đợt khen thưởng), nominations and their
review up the hierarchy, council results, decisions, exemplary models (điển hình tiên tiến) and
award history.

Who asks comes from the bearer token of the request (the `Authorization` header), never from the
body; access follows the one policy of `runtime/access.py`, judged on awards' own projection of the
directory. Dates are
Asia/Ho_Chi_Minh calendar days. Reasons and labels are Vietnamese text."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import AwareDatetime, Field

from contracts.api.common import Page
from contracts.spec import EndpointSpec
from contracts.types import Date, Id, LongText, Model, NomineeKind, Period, Rating, Text, UnitKind

Quota = Annotated[int, Field(ge=0, le=100_000)]
Year = Annotated[int, Field(ge=2000, le=2100)]
Achievements = Annotated[LongText, Field(min_length=1)]


class RoundStatus(StrEnum):
    UPCOMING = "upcoming"  # before the window: nominations not yet taken
    OPEN = "open"  # inside the window: nominations taken
    CLOSED = "closed"  # after the window: review and decisions only


class NominationStatus(StrEnum):
    SUBMITTED = "submitted"  # waiting at an intermediate level for its endorsement (chờ cấp trên xét, trình)
    UNDER_REVIEW = "under_review"  # at the issuing level, for its council (chờ Hội đồng xét)
    APPROVED = "approved"  # the council approved the form asked for
    ESCALATED = "escalated"  # the council proposes a higher form
    REJECTED = "rejected"  # the council did not approve
    AWARDED = "awarded"  # named in a decision
    WITHDRAWN = "withdrawn"  # withdrawn by the nominating unit
    RETURNED = "returned"  # not endorsed by an intermediate level


class CouncilResult(StrEnum):
    APPROVED = "approved"
    REJECTED = "rejected"
    ESCALATED = "escalated"


# --- eligibility -----------------------------------------------------------------------------

class GetEligibility(Model):
    """A unit's standing for a reporting period: its report submitted on time and not returned
    (and, with `require_accepted`, accepted by the receiving level)."""

    unit_id: Id
    period: Period
    require_accepted: bool = Field(default=False, description="count only reports the receiving level accepted")
    requirement_id: Id | None = Field(default=None, description="count only reports of this requirement")


class Eligibility(Model):
    unit_id: Id
    period: Period
    eligible: bool
    reasons: list[str]


class CheckEligibility(Model):
    """Whether a collective (unit) or individual (person) meets a round's criteria now."""

    round_id: Id
    nominee_kind: NomineeKind
    nominee_id: Id


class NomineeEligibility(Model):
    round_id: Id
    nominee_kind: NomineeKind
    nominee_id: Id
    report_period: Period
    eligible: bool
    reasons: list[str]


# --- award forms -----------------------------------------------------------------------------

class ListAwardForms(Model):
    nominee_kind: NomineeKind | None = None


class AwardForm(Model):
    """A form of award of the catalogue (Bằng khen, Giấy khen, Biểu dương…), ranked: a higher
    rank is a higher form."""

    code: Id
    name: Text
    rank: int
    nominee_kinds: list[NomineeKind]
    granted_by: list[UnitKind] = Field(description="kinds of unit whose level may grant it")


class AwardFormList(Model):
    items: list[AwardForm]


# --- rounds ----------------------------------------------------------------------------------

class QuotaSetting(Model):
    unit_id: Id
    quota: Quota = Field(description="nominations the unit (with its subtree) may send up in the round")


class OpenRound(Model):
    round_id: Id | None = Field(default=None, description="chosen by the caller for idempotent retries; minted when absent")
    name: Text
    issuer_unit_id: Id
    level: Text | None = Field(default=None, description="defaults from the issuing unit's kind (Cấp tỉnh…)")
    opens_on: Date
    closes_on: Date
    anchor_on: Date | None = Field(default=None, description="the focal day, e.g. 19/5")
    report_period: Period | None = Field(
        default=None, description="the reporting period whose report counts; defaults to the year before opens_on "
                                  "(the same year for a round opening in December)")
    require_report_accepted: bool = True
    requirement_id: Id | None = None
    min_rating: Rating = Field(default=Rating.GOOD, description="lowest self-assessment of the individual plan")
    collective_categories: list[Text] = Field(default_factory=list, max_length=50)
    individual_categories: list[Text] = Field(default_factory=list, max_length=50)
    forms: list[Id] = Field(default_factory=list, max_length=50,
                            description="codes of the catalogue; defaults to the forms the issuing level may grant")
    quotas: list[QuotaSetting] = Field(default_factory=list, min_length=0, max_length=500,
                                       description="more in further set_round_quotas requests")


class SetRoundQuotas(Model):
    round_id: Id
    quotas: list[QuotaSetting] = Field(min_length=0, max_length=500, description="merged into the round's quotas")
    replace: bool = Field(default=False, description="drop quotas of units not listed")


class GetRound(Model):
    round_id: Id


class QuotaUse(Model):
    unit_id: Id
    quota: int
    used: int = Field(description="nominations through this unit holding a place (not withdrawn, returned or rejected)")
    awarded: int


class RoundReply(Model):
    round_id: Id
    name: Text
    level: Text
    issuer_unit_id: Id
    year: int
    opens_on: Date
    closes_on: Date
    anchor_on: Date | None
    status: RoundStatus
    report_period: Period
    require_report_accepted: bool
    requirement_id: Id | None
    min_rating: Rating
    collective_categories: list[Text]
    individual_categories: list[Text]
    forms: list[AwardForm]
    quotas: list[QuotaUse]
    nominations: dict[str, int] = Field(default_factory=dict, description="count by status")
    source_plan_id: Id | None = None
    source_item_id: Id | None = None
    duplicate: bool = False


class ListRounds(Model):
    issuer_unit_id: Id | None = None
    year: Year | None = None
    status: RoundStatus | None = None
    page: Page = Field(default_factory=Page)


class RoundSummary(Model):
    round_id: Id
    name: Text
    level: Text
    issuer_unit_id: Id
    year: int
    opens_on: Date
    closes_on: Date
    anchor_on: Date | None
    status: RoundStatus
    source_plan_id: Id | None = None
    source_item_id: Id | None = None


class RoundPage(Model):
    items: list[RoundSummary]
    next_cursor: str | None = None


# --- nominations -----------------------------------------------------------------------------

class SubmitNomination(Model):
    nomination_id: Id | None = Field(default=None, description="chosen by the caller for idempotent retries")
    round_id: Id
    by_unit_id: Id = Field(description="the nominating unit; the nominee is in its subtree")
    nominee_kind: NomineeKind
    nominee_id: Id = Field(description="a unit id (collective) or a person id (individual)")
    category: Text | None = None
    form: Id = Field(description="code of the award form asked for")
    achievements: Achievements


class WithdrawNomination(Model):
    nomination_id: Id
    reason: LongText | None = None


class ForwardNominations(Model):
    """An intermediate level endorses nominations waiting at it and sends them up (or returns them)."""

    unit_id: Id = Field(description="the level the nominations wait at")
    nomination_ids: list[Id] = Field(min_length=1, max_length=500)
    endorse: bool = True
    note: LongText | None = None


class RecordCouncilResult(Model):
    nomination_id: Id
    result: CouncilResult
    form: Id | None = Field(default=None, description="the higher form, when escalated")
    note: LongText | None = None
    decided_on: Date | None = Field(default=None, description="defaults to today")
    to_round_id: Id | None = Field(
        default=None, description="when escalated to a form the level above grants: that level's round to send it "
                                  "to (defaults to its one round offering the form that takes nominations now)")


class ListNominations(Model):
    round_id: Id
    unit_id: Id = Field(description="nominations through this unit (all of them for the issuing unit)")
    status: NominationStatus | None = None
    awaiting_only: bool = Field(default=False, description="only those waiting at unit_id")
    page: Page = Field(default_factory=Page)


class TrailStep(Model):
    at: AwareDatetime
    action: str
    actor_id: Id | None = None
    unit_id: Id | None = None
    note: str | None = None


class NominationReply(Model):
    nomination_id: Id
    round_id: Id
    by_unit_id: Id
    nominee_kind: NomineeKind
    nominee_id: Id
    nominee_name: str
    nominee_unit_id: Id
    category: str | None
    form: Id
    form_name: str
    achievements: str
    status: NominationStatus
    status_label: str
    at_unit_id: Id | None
    eligible: bool = Field(description="now, from what awards knows at this moment")
    reasons: list[str]
    council_result: CouncilResult | None = None
    council_form: Id | None = None
    council_note: str | None = None
    decided_on: Date | None = None
    decision_id: Id | None = None
    award_id: Id | None = None
    submitted_at: AwareDatetime
    trail: list[TrailStep] = Field(default_factory=list)
    escalated_from: Id | None = Field(default=None, description="the lower council's nomination this one carries up")
    escalated_to: Id | None = Field(default=None, description="the nomination this escalation made at the higher "
                                                              "level's council")
    duplicate: bool = False


class NominationPage(Model):
    items: list[NominationReply]
    next_cursor: str | None = None


# --- decisions and awards --------------------------------------------------------------------

class IssueDecision(Model):
    decision_id: Id | None = Field(default=None, description="chosen by the caller for idempotent retries")
    round_id: Id
    number: Text = Field(description="số quyết định, e.g. 125/QĐ-LĐLĐ")
    decision_date: Date
    signer: Text
    nomination_ids: list[Id] = Field(min_length=1, max_length=2000)


class AwardItem(Model):
    award_id: Id
    round_id: Id
    round_name: str
    decision_id: Id
    decision_number: str
    decision_date: Date
    signer: str
    nominee_kind: NomineeKind
    nominee_id: Id
    nominee_name: str
    unit_id: Id = Field(description="the unit awarded, or the unit of the person awarded, at the time")
    form: Id
    form_name: str
    category: str | None
    year: int


class DecisionReply(Model):
    decision_id: Id
    round_id: Id
    number: str
    decision_date: Date
    signer: str
    awards: list[AwardItem]
    duplicate: bool = False


# --- exemplary models ------------------------------------------------------------------------

class RegisterExemplaryModel(Model):
    model_id: Id | None = Field(default=None, description="chosen by the caller for idempotent retries")
    unit_id: Id
    person_id: Id | None = None
    title: Text
    story: Achievements
    year: Year
    award_id: Id | None = None


class ExemplaryModelReply(Model):
    model_id: Id
    unit_id: Id
    unit_name: str | None
    person_id: Id | None
    person_name: str | None
    title: str
    story: str
    year: int
    award_id: Id | None
    registered_at: AwareDatetime
    duplicate: bool = False


class ListExemplaryModels(Model):
    unit_id: Id | None = Field(default=None, description="this unit, its subtree and the units merged into them")
    person_id: Id | None = None
    year: Year | None = None
    from_year: Year | None = None
    to_year: Year | None = None
    page: Page = Field(default_factory=Page)


class ExemplaryModelPage(Model):
    items: list[ExemplaryModelReply]
    next_cursor: str | None = None


# --- history ---------------------------------------------------------------------------------

class GetAwardHistory(Model):
    """Awards over the years of one unit (with the units merged into it) or one person: give
    exactly one of unit_id and person_id."""

    unit_id: Id | None = None
    person_id: Id | None = None
    nominee_kind: NomineeKind | None = Field(default=None, description="for a unit: only collective or individual awards")
    from_year: Year | None = None
    to_year: Year | None = None


class AwardHistory(Model):
    unit_id: Id | None
    person_id: Id | None
    successor_id: Id | None = Field(default=None, description="where a merged unit's history continues")
    includes_units: list[Id] = Field(default_factory=list, description="the unit and those merged into it")
    awards: list[AwardItem]
    exemplary_models: list[ExemplaryModelReply]


ENDPOINTS = (
    EndpointSpec("awards", "get_eligibility", GetEligibility, Eligibility, "Eligibility of a unit for awards in a period."),
    EndpointSpec("awards", "check_eligibility", CheckEligibility, NomineeEligibility,
                 "Whether a collective or individual meets a round's criteria now, with the reasons when not."),
    EndpointSpec("awards", "list_award_forms", ListAwardForms, AwardFormList, "The catalogue of award forms."),
    EndpointSpec("awards", "open_round", OpenRound, RoundReply, "Open an award round (đợt khen thưởng)."),
    EndpointSpec("awards", "set_round_quotas", SetRoundQuotas, RoundReply, "Set the quotas of units in a round."),
    EndpointSpec("awards", "get_round", GetRound, RoundReply, "A round with its quotas and counts."),
    EndpointSpec("awards", "list_rounds", ListRounds, RoundPage, "Rounds, newest year first."),
    EndpointSpec("awards", "submit_nomination", SubmitNomination, NominationReply,
                 "A unit nominates a collective or individual of its subtree."),
    EndpointSpec("awards", "withdraw_nomination", WithdrawNomination, NominationReply,
                 "The nominating unit withdraws a nomination before the council's result."),
    EndpointSpec("awards", "forward_nominations", ForwardNominations, NominationPage,
                 "An intermediate level endorses nominations and sends them up, or returns them."),
    EndpointSpec("awards", "list_nominations", ListNominations, NominationPage,
                 "Nominations of a round through a unit, with their eligibility now."),
    EndpointSpec("awards", "record_council_result", RecordCouncilResult, NominationReply,
                 "The council of the issuing level records its result on a nomination."),
    EndpointSpec("awards", "issue_decision", IssueDecision, DecisionReply,
                 "Issue a decision (number, date, signer, awardees): one award per awardee."),
    EndpointSpec("awards", "register_exemplary_model", RegisterExemplaryModel, ExemplaryModelReply,
                 "Record an exemplary model (điển hình tiên tiến) with its story."),
    EndpointSpec("awards", "list_exemplary_models", ListExemplaryModels, ExemplaryModelPage,
                 "Published exemplary models, by unit (subtree), person and year."),
    EndpointSpec("awards", "get_award_history", GetAwardHistory, AwardHistory,
                 "Award history of a unit (surviving merges) or of a person."),
)
CONSUMES: tuple[str, ...] = (
    "vn.congdoan.reports.report.submitted.v1",
    "vn.congdoan.reports.report.returned.v1",
    "vn.congdoan.reports.report.accepted.v1",
    "vn.congdoan.plans.unit.registered.v1",
    "vn.congdoan.plans.unit.moved.v1",
    "vn.congdoan.plans.unit.closed.v1",
    "vn.congdoan.plans.person.registered.v1",
    "vn.congdoan.plans.person.updated.v1",
    "vn.congdoan.plans.individual_plan.assessed.v1",
    "vn.congdoan.plans.plan.issued.v1",
    "vn.congdoan.plans.plan.closed.v1",
)
