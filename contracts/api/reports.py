"""Requests served by the reports service: reporting requirements, forms, submission and review of
units' reports, completeness and timeliness, consolidation up the hierarchy (DOCX + XLSX).

Who asks comes from the bearer token in the request's `Authorization` header, never from the body;
access follows the one policy of `runtime/access.py`:
- a unit submits (and drafts) only its own report: acting people (chairperson, executive member,
  head, cadre) of that unit, or of the unit it was merged into;
- reviews: the receiving level (the unit's parent in the hierarchy of the period, or for the
  requirement's receiving unit also the people of its receiving department, e.g. Ban TG-NC)
  accepts or returns; leaders of a higher level may return an already accepted report;
- queries and consolidation of a subtree: people of the subtree's root, staff of the levels above.

A submission names a requirement reports knows (opened here by a command or from plans'
plan.issued); an unknown requirement id is 404. The values are validated against the
requirement's form at every submission (no unknown field, no negative count, the form's rules),
the unit must be one that is expected to report, and timeliness follows the requirement (due
date, grace, cut-off).

Reports stay as accepted: once accepted, no submission changes a report until its receiving level
reopens it (`reopen_report`, event `report.reopened`) or returns it. The same values sent again are
answered as a duplicate; a change is refused with 409 and the stable detail type `report_accepted`.
A `report_id` names one content: the same id with other values is refused (409, `report_id_reused`).
Every revision is kept with its values, who submitted it and when (`get_report` → `revisions`).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, Field, StringConstraints

from contracts.spec import EndpointSpec
from contracts.types import Date, ExportRef, Id, LongText, Model, Period, Text, UnitKind, Version

Counting = Literal["accepted", "received"]
ReportStatus = Literal["draft", "submitted", "accepted", "returned"]
Values = dict[str, int | float | LongText]


# --- submission -----------------------------------------------------------------------------------

class SubmitReport(Model):
    report_id: Id | None = Field(default=None, description="chosen by the caller to make retries idempotent")
    requirement_id: Id
    period: Period
    unit_id: Id
    values: Values = Field(default_factory=dict, max_length=200,
                           description="the form's fields; empty = submit the saved draft")


class SubmissionReceipt(Model):
    report_id: Id
    unit_id: Id
    receiving_unit_id: Id | None
    revision: int
    submitted_at: AwareDatetime
    due_date: Date | None
    on_time: bool
    duplicate: bool = Field(default=False, description="true when this submission was already stored (a retry): "
                                                       "nothing changed")
    status: ReportStatus = "submitted"
    form_id: Id | None = Field(default=None, description="the form the values were checked against")
    form_version: int | None = None


class SaveDraft(Model):
    """Keep a unit's work in progress (not validated, not counted, no event)."""

    report_id: Id | None = None
    requirement_id: Id
    period: Period
    unit_id: Id
    values: Values = Field(default_factory=dict, max_length=200)


class DraftReceipt(Model):
    report_id: Id
    unit_id: Id
    status: ReportStatus
    saved_at: AwareDatetime
    problems: list[str] = Field(default_factory=list,
                                description="what a submission of this draft would be refused for (informative)")


# --- review ---------------------------------------------------------------------------------------

class AcceptReport(Model):
    report_id: Id
    comment: LongText | None = None


class ReturnReport(Model):
    report_id: Id
    comment: LongText = Field(min_length=1, description="what to correct (required)")


class ReviewReceipt(Model):
    report_id: Id
    unit_id: Id
    status: ReportStatus
    revision: int
    by_unit_id: Id
    at: AwareDatetime
    comment: str | None = None
    duplicate: bool = False


# --- reading reports ------------------------------------------------------------------------------

class GetReport(Model):
    report_id: Id


class ReopenReport(Model):
    """The receiving level unlocks an accepted report for a correction."""

    report_id: Id
    comment: LongText = Field(min_length=1, description="why, and what to correct (required)")


class ReviewStep(Model):
    action: Literal["accepted", "returned", "reopened"]
    revision: int
    by_unit_id: Id
    actor_id: Id | None
    comment: str | None
    at: AwareDatetime


class RevisionView(Model):
    """One submitted revision, kept for good."""

    revision: int
    values: dict[str, Any]
    submitted_at: AwareDatetime
    submitted_by: str | None = Field(description="who submitted it: a person id, or svc:<client> for a machine")
    on_time: bool | None
    form_id: Id | None = None
    form_version: int | None = None


class ReportView(Model):
    report_id: Id
    requirement_id: Id
    period: Period
    unit_id: Id
    receiving_unit_id: Id | None
    status: ReportStatus
    revision: int
    submitted_at: AwareDatetime | None
    first_submitted_at: AwareDatetime | None
    due_date: Date | None
    on_time: bool | None
    form_id: Id | None
    form_version: int | None
    values: dict[str, Any]
    draft_values: dict[str, Any] | None = None
    review_comment: str | None = None
    history: list[ReviewStep] = Field(default_factory=list)
    revisions: list[RevisionView] = Field(default_factory=list, description="every submitted revision, oldest first")


class ListReports(Model):
    requirement_id: Id
    receiving_unit_id: Id | None = Field(default=None, description="only reports this unit reviews")
    unit_id: Id | None = Field(default=None, description="only this unit's own report (the unit's people may ask: "
                                                         "how a front-end finds the report a unit is writing)")
    status: ReportStatus | None = None
    limit: int = Field(default=100, ge=1, le=1000)
    cursor: Id | None = Field(default=None, description="the last report_id of the previous page")


class ReportSummary(Model):
    report_id: Id
    unit_id: Id
    receiving_unit_id: Id | None
    status: ReportStatus
    revision: int
    submitted_at: AwareDatetime | None
    on_time: bool | None


class ReportPage(Model):
    items: list[ReportSummary]
    next_cursor: Id | None = None


# --- requirements ---------------------------------------------------------------------------------

class OpenRequirement(Model):
    requirement_id: Id | None = Field(default=None, description="chosen by the caller for idempotent retries")
    name: Text
    content: LongText | None = None
    issuer_unit_id: Id = Field(description="the unit whose subtree must report")
    receiving_unit_id: Id | None = Field(default=None, description="defaults to the issuer")
    receiving_department: Text | None = Field(default=None, description="e.g. 'Ban Tuyên giáo - Nữ công'")
    reporting_kinds: list[UnitKind] = Field(min_length=1, max_length=10)
    period: Period
    due_date: Date = Field(description="last local day on which a report is on time")
    grace_days: int = Field(default=0, ge=0, le=365, description="days after the due date still counted on time")
    cutoff_date: Date | None = Field(default=None, description="after this local day submissions are refused")
    hierarchy_as_of: Date | None = Field(default=None, description="the day whose hierarchy the period uses; "
                                                                   "defaults to the due date")
    form_id: Id = "bc-01-kl-tw"
    form_version: Version | None = Field(default=None, description="defaults to the latest version")
    reminder_days: list[Annotated[int, Field(ge=0, le=366)]] | None = Field(default=None, max_length=10,
                                            description="days before the due date for 'deadline approaching'")


class GetRequirement(Model):
    requirement_id: Id


class RequirementView(Model):
    requirement_id: Id
    name: str
    content: str | None
    issuer_unit_id: Id
    receiving_unit_id: Id
    receiving_department: str | None
    reporting_kinds: list[UnitKind]
    period: Period
    due_date: Date
    grace_days: int
    cutoff_date: Date | None
    hierarchy_as_of: Date
    form_id: Id
    form_version: int
    reminder_days: list[int]
    source_plan_id: Id | None
    source_item_id: Id | None
    opened_at: AwareDatetime
    duplicate: bool = Field(default=False, description="true when this requirement id was already open")


class ListRequirements(Model):
    issuer_unit_id: Id | None = None
    period: Period | None = None
    limit: int = Field(default=100, ge=1, le=500)
    cursor: Id | None = None


class RequirementPage(Model):
    items: list[RequirementView]
    next_cursor: Id | None = None


# --- forms ----------------------------------------------------------------------------------------

FieldKey = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_]{1,64}$")]


class FormFieldSpec(Model):
    """One field of a form: a number a unit submits (summed up the hierarchy), a share derived from
    two numbers (never submitted), or a narrative text. Absent attributes take the form's defaults."""

    key: FieldKey
    kind: Literal["number", "share", "text"]
    label: Text
    label_en: str | None = Field(default=None, max_length=500)
    unit: str | None = Field(default=None, max_length=64, description="đơn vị tính, e.g. 'buổi', 'người', '%'")
    compulsory: bool | None = None
    integer: bool | None = None
    min: float | None = None
    max: float | None = None
    aggregation: Literal["sum", "share"] | None = None
    numerator: FieldKey | None = Field(default=None, description="share: the number field above the line")
    denominator: FieldKey | None = None
    decimals: int | None = Field(default=None, ge=0, le=6)
    max_length: int | None = Field(default=None, ge=1, le=20_000)
    min_length: int | None = Field(default=None, ge=0, le=20_000)


class FormRuleSpec(Model):
    """`left op right`: right is a number field's key or a number."""

    left: FieldKey
    op: Literal["<=", "<", ">=", ">", "=="]
    right: FieldKey | float
    message: str | None = Field(default=None, max_length=1000)
    message_en: str | None = Field(default=None, max_length=1000)


class FormDocument(Model):
    """A versioned report form, as data: the documents of services/reports/domain/form_definitions/
    (schema congdoan.reports.form.v1) without their "schema" line."""

    form_id: Id
    version: Version
    title: Text
    title_en: str | None = Field(default=None, max_length=500)
    description: str | None = Field(default=None, max_length=5000)
    fields: list[FormFieldSpec] = Field(min_length=1, max_length=200)
    rules: list[FormRuleSpec] = Field(default_factory=list, max_length=200)


class RegisterForm(Model):
    definition: FormDocument


class GetForm(Model):
    form_id: Id
    version: Version | None = Field(default=None, description="defaults to the latest")


class FormView(Model):
    form_id: Id
    version: int
    title: str
    definition: dict[str, Any]
    duplicate: bool = False


# --- completeness, timeliness, consolidation ------------------------------------------------------

class GetCompleteness(Model):
    requirement_id: Id
    unit_id: Id | None = Field(default=None, description="root of the subtree; defaults to the issuer")
    counting: Counting = Field(default="received", description="received: submitted or accepted reports count; "
                                                               "accepted: only accepted ones")
    missing_limit: int = Field(default=200, ge=0, le=200_000)


class MissingUnitView(Model):
    unit_id: Id
    name: str
    kind: str
    parent_id: Id | None
    parent_name: str | None
    reason: Literal["not_submitted", "returned", "pending"]


class CompletenessFigures(Model):
    expected: int
    submitted: int
    on_time: int
    late: int
    missing: int
    returned: int = Field(description="of the missing: returned, not resubmitted")
    pending: int = Field(description="of the missing: received, not yet accepted (counting 'accepted')")


class NodeFigures(Model):
    unit_id: Id
    name: str
    kind: str
    completeness: CompletenessFigures
    own_status: str | None = Field(default=None, description="on_time | late | returned | pending | missing | "
                                                             "null when the unit itself had not to report")
    indicators: dict[str, int | float | None] | None = None


class CompletenessReply(Model):
    requirement_id: Id
    period: Period
    unit_id: Id
    as_of: Date
    counting: Counting
    completeness: CompletenessFigures
    children: list[NodeFigures]
    missing_units: list[MissingUnitView]
    missing_truncated: bool = False


class Consolidate(Model):
    requirement_id: Id
    unit_id: Id | None = Field(default=None, description="the consolidating unit; defaults to the issuer")
    counting: Counting = Field(default="accepted")
    number: str | None = Field(default=None, max_length=32, description="document number, blank when absent")
    place: Text | None = Field(default=None, description="place in the date line; derived from the unit's name")
    signer_name: Text | None = None
    signer_title: Text | None = None
    subtitle: Text | None = None
    recipients: list[Text] | None = Field(default=None, max_length=30)
    narrative: dict[str, LongText] = Field(default_factory=dict, max_length=20,
                                           description="the unit's own synthesis per narrative field")
    narrative_detail: Literal["auto", "all", "children"] = Field(
        default="auto", description="DOCX narrative sections, gathered per child unit: 'all' every counted unit's "
                                    "text, 'children' the direct children's own; 'auto' = all up to 500 reports")
    missing_limit: int = Field(default=200, ge=0, le=200_000)


class ConsolidationReply(Model):
    consolidation_id: Id
    requirement_id: Id
    period: Period
    unit_id: Id
    as_of: Date
    counting: Counting
    completeness: CompletenessFigures
    indicators: dict[str, int | float | None]
    children: list[NodeFigures]
    missing_units: list[MissingUnitView]
    missing_truncated: bool = False
    exports: list[ExportRef] = Field(default_factory=list, description="the DOCX report and the XLSX tables, kept "
                                     "by reports: fetch them with get_export (any client, access as for the figures)")
    docx: str = Field(description="where the reports host wrote the DOCX (for tools on that host; clients use "
                                  "exports and get_export)")
    xlsx: str = Field(description="where the reports host wrote the XLSX (see docx)")
    warnings: list[str] = Field(default_factory=list)


MAX_CHUNK = 512 * 1024


class GetExport(Model):
    """A file of a consolidation, in chunks that fit a NATS message: ask again from next_offset
    until it is null."""

    export_id: Id
    offset: int = Field(default=0, ge=0)
    limit: int = Field(default=256 * 1024, ge=1, le=MAX_CHUNK, description="bytes of this chunk (before base64)")


class ExportChunk(Model):
    export_id: Id
    consolidation_id: Id
    name: str
    media_type: str
    size: int
    sha256: str = Field(description="of the whole file, to check the assembled download")
    offset: int
    content_base64: str
    next_offset: int | None = Field(description="where the next chunk starts; null after the last one")
    created_at: AwareDatetime


ENDPOINTS = (
    EndpointSpec("reports", "submit_report", SubmitReport, SubmissionReceipt, "Submit a unit's report for a period."),
    EndpointSpec("reports", "save_draft", SaveDraft, DraftReceipt, "Save a unit's draft report (not validated)."),
    EndpointSpec("reports", "accept_report", AcceptReport, ReviewReceipt, "The receiving level accepts a report."),
    EndpointSpec("reports", "return_report", ReturnReport, ReviewReceipt,
                 "The receiving level (or a higher one) returns a report with comments."),
    EndpointSpec("reports", "reopen_report", ReopenReport, ReviewReceipt,
                 "The receiving level reopens an accepted report for a correction."),
    EndpointSpec("reports", "get_report", GetReport, ReportView, "One report with its values and review history."),
    EndpointSpec("reports", "list_reports", ListReports, ReportPage, "Reports of a requirement, e.g. to review."),
    EndpointSpec("reports", "open_requirement", OpenRequirement, RequirementView, "Open a reporting requirement."),
    EndpointSpec("reports", "get_requirement", GetRequirement, RequirementView, "One reporting requirement."),
    EndpointSpec("reports", "list_requirements", ListRequirements, RequirementPage, "Reporting requirements."),
    EndpointSpec("reports", "register_form", RegisterForm, FormView, "Register a (new version of a) report form."),
    EndpointSpec("reports", "get_form", GetForm, FormView, "A report form definition."),
    EndpointSpec("reports", "get_completeness", GetCompleteness, CompletenessReply,
                 "Completeness and timeliness of a requirement over a subtree, with the missing units."),
    EndpointSpec("reports", "consolidate", Consolidate, ConsolidationReply,
                 "Consolidate a subtree's reports by the hierarchy of the period; DOCX and XLSX exports."),
    EndpointSpec("reports", "get_export", GetExport, ExportChunk,
                 "Download a consolidation's DOCX or XLSX (base64 chunks); access as for its figures."),
)
CONSUMES: tuple[str, ...] = (
    "vn.congdoan.plans.unit.registered.v1",
    "vn.congdoan.plans.unit.moved.v1",
    "vn.congdoan.plans.unit.closed.v1",
    "vn.congdoan.plans.person.registered.v1",
    "vn.congdoan.plans.person.updated.v1",
    "vn.congdoan.plans.plan.issued.v1",
    "vn.congdoan.plans.plan.closed.v1",
)
