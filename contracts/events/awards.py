"""Events produced by the awards service."""

from __future__ import annotations

from datetime import date

from pydantic import Field

from contracts.spec import ev
from contracts.types import Id, LongText, Model, NomineeKind, Period, Text


class RoundOpened(Model):
    round_id: Id
    name: Text
    level: Text
    issuer_unit_id: Id
    opens_on: date
    closes_on: date
    categories: list[Text] = Field(default_factory=list, max_length=50)
    forms: list[Text] = Field(default_factory=list, max_length=50)
    # Optional detail (added after v1 was first published; absent from older events):
    year: int | None = Field(default=None, ge=2000, le=2100)
    anchor_on: date | None = Field(default=None, description="the focal day of the window, e.g. 19/5")
    report_period: Period | None = Field(default=None, description="the reporting period whose report counts")
    collective_categories: list[Text] = Field(default_factory=list, max_length=50)
    individual_categories: list[Text] = Field(default_factory=list, max_length=50)
    form_codes: list[Id] = Field(default_factory=list, max_length=50)
    source_plan_id: Id | None = Field(default=None, description="the plan whose item called for the round")
    source_item_id: Id | None = None


class NominationSubmitted(Model):
    nomination_id: Id
    round_id: Id
    by_unit_id: Id
    nominee_kind: NomineeKind
    nominee_id: Id
    form: Text
    eligible: bool
    reasons: list[str] = Field(default_factory=list)
    # Optional detail:
    form_code: Id | None = None
    category: Text | None = None
    nominee_unit_id: Id | None = Field(default=None, description="the unit nominated, or the person's unit")


class NominationDecided(Model):
    nomination_id: Id
    round_id: Id
    nominee_kind: NomineeKind
    nominee_id: Id
    result: str = Field(pattern="^(approved|rejected|escalated)$")
    form: Text
    decided_on: date
    note: LongText | None = None
    # Optional detail:
    form_code: Id | None = None
    by_unit_id: Id | None = None
    to_round_id: Id | None = Field(default=None, description="escalated to the level above: the round it went to")
    to_nomination_id: Id | None = Field(default=None, description="escalated: the nomination made there")
    to_unit_id: Id | None = Field(default=None, description="escalated: the level whose council has it now")


class NominationForwarded(Model):
    """An intermediate level endorsed a nomination and sent it up: it now waits at `to_unit_id`
    (the next level, or the issuing level's council)."""

    nomination_id: Id
    round_id: Id
    by_unit_id: Id = Field(description="the nominating unit")
    nominee_kind: NomineeKind
    nominee_id: Id
    nominee_name: Text | None = None
    from_unit_id: Id = Field(description="the level that endorsed it")
    to_unit_id: Id = Field(description="the level it waits at now")
    to_council: bool = Field(default=False, description="true when it reached the issuing level's council")
    note: LongText | None = None
    escalated_from: Id | None = Field(default=None, description="sent up by a council that proposed a higher form: "
                                                                "the nomination of its own round")
    form: Text | None = Field(default=None, description="the form asked for (named)")


class NominationReturned(Model):
    """A level returned a nomination to the unit that sent it (with its reasons in `note`)."""

    nomination_id: Id
    round_id: Id
    by_unit_id: Id = Field(description="the nominating unit, told")
    nominee_kind: NomineeKind
    nominee_id: Id
    nominee_name: Text | None = None
    returned_by_unit_id: Id
    note: LongText | None = None


class NominationWithdrawn(Model):
    """The nominating unit withdrew its nomination before the council's result."""

    nomination_id: Id
    round_id: Id
    by_unit_id: Id
    nominee_kind: NomineeKind
    nominee_id: Id
    nominee_name: Text | None = None
    waited_at_unit_id: Id | None = Field(default=None, description="the level it was waiting at, told")
    reason: LongText | None = None


class DecisionIssued(Model):
    """A decision (quyết định khen thưởng) was issued; one award.granted per awardee follows."""

    decision_id: Id
    round_id: Id
    issuer_unit_id: Id
    number: Text
    decision_date: date
    signer: Text
    awards: int = Field(ge=0, le=2000)
    nomination_ids: list[Id] = Field(max_length=2000)
    by_unit_ids: list[Id] = Field(default_factory=list, max_length=2000,
                                  description="the units that nominated the awardees")


class QuotaEntry(Model):
    unit_id: Id
    quota: int = Field(ge=0, le=100_000)


class QuotasChanged(Model):
    """The issuing level set how many nominations units below may send in a round."""

    round_id: Id
    issuer_unit_id: Id
    changed: list[QuotaEntry] = Field(max_length=500, description="units whose quota is new or changed")
    removed: list[Id] = Field(default_factory=list, max_length=500, description="units whose quota was dropped")


class AwardGranted(Model):
    award_id: Id
    round_id: Id
    decision_number: Text
    decision_date: date
    signer: Text
    nominee_kind: NomineeKind
    nominee_id: Id
    unit_id: Id
    form: Text
    # Optional detail:
    form_code: Id | None = None
    decision_id: Id | None = None
    nomination_id: Id | None = None
    nominee_name: Text | None = None


class ExemplaryModelRegistered(Model):
    model_id: Id
    unit_id: Id
    person_id: Id | None = None
    title: Text
    story: LongText
    year: int = Field(ge=2000, le=2100)


EVENTS = (
    ev("awards", "round", "opened", RoundOpened, "An award round was opened."),
    ev("awards", "nomination", "submitted", NominationSubmitted, "A unit nominated a collective or individual."),
    ev("awards", "nomination", "decided", NominationDecided, "The council decided a nomination."),
    ev("awards", "nomination", "forwarded", NominationForwarded, "A level endorsed a nomination and sent it up."),
    ev("awards", "nomination", "returned", NominationReturned, "A level returned a nomination to its unit."),
    ev("awards", "nomination", "withdrawn", NominationWithdrawn, "The nominating unit withdrew a nomination."),
    ev("awards", "decision", "issued", DecisionIssued, "A decision on awards was issued."),
    ev("awards", "quotas", "changed", QuotasChanged, "A round's quotas of nominations were set or changed."),
    ev("awards", "award", "granted", AwardGranted, "An award was granted to a collective or individual."),
    ev("awards", "exemplary_model", "registered", ExemplaryModelRegistered, "An exemplary model was recorded."),
)
