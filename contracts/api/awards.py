"""Requests served by the awards service."""

from __future__ import annotations

from contracts.types import Id, Model, Period


class GetEligibility(Model):
    unit_id: Id
    period: Period


class Eligibility(Model):
    unit_id: Id
    period: Period
    eligible: bool
    reasons: list[str]
