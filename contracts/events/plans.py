"""Events produced by the plans service: the organisation directory (for the other services to
project), plans, their cascade into task occurrences, individual plans and deadlines."""

from __future__ import annotations

from datetime import date

from pydantic import AwareDatetime, Field

from contracts.spec import ev
from contracts.types import (
    Code,
    Email,
    Id,
    LongText,
    Model,
    Output,
    Rating,
    ResponsibleParty,
    Role,
    TaskStatus,
    Text,
    Timing,
    UnitKind,
)


class UnitRegistered(Model):
    """A union unit entered the directory."""

    unit_id: Id
    code: Code
    name: Text
    kind: UnitKind
    parent_id: Id | None = None
    effective_from: date


class UnitMoved(Model):
    """A unit was placed under another parent from `effective_from` (history kept)."""

    unit_id: Id
    from_parent_id: Id | None
    to_parent_id: Id | None
    effective_from: date


class UnitClosed(Model):
    """A unit closed on `effective_from`; when merged, `merged_into` names the surviving unit,
    where its history now lives. Its children are moved first (unit.moved events)."""

    unit_id: Id
    effective_from: date
    merged_into: Id | None = None


class PersonRegistered(Model):
    """A person (cadre, member…) entered the directory, with roles and contacts."""

    person_id: Id
    unit_id: Id
    full_name: Text
    roles: list[Role] = Field(default_factory=list, max_length=10)
    email: Email | None = None
    phone: str | None = Field(default=None, max_length=32)


class PersonUpdated(Model):
    """A person's unit, roles or contacts changed: the whole new state."""

    person_id: Id
    unit_id: Id
    full_name: Text
    roles: list[Role] = Field(default_factory=list, max_length=10)
    email: Email | None = None
    phone: str | None = Field(default=None, max_length=32)
    active: bool = True


class PlanItemRef(Model):
    item_id: Id
    section: str = Field(max_length=200)
    content: LongText
    output: Output
    timing: Timing
    responsible: list[ResponsibleParty] = Field(max_length=20)


class RoleHolders(Model):
    """A unit whose people of these roles the plan gives work to (an item for people of a role:
    each executive member's individual plan, say)."""

    unit_id: Id
    roles: list[Role] = Field(min_length=1, max_length=10)


class PlanIssued(Model):
    """A plan was issued (revision 1) or re-issued as a new revision: the whole plan."""

    plan_id: Id
    revision: int = Field(ge=1)
    number: Code
    title: Text
    issuer_unit_id: Id
    issued_on: date
    parent_plan_id: Id | None = None
    basis: list[Text] = Field(default_factory=list, max_length=50)
    recipients: list[Text] = Field(default_factory=list, max_length=100)
    items: list[PlanItemRef] = Field(max_length=500)
    role_holders: list[RoleHolders] = Field(default_factory=list, max_length=50_000, description=(
        "the units whose people of a role the plan's people_of_role parties name, with those roles, as plans "
        "resolved them on the issue day (`under` honoured, its whole subtree): who is told of the plan itself. "
        "The units given tasks are told by tasks.assigned"))


class PlanClosed(Model):
    plan_id: Id
    closed_on: date


class OccurrenceRef(Model):
    occurrence_id: Id
    item_id: Id
    period: str = Field(max_length=16)
    due_date: date | None
    output: Output
    content: LongText


class TasksAssigned(Model):
    """The occurrences of a plan's items that fall to one unit (one event per unit)."""

    plan_id: Id
    revision: int
    plan_number: Code
    unit_id: Id
    occurrences: list[OccurrenceRef] = Field(max_length=2000)


class TaskUpdated(Model):
    occurrence_id: Id
    plan_id: Id
    item_id: Id
    unit_id: Id
    period: str = Field(max_length=16)
    status: TaskStatus
    due_date: date | None
    done_on: date | None = None
    on_time: bool | None = None
    evidence: LongText | None = None
    recorded_by: str | None = Field(default=None, max_length=100, description="who recorded it: a person id, "
                                                                             "svc:<client>, or report:<report_id> (the "
                                                                             "unit's report, through reports' events)")


class ImplementationPlanRegistered(Model):
    """A unit registered its own implementation plan of a parent plan."""

    plan_id: Id
    parent_plan_id: Id
    unit_id: Id
    number: Code
    registered_on: date
    on_time: bool


class IndividualPlanSubmitted(Model):
    individual_plan_id: Id
    person_id: Id
    unit_id: Id
    year: int = Field(ge=2000, le=2100)
    submitted_on: date


class IndividualPlanAssessed(Model):
    """The year-end self-assessment of an individual plan, with its rating."""

    individual_plan_id: Id
    person_id: Id
    unit_id: Id
    year: int = Field(ge=2000, le=2100)
    rating: Rating
    assessed_on: date


class DeadlineApproaching(Model):
    occurrence_id: Id
    plan_id: Id
    item_id: Id
    unit_id: Id
    period: str = Field(max_length=16)
    content: LongText
    due_date: date
    days_before: int = Field(ge=0, description="the configured offset that fired (30, 7, 1 by default)")


class DeadlineMissed(Model):
    occurrence_id: Id
    plan_id: Id
    item_id: Id
    unit_id: Id
    period: str = Field(max_length=16)
    content: LongText
    due_date: date
    detected_at: AwareDatetime


EVENTS = (
    ev("plans", "unit", "registered", UnitRegistered, "A union unit entered the directory."),
    ev("plans", "unit", "moved", UnitMoved, "A unit moved to another parent (effective-dated)."),
    ev("plans", "unit", "closed", UnitClosed, "A unit closed, or merged into another."),
    ev("plans", "person", "registered", PersonRegistered, "A person entered the directory."),
    ev("plans", "person", "updated", PersonUpdated, "A person's unit, roles or contacts changed."),
    ev("plans", "plan", "issued", PlanIssued, "A plan was issued, or re-issued as a new revision."),
    ev("plans", "plan", "closed", PlanClosed, "A plan was closed."),
    ev("plans", "tasks", "assigned", TasksAssigned, "Occurrences of a plan's items assigned to one unit."),
    ev("plans", "task", "updated", TaskUpdated, "A unit updated one of its task occurrences."),
    ev("plans", "implementation_plan", "registered", ImplementationPlanRegistered,
       "A unit registered its implementation plan of a parent plan."),
    ev("plans", "individual_plan", "submitted", IndividualPlanSubmitted, "A person wrote their individual plan."),
    ev("plans", "individual_plan", "assessed", IndividualPlanAssessed, "A person self-assessed their year."),
    ev("plans", "deadline", "approaching", DeadlineApproaching, "A task occurrence is due in N days."),
    ev("plans", "deadline", "missed", DeadlineMissed, "A task occurrence passed its due date undone."),
)
