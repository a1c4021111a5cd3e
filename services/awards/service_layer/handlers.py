"""Use cases of the awards service. Event handlers do not commit (the consumer does, with the inbox)."""

from __future__ import annotations

from contracts.api import awards as api
from contracts.envelope import CloudEvent
from contracts.events import reports as reports_ev
from services.awards.domain.model import UnitStanding
from services.awards.service_layer.unit_of_work import AwardsUnitOfWork


async def on_report_submitted(event: CloudEvent[reports_ev.ReportSubmitted], uow: AwardsUnitOfWork) -> None:
    d = event.data
    standing = await uow.awards.standing(d.unit_id, d.period)
    if standing is None:
        standing = UnitStanding(unit_id=d.unit_id, period=d.period)
        uow.awards.add(standing)
    standing.record_report(d.revision, d.on_time)


async def get_eligibility(q: api.GetEligibility, uow: AwardsUnitOfWork) -> api.Eligibility:
    async with uow:
        standing = await uow.awards.standing(q.unit_id, q.period) or UnitStanding(unit_id=q.unit_id, period=q.period)
        reasons = standing.reasons_not_eligible()
        return api.Eligibility(unit_id=q.unit_id, period=q.period, eligible=not reasons, reasons=reasons)
