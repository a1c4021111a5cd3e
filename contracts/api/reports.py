"""Requests served by the reports service."""

from __future__ import annotations

from datetime import date

from pydantic import AwareDatetime, Field

from contracts.spec import EndpointSpec
from contracts.types import Id, LongText, Model, Period


class SubmitReport(Model):
    report_id: Id | None = Field(default=None, description="chosen by the caller to make retries idempotent")
    requirement_id: Id
    period: Period
    unit_id: Id
    values: dict[str, int | float | LongText] = Field(default_factory=dict, max_length=200)


class SubmissionReceipt(Model):
    report_id: Id
    unit_id: Id
    receiving_unit_id: Id | None
    revision: int
    submitted_at: AwareDatetime
    due_date: date | None
    on_time: bool
    duplicate: bool = Field(default=False, description="true when this report id was already stored")




ENDPOINTS = (
    EndpointSpec("reports", "submit_report", SubmitReport, SubmissionReceipt, "Submit a unit's report for a period."),
)
CONSUMES: tuple[str, ...] = ("vn.congdoan.plans.unit.registered.v1",)
