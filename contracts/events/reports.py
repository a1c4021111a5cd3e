"""Events produced by the reports service."""

from __future__ import annotations

from datetime import date

from pydantic import AwareDatetime

from contracts.types import Id, Model, Period


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
