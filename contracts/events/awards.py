"""Events produced by the awards service."""

from __future__ import annotations

from datetime import date

from pydantic import Field

from contracts.spec import ev
from contracts.types import Id, LongText, Model, NomineeKind, Text


class RoundOpened(Model):
    round_id: Id
    name: Text
    level: Text
    issuer_unit_id: Id
    opens_on: date
    closes_on: date
    categories: list[Text] = Field(default_factory=list, max_length=50)
    forms: list[Text] = Field(default_factory=list, max_length=50)


class NominationSubmitted(Model):
    nomination_id: Id
    round_id: Id
    by_unit_id: Id
    nominee_kind: NomineeKind
    nominee_id: Id
    form: Text
    eligible: bool
    reasons: list[str] = Field(default_factory=list)


class NominationDecided(Model):
    nomination_id: Id
    round_id: Id
    nominee_kind: NomineeKind
    nominee_id: Id
    result: str = Field(pattern="^(approved|rejected|escalated)$")
    form: Text
    decided_on: date
    note: LongText | None = None


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
    ev("awards", "award", "granted", AwardGranted, "An award was granted to a collective or individual."),
    ev("awards", "exemplary_model", "registered", ExemplaryModelRegistered, "An exemplary model was recorded."),
)
