"""Requests served by the plans service: the organisation directory (units, people, reorganisation
with history, CSV import), plans (draft → issued → closed, revisions), their cascade into task
occurrences, implementation plans, progress rollups and individual plans.

Who asks comes from the bearer token in the request's `Authorization` header (README "Security"),
never from the body; `login`, `refresh_token`, `logout`, `change_password` and `service_token` are the
only endpoints served without one. Access follows the one policy of `runtime/access.py`."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, Field, StringConstraints

from contracts.api.common import Page
from contracts.spec import EndpointSpec
from contracts.types import Code, Date, Email, Id, LongText, Model, Output, Rating, Role, TaskStatus, Text, UnitKind, Version

# --- directory ------------------------------------------------------------------------------------

class RegisterUnit(Model):
    unit_id: Id | None = Field(default=None, description="chosen by the caller for idempotent retries; minted when absent")
    code: Code
    name: Text
    kind: UnitKind
    parent_id: Id | None = None
    effective_from: Date | None = Field(default=None, description="defaults to today (Asia/Ho_Chi_Minh)")


class UnitReply(Model):
    unit_id: Id
    code: Code
    name: Text
    kind: UnitKind
    parent_id: Id | None
    effective_from: Date


class RegisterPerson(Model):
    person_id: Id | None = None
    unit_id: Id
    full_name: Text
    roles: list[Role] = Field(default_factory=list, max_length=10)
    email: Email | None = None
    phone: str | None = Field(default=None, max_length=32)


class PersonReply(Model):
    person_id: Id
    unit_id: Id
    full_name: Text
    roles: list[Role]
    email: Email | None
    phone: str | None


class UpdatePerson(Model):
    """Change a person's unit, roles, contacts or activity; fields left out keep their value."""

    person_id: Id
    unit_id: Id | None = None
    full_name: Text | None = None
    roles: list[Role] | None = Field(default=None, max_length=10)
    email: Email | None = None
    phone: str | None = Field(default=None, max_length=32)
    active: bool | None = None


class PersonView(Model):
    person_id: Id
    unit_id: Id
    full_name: Text
    roles: list[Role]
    email: Email | None
    phone: str | None
    active: bool


class MoveUnit(Model):
    unit_id: Id
    to_parent_id: Id
    effective_from: Date | None = Field(default=None, description="defaults to today")


class MoveReply(Model):
    unit_id: Id
    from_parent_id: Id | None
    to_parent_id: Id
    effective_from: Date
    unchanged: bool = Field(default=False, description="true when the unit already sat there (a retry)")
    withdrawn_tasks: int = Field(default=0, description="open task occurrences ahead under plans of units no longer "
                                                         "above it (moved out of the issuer's tree), withdrawn")


class MergeUnits(Model):
    survivor_id: Id
    absorbed_ids: list[Id] = Field(min_length=1, max_length=200)
    effective_from: Date | None = Field(default=None, description="defaults to today")


class MergeReply(Model):
    survivor_id: Id
    absorbed_ids: list[Id]
    effective_from: Date
    moved_children: list[Id] = Field(description="units that moved from absorbed units to the survivor")
    withdrawn_tasks: int = Field(description="open task occurrences of the absorbed units after the merge, withdrawn")


class CloseUnit(Model):
    unit_id: Id
    effective_from: Date | None = Field(default=None, description="defaults to today")


class CloseReply(Model):
    unit_id: Id
    effective_from: Date
    withdrawn_tasks: int


class GetUnit(Model):
    unit_id: Id
    as_of: Date | None = Field(default=None, description="the date the parent is asked for; defaults to today")


class ParentSpan(Model):
    parent_id: Id | None
    valid_from: Date
    valid_to: Date | None = Field(description="exclusive; null while it holds")


class UnitView(Model):
    unit_id: Id
    code: Code
    name: Text
    kind: UnitKind
    as_of: Date
    active: bool = Field(description="whether the unit existed on as_of")
    parent_id: Id | None = Field(description="the parent on as_of")
    registered_on: Date
    closed_on: Date | None
    merged_into: Id | None
    successor_id: Id = Field(description="where the unit's history lives now (itself unless merged)")
    history: list[ParentSpan]


class ListUnits(Model):
    root_id: Id | None = Field(default=None, description="list this unit's subtree; absent: a person's own "
                                                        "unit's subtree, a machine identity's every root")
    as_of: Date | None = None
    kinds: list[UnitKind] = Field(default_factory=list, max_length=10)
    include_root: bool = True
    page: Page = Field(default_factory=Page)


class UnitRow(Model):
    unit_id: Id
    code: Code
    name: Text
    kind: UnitKind
    parent_id: Id | None
    depth: int


class UnitPage(Model):
    as_of: Date
    total: int
    items: list[UnitRow]
    next_cursor: str | None = None


class ListPeople(Model):
    unit_id: Id
    subtree: bool = False
    roles: list[Role] = Field(default_factory=list, max_length=10)
    include_inactive: bool = False
    page: Page = Field(default_factory=Page)


class PersonPage(Model):
    total: int
    items: list[PersonView]
    next_cursor: str | None = None


class ImportUnits(Model):
    """One part of a CSV import. Columns: `code,name,kind,parent_code` (header row required;
    optional `unit_id`, `parent_id`, `effective_from`). Send the parts of one import under one
    `import_id`, each ending on a line boundary; when all `parts` are in, the whole file is
    checked and imported in one transaction — or, with any bad row, nothing is imported and every
    bad row is reported by line number."""

    import_id: Id
    part: int = Field(default=1, ge=1, le=64)
    parts: int = Field(default=1, ge=1, le=64)
    csv: str = Field(min_length=1, max_length=240_000)
    effective_from: Date | None = Field(default=None, description="for rows without effective_from; defaults to today")


class ImportReply(Model):
    import_id: Id
    received_parts: list[int]
    complete: bool
    imported: int = 0
    unchanged: int = Field(default=0, description="rows that match units already registered (a re-import)")


# --- plans ----------------------------------------------------------------------------------------

class PartySpec(Model):
    """Who an item falls to, or who receives or is reported to.
    issuer: the issuing unit; unit: a named unit; department: a department of the issuer by code
    (BAN_TGNC…); units_of_kind: every unit of these kinds below `under` (the issuer unless a unit
    id); people_of_role: the units of the people with these roles below `under` (their own unit
    included); standing_committee, external, party_cell: bodies outside the task cascade."""

    kind: Literal["issuer", "unit", "department", "units_of_kind", "people_of_role", "standing_committee",
                  "external", "party_cell"]
    unit_id: Id | None = None
    code: Code | None = None
    unit_kinds: list[UnitKind] | None = Field(default=None, max_length=10)
    roles: list[Role] | None = Field(default=None, max_length=10)
    under: str | None = Field(default=None, max_length=100, description="'issuer' or a unit id")
    name: Text | None = None
    unit_kind: UnitKind | None = None


class TimingSpec(Model):
    """A timing in the seed's vocabulary (services/plans/domain/timing.py); fields by kind:
    ongoing (periodic), once_by_date (date), once_by_month_end (year, month), once_by_quarter_end
    (year, quarter), yearly (—), yearly_by_day (month, day), yearly_by_month_end (month),
    yearly_window (start_month, start_day, end_month, end_day, anchor_month, anchor_day, occasion)."""

    kind: Literal["ongoing", "once_by_date", "once_by_month_end", "once_by_quarter_end", "yearly", "yearly_by_day",
                  "yearly_by_month_end", "yearly_window"]
    periodic: bool | None = None
    date: Date | None = None
    year: int | None = Field(default=None, ge=2000, le=2100)
    month: int | None = Field(default=None, ge=1, le=12)
    quarter: int | None = Field(default=None, ge=1, le=4)
    day: int | None = Field(default=None, ge=1, le=31)
    start_month: int | None = Field(default=None, ge=1, le=12)
    start_day: int | None = Field(default=None, ge=1, le=31)
    end_month: int | None = Field(default=None, ge=1, le=12)
    end_day: int | None = Field(default=None, ge=1, le=31)
    anchor_month: int | None = Field(default=None, ge=1, le=12)
    anchor_day: int | None = Field(default=None, ge=1, le=31)
    occasion: str | None = Field(default=None, max_length=64)


class PlanItemSpec(Model):
    item_id: Id
    content: LongText = Field(min_length=1)
    responsible: list[PartySpec] = Field(min_length=1, max_length=20)
    output: Output
    timing_text: str | None = Field(default=None, max_length=300, description="the plan's words; parsed when `timing` is absent")
    timing: TimingSpec | None = Field(default=None, description="absent with no timing_text: ongoing")
    reports_to: list[PartySpec] = Field(default_factory=list, max_length=20)
    see_also: list[Id] = Field(default_factory=list, max_length=20)
    note: LongText | None = None


class SectionSpec(Model):
    code: str = Field(min_length=1, max_length=50)
    title: Text
    paragraphs: list[LongText] = Field(default_factory=list, max_length=50)
    items: list[PlanItemSpec] = Field(default_factory=list, max_length=200)


class BasisSpec(Model):
    kind: str | None = Field(default=None, max_length=32, description="ket_luan, chi_thi, cong_van, ke_hoach, quy_dinh…")
    number: Code
    issued_on: Date | None = None
    issuer: Text | None = None
    title: LongText | None = None
    relation: str | None = Field(default=None, max_length=32, description="implements, context, cited")


class RecipientSpec(Model):
    label: Text
    parties: list[PartySpec] = Field(default_factory=list, max_length=20)
    purpose: str | None = Field(default=None, max_length=32, description="for_information, for_action, archive")


class PlanDocument(Model):
    """A plan as written: number, date, issuer, basis documents, distribution list (Nơi nhận),
    sections and items."""

    number: Code
    number_is_placeholder: bool = False
    title: Text
    issuer_unit_id: Id
    issuer_name: Text | None = None
    issuing_body: Text | None = None
    parent_plan_id: Id | None = None
    issued_on: Date | None = Field(default=None, description="the date printed on the plan; issue_plan may set it")
    issued_not_before: Date | None = None
    first_year: int | None = Field(default=None, ge=2000, le=2100, description="first year yearly items apply to")
    until_year: int | None = Field(default=None, ge=2000, le=2100,
                                   description="last year the plan runs; absent = until the plan is closed")
    basis: list[BasisSpec] = Field(default_factory=list, max_length=50)
    sections: list[SectionSpec] = Field(default_factory=list, max_length=50)
    recipients: list[RecipientSpec] = Field(default_factory=list, max_length=100)
    signed_by: dict[str, Text] = Field(default_factory=dict, max_length=10)


class CreatePlan(Model):
    plan_id: Id | None = Field(default=None, description="chosen by the caller for idempotent retries; minted when absent")
    document: PlanDocument


class UpdatePlan(Model):
    """Replace the document of a draft (an issued plan changes through revise_plan)."""

    plan_id: Id
    document: PlanDocument


class RevisionInfo(Model):
    revision: int
    issued_on: Date
    issued_at: AwareDatetime
    issued_by: Id | None
    note: LongText | None


class DueDate(Model):
    period: str = Field(max_length=16, description="'2026', '2026-Q4', '2026-05'")
    start: Date | None = Field(description="not before (a window such as May)")
    due: Date | None = Field(description="the last day on time; null: no deadline (ongoing)")


class ItemTiming(Model):
    """How plans read an item's timing: its kind, in Vietnamese, and the dates it gives."""

    item_id: Id
    kind: str = Field(max_length=32)
    label: str = Field(max_length=300, description="in Vietnamese, e.g. 'Trước ngày 30/11 hằng năm'")
    timing: dict[str, Any] = Field(description="the structured timing (TimingSpec)")
    due_dates: list[DueDate] = Field(default_factory=list, max_length=20,
                                     description="its occurrences from the plan's year to the last materialised")


class PlanView(Model):
    plan_id: Id
    status: Literal["draft", "issued", "closed"]
    revision: int = Field(description="the revision shown (0: a draft never issued)")
    current_revision: int
    number: Code
    title: Text
    issuer_unit_id: Id
    parent_plan_id: Id | None
    issued_on: Date | None
    closed_on: Date | None
    materialized_to: int | None = Field(description="last year whose task occurrences exist")
    revisions: list[RevisionInfo]
    document: PlanDocument
    timings: list[ItemTiming] = Field(default_factory=list, description="each item's parsed timing")


class IssuePlan(Model):
    plan_id: Id
    issued_on: Date | None = Field(default=None, description="defaults to the document's date, else today")


class RevisePlan(Model):
    """Change an issued plan: the new document becomes the next revision (the old stays queryable);
    occurrences still ahead are re-derived from it, history is never rewritten."""

    plan_id: Id
    document: PlanDocument
    issued_on: Date | None = Field(default=None, description="date of the revision; defaults to today")
    note: LongText | None = None


class IssueReply(Model):
    plan_id: Id
    revision: int
    issued_on: Date
    units: int = Field(description="units that received (new or changed) task occurrences")
    occurrences: int = Field(description="task occurrences created")
    changed: int = 0
    withdrawn: int = 0
    reminders: int = Field(description="deadline reminders scheduled")
    duplicate: bool = Field(default=False, description="true when this revision was already issued (a retry)")


class ClosePlan(Model):
    plan_id: Id
    closed_on: Date | None = Field(default=None, description="defaults to today")


class ClosePlanReply(Model):
    plan_id: Id
    closed_on: Date
    withdrawn: int


class GetPlan(Model):
    plan_id: Id
    revision: Version | None = Field(default=None, description="absent: the current revision (or the draft)")


class ListPlans(Model):
    issuer_unit_id: Id | None = None
    parent_plan_id: Id | None = None
    status: Literal["draft", "issued", "closed"] | None = None
    page: Page = Field(default_factory=Page)


class PlanSummary(Model):
    plan_id: Id
    status: Literal["draft", "issued", "closed"]
    current_revision: int
    number: Code
    title: Text
    issuer_unit_id: Id
    parent_plan_id: Id | None
    issued_on: Date | None
    closed_on: Date | None


class PlanPage(Model):
    total: int
    items: list[PlanSummary]
    next_cursor: str | None = None


# --- tasks ----------------------------------------------------------------------------------------

Category = Literal["done_on_time", "done_late", "in_progress", "overdue", "not_done", "open"]


class ListTasks(Model):
    unit_id: Id
    plan_id: Id | None = None
    year: int | None = Field(default=None, ge=2000, le=2100)
    status: TaskStatus | None = None
    category: Category | None = None
    page: Page = Field(default_factory=Page)


class TaskView(Model):
    occurrence_id: Id
    plan_id: Id
    revision: int
    item_id: Id
    unit_id: Id
    period: str
    start_date: Date | None
    due_date: Date | None
    output: Output
    content: LongText
    status: TaskStatus
    category: Category
    done_on: Date | None
    on_time: bool | None
    evidence: LongText | None
    recorded_by: str | None = Field(default=None, description="who recorded the last change: a person id, "
                                                              "svc:<client>, or report:<report_id> (the unit's "
                                                              "report: done when sent, back in progress when returned)")
    recorded_at: AwareDatetime | None = None


class TaskPage(Model):
    total: int
    items: list[TaskView]
    next_cursor: str | None = None


class UpdateTask(Model):
    occurrence_id: Id
    status: Literal["in_progress", "done"]
    evidence: LongText | None = Field(default=None, description="a note or a link; required for done")
    done_on: Date | None = Field(default=None, description="defaults to today; not in the future")


class RegisterImplementationPlan(Model):
    """A unit's own plan implementing a parent plan: completes its "build your plan" task."""

    plan_id: Id | None = Field(default=None, description="chosen by the caller for idempotent retries")
    unit_id: Id
    parent_plan_id: Id
    number: Code
    title: Text | None = None
    registered_on: Date | None = Field(default=None, description="defaults to today")
    year: int | None = Field(default=None, ge=2000, le=2100, description="the year it plans; defaults to registered_on's")
    link: str | None = Field(default=None, max_length=1000)


class ImplementationPlanReply(Model):
    plan_id: Id
    parent_plan_id: Id
    unit_id: Id
    number: Code
    year: int
    registered_on: Date
    on_time: bool
    completed: list[Id] = Field(description="the task occurrences it completed")
    duplicate: bool = False


class GetRollup(Model):
    """Progress in the categories of government task tracking, for a plan and/or a unit subtree.
    An occurrence counts where its unit belonged on its due date (or its period's end, or today
    for later ones): moves do not rewrite history."""

    root_unit_id: Id | None = Field(default=None, description="defaults to the plan's issuer")
    plan_id: Id | None = None
    year: int | None = Field(default=None, ge=2000, le=2100)
    by_child: bool = True


class Counts(Model):
    done_on_time: int = 0
    done_late: int = 0
    in_progress: int = 0
    overdue: int = 0
    not_done: int = Field(default=0, description="ongoing items whose year ended without them being done")
    open: int = 0
    total: int = 0


class ChildRollup(Model):
    unit_id: Id
    name: Text
    counts: Counts


class RollupReply(Model):
    root_unit_id: Id
    plan_id: Id | None
    year: int | None
    as_of: Date
    labels: dict[str, str] = Field(description="Vietnamese labels of the categories")
    totals: Counts
    own: Counts = Field(description="the root unit's own occurrences")
    children: list[ChildRollup]


# --- individual plans -------------------------------------------------------------------------------

class SubmitIndividualPlan(Model):
    person_id: Id
    year: int = Field(ge=2000, le=2100)
    commitments: list[LongText] = Field(min_length=1, max_length=50)
    parent_plan_id: Id | None = None


class AssessIndividualPlan(Model):
    person_id: Id
    year: int = Field(ge=2000, le=2100)
    results: LongText = Field(min_length=1, description="the year-end self-assessment")
    rating: Rating
    supplement: list[LongText] = Field(default_factory=list, max_length=50,
                                       description="additions for next year's plan")


class GetIndividualPlan(Model):
    person_id: Id
    year: int = Field(ge=2000, le=2100)


class IndividualPlanView(Model):
    individual_plan_id: Id | None
    person_id: Id
    unit_id: Id
    year: int
    status: Literal["missing", "submitted", "assessed"]
    required: bool = Field(description="whether the person must keep one (executive member, head of unit)")
    commitments: list[LongText]
    carried_over: list[LongText] = Field(description="the supplement written at the end of the year before")
    submitted_on: Date | None
    results: LongText | None
    rating: Rating | None
    assessed_on: Date | None
    supplement: list[LongText]


class GetCoverage(Model):
    unit_id: Id
    year: int = Field(ge=2000, le=2100)
    subtree: bool = True
    page: Page = Field(default_factory=Page)


class PersonRef(Model):
    person_id: Id
    full_name: Text
    roles: list[Role]


class UnitCoverage(Model):
    unit_id: Id
    name: Text
    required: int
    submitted: int
    assessed: int
    missing: list[PersonRef]


class CoverageReply(Model):
    unit_id: Id
    year: int
    required: int
    submitted: int
    assessed: int
    units: list[UnitCoverage]
    next_cursor: str | None = None


class ExportIndividualPlans(Model):
    unit_id: Id
    year: int = Field(ge=2000, le=2100)
    format: Literal["csv", "xlsx"] = "csv"


class ExportReply(Model):
    filename: str
    content_type: str
    content_base64: str
    rows: int


# --- logins and tokens (README "Security") -------------------------------------------------------

Username = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._@\-]{2,99}$")]  # kept in lower case
Password = Annotated[str, StringConstraints(min_length=1, max_length=256)]
NewPassword = Annotated[str, StringConstraints(min_length=10, max_length=256)]


class Login(Model):
    """A person logs in with their user name and password (public endpoint)."""

    username: Annotated[str, StringConstraints(min_length=1, max_length=100)]
    password: Password


class LoginPerson(Model):
    person_id: Id
    full_name: str
    unit_id: Id
    roles: list[Role]


class TokenReply(Model):
    """A short-lived access token (send it as `Authorization: Bearer <access_token>` with every
    request) and a refresh token (exchange it at `refresh_token` before the access token expires;
    each refresh token is good once and is replaced)."""

    access_token: str
    token_type: Literal["Bearer"] = "Bearer"
    expires_in: int = Field(description="seconds the access token is valid")
    refresh_token: str | None = None
    refresh_expires_in: int | None = None
    person: LoginPerson | None = None
    roles: list[str] = Field(default_factory=list, description="a machine identity's roles")


class RefreshToken(Model):
    refresh_token: Annotated[str, StringConstraints(min_length=10, max_length=200)]


class Logout(Model):
    refresh_token: Annotated[str, StringConstraints(min_length=10, max_length=200)]


class LogoutReply(Model):
    revoked: bool


class ChangePassword(Model):
    """Public: a person whose administrator gave them a temporary password has no token yet."""

    username: Annotated[str, StringConstraints(min_length=1, max_length=100)]
    current_password: Password
    new_password: NewPassword


class ChangePasswordReply(Model):
    changed: bool


class SetLogin(Model):
    """An administrator of the person's unit (or a unit above) gives a person a login, or changes
    its user name. Without `password` a temporary one is made and shown once in the reply."""

    person_id: Id
    username: Username
    password: NewPassword | None = None
    must_change_password: bool = True


class ResetPassword(Model):
    """An administrator of the person's unit or a unit above resets a forgotten password: a new
    temporary password (shown once), failed attempts forgotten, the person's sessions ended."""

    person_id: Id


class LoginView(Model):
    person_id: Id
    username: str
    must_change_password: bool
    failed_attempts: int
    locked_until: AwareDatetime | None
    last_login_at: AwareDatetime | None
    temporary_password: str | None = Field(default=None, description="only in the reply that made it")


class GetLogin(Model):
    person_id: Id


class ServiceToken(Model):
    """Machine callers (loaders, integrations) present the client credentials of their service
    identity (README "Security": `python -m runtime.authctl add-client`) for an access token."""

    client_id: Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_\-]{1,63}$")]
    client_secret: Annotated[str, StringConstraints(min_length=10, max_length=200)]


class WhoAmI(Model):
    pass


class WhoAmIReply(Model):
    kind: Literal["person", "service"]
    id: str
    person: LoginPerson | None = None
    roles: list[str] = Field(default_factory=list)


ENDPOINTS = (
    EndpointSpec("plans", "register_unit", RegisterUnit, UnitReply, "Register a union unit."),
    EndpointSpec("plans", "register_person", RegisterPerson, PersonReply, "Register a person with roles and contacts."),
    EndpointSpec("plans", "update_person", UpdatePerson, PersonView, "Change a person's unit, roles or contacts."),
    EndpointSpec("plans", "move_unit", MoveUnit, MoveReply, "Move a unit under another parent (effective-dated)."),
    EndpointSpec("plans", "merge_units", MergeUnits, MergeReply, "Merge units into a survivor (effective-dated)."),
    EndpointSpec("plans", "close_unit", CloseUnit, CloseReply, "Close a unit (effective-dated)."),
    EndpointSpec("plans", "get_unit", GetUnit, UnitView, "A unit as of a date, with its history."),
    EndpointSpec("plans", "list_units", ListUnits, UnitPage, "A unit's subtree (or the roots) as of a date."),
    EndpointSpec("plans", "list_people", ListPeople, PersonPage, "People of a unit or subtree, by role."),
    EndpointSpec("plans", "import_units", ImportUnits, ImportReply, "Bulk import of units from CSV (all or nothing)."),
    EndpointSpec("plans", "create_plan", CreatePlan, PlanView, "Create a plan as a draft."),
    EndpointSpec("plans", "update_plan", UpdatePlan, PlanView, "Replace a draft plan's document."),
    EndpointSpec("plans", "issue_plan", IssuePlan, IssueReply, "Issue a draft plan and cascade its items."),
    EndpointSpec("plans", "revise_plan", RevisePlan, IssueReply, "Issue a new revision of an issued plan."),
    EndpointSpec("plans", "close_plan", ClosePlan, ClosePlanReply, "Close a plan."),
    EndpointSpec("plans", "get_plan", GetPlan, PlanView, "A plan, at its current or a given revision."),
    EndpointSpec("plans", "list_plans", ListPlans, PlanPage, "Plans visible to the actor, by issuer and status."),
    EndpointSpec("plans", "list_tasks", ListTasks, TaskPage, "A unit's task occurrences."),
    EndpointSpec("plans", "update_task", UpdateTask, TaskView, "Mark a task occurrence in progress or done."),
    EndpointSpec("plans", "register_implementation_plan", RegisterImplementationPlan, ImplementationPlanReply,
                 "Register a unit's implementation plan of a parent plan."),
    EndpointSpec("plans", "get_rollup", GetRollup, RollupReply, "Progress per plan and unit subtree."),
    EndpointSpec("plans", "submit_individual_plan", SubmitIndividualPlan, IndividualPlanView,
                 "Write (or amend) a person's individual plan for a year."),
    EndpointSpec("plans", "assess_individual_plan", AssessIndividualPlan, IndividualPlanView,
                 "Year-end self-assessment of an individual plan, with a rating and next year's supplement."),
    EndpointSpec("plans", "get_individual_plan", GetIndividualPlan, IndividualPlanView, "A person's individual plan."),
    EndpointSpec("plans", "get_individual_plan_coverage", GetCoverage, CoverageReply,
                 "Who must keep an individual plan, and who has, per unit."),
    EndpointSpec("plans", "export_individual_plans", ExportIndividualPlans, ExportReply,
                 "Individual plan results of a subtree (CSV or XLSX, Vietnamese headers), for cadre evaluation."),
    EndpointSpec("plans", "login", Login, TokenReply, "Log a person in: an access token and a refresh token.",
                 public=True),
    EndpointSpec("plans", "refresh_token", RefreshToken, TokenReply, "Exchange a refresh token for new tokens.",
                 public=True),
    EndpointSpec("plans", "logout", Logout, LogoutReply, "End a session (its refresh tokens).", public=True),
    EndpointSpec("plans", "change_password", ChangePassword, ChangePasswordReply,
                 "Change one's password (with the current or temporary one).", public=True),
    EndpointSpec("plans", "set_login", SetLogin, LoginView, "Give a person a login (administrators)."),
    EndpointSpec("plans", "reset_password", ResetPassword, LoginView,
                 "Reset a person's password to a temporary one (administrators)."),
    EndpointSpec("plans", "get_login", GetLogin, LoginView, "A person's login: name, lock, last use."),
    EndpointSpec("plans", "service_token", ServiceToken, TokenReply,
                 "Client credentials of a machine identity for an access token.", public=True),
    EndpointSpec("plans", "whoami", WhoAmI, WhoAmIReply, "Who the bearer token names."),
)
# Reports' events about the reports a plan item asks for ("send the 30/11 report"): a unit's report
# submitted completes its task of that item, returned reopens it (services/plans/README.md).
CONSUMES: tuple[str, ...] = (
    "vn.congdoan.reports.requirement.opened.v1",
    "vn.congdoan.reports.report.submitted.v1",
    "vn.congdoan.reports.report.returned.v1",
    "vn.congdoan.reports.report.accepted.v1",
)
