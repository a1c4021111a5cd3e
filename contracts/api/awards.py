"""Requests served by the awards service."""

from __future__ import annotations

from contracts.spec import EndpointSpec
from contracts.types import Id, Model, Period


class GetEligibility(Model):
    unit_id: Id
    period: Period


class Eligibility(Model):
    unit_id: Id
    period: Period
    eligible: bool
    reasons: list[str]


ENDPOINTS = (
    EndpointSpec("awards", "get_eligibility", GetEligibility, Eligibility, "Eligibility of a unit for awards in a period."),
)
CONSUMES: tuple[str, ...] = ("vn.congdoan.reports.report.submitted.v1",)
