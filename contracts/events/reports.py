"""Events produced by the reports service."""

from __future__ import annotations

from datetime import date

from pydantic import AwareDatetime, Field

from contracts.spec import ev
from contracts.types import ExportRef, Id, LongText, Model, Period, Text, UnitKind


class RequirementOpened(Model):
    """A reporting requirement: who reports what to whom, for which period, by when."""

    requirement_id: Id
    name: Text
    issuer_unit_id: Id
    receiving_unit_id: Id
    receiving_department: Text | None = None
    reporting_kinds: list[UnitKind] = Field(max_length=10)
    period: Period
    due_date: date
    grace_days: int = Field(default=0, ge=0, le=365)
    cutoff_date: date | None = None
    form_id: Id
    form_version: int = Field(ge=1)
    source_plan_id: Id | None = None
    source_item_id: Id | None = None
    hierarchy_as_of: date | None = Field(default=None, description="the day whose hierarchy the period uses "
                                                                   "(who must report, rollup); null = the due date")


class ReportSubmitted(Model):
    """A unit submitted (or resubmitted) its report for a requirement and period."""

    report_id: Id
    requirement_id: Id
    period: Period
    unit_id: Id
    receiving_unit_id: Id | None
    revision: int
    submitted_at: AwareDatetime
    due_date: date | None = None
    on_time: bool


class ReportReturned(Model):
    """The receiving level (or a higher one) returned a report with comments."""

    report_id: Id
    requirement_id: Id
    period: Period
    unit_id: Id
    by_unit_id: Id
    revision: int
    comment: LongText
    returned_at: AwareDatetime


class ReportReopened(Model):
    """The receiving level reopened an accepted report for a correction: it stands "submitted"
    again (still received), and the unit may send a corrected revision."""

    report_id: Id
    requirement_id: Id
    period: Period
    unit_id: Id
    by_unit_id: Id
    revision: int = Field(description="the accepted revision that was reopened")
    comment: LongText
    reopened_at: AwareDatetime


class ReportAccepted(Model):
    report_id: Id
    requirement_id: Id
    period: Period
    unit_id: Id
    by_unit_id: Id
    revision: int
    on_time: bool
    accepted_at: AwareDatetime


class ReportDeadlineApproaching(Model):
    requirement_id: Id
    period: Period
    unit_id: Id
    receiving_unit_id: Id
    name: Text
    due_date: date
    days_before: int = Field(ge=0)


class ReportOverdue(Model):
    requirement_id: Id
    period: Period
    unit_id: Id
    receiving_unit_id: Id
    name: Text
    due_date: date


class ReportConsolidated(Model):
    """A unit consolidated the reports of its subtree for a requirement and period."""

    consolidation_id: Id
    requirement_id: Id
    period: Period
    unit_id: Id
    expected: int
    submitted: int
    on_time: int
    late: int
    missing: int
    docx: str | None = Field(default=None, max_length=500, description="path on the reports host of the DOCX "
                                                                       "(clients fetch `exports` with get_export)")
    xlsx: str | None = Field(default=None, max_length=500)
    exports: list[ExportRef] = Field(default_factory=list, max_length=10,
                                     description="the files, kept by reports: congdoan.api.reports.v1.get_export")


class FormRegistered(Model):
    """A report form (biểu mẫu) was published: requirements may ask for it from now on."""

    form_id: Id
    version: int = Field(ge=1, le=2**31 - 1)
    title: Text
    fields: int = Field(ge=0, le=10_000, description="how many fields it has")
    by_unit_id: Id | None = Field(default=None, description="the level that published it; null: a service")


EVENTS = (
    ev("reports", "form", "registered", FormRegistered, "A report form was published."),
    ev("reports", "requirement", "opened", RequirementOpened, "A reporting requirement was opened."),
    ev("reports", "report", "submitted", ReportSubmitted, "A unit submitted its report."),
    ev("reports", "report", "returned", ReportReturned, "A report was returned with comments."),
    ev("reports", "report", "accepted", ReportAccepted, "A report was accepted by the receiving level."),
    ev("reports", "report", "reopened", ReportReopened, "The receiving level reopened an accepted report."),
    ev("reports", "report", "deadline_approaching", ReportDeadlineApproaching, "A unit's report is due in N days."),
    ev("reports", "report", "overdue", ReportOverdue, "A unit's report passed its due date (with grace) missing."),
    ev("reports", "report", "consolidated", ReportConsolidated, "A unit consolidated its subtree's reports."),
)
