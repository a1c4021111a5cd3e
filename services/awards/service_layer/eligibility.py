"""Eligibility, and the facts it is computed from: reports' submissions, returns and acceptances,
and individual plans' assessments (event handlers: no commit, the consumer commits the batch)."""

from __future__ import annotations

from contracts.api import awards as api
from contracts.envelope import CloudEvent
from contracts.events import plans as plans_ev
from contracts.events import reports as reports_ev
from runtime.access import Action
from runtime.auth import Principal
from runtime.errors import not_found
from services.awards.domain.eligibility import (
    Assessment,
    assessment_version,
)
from services.awards.service_layer.common import (
    authorize,
    live_reasons,
    load_round,
    today_of,
)
from services.awards.service_layer.unit_of_work import AwardsUnitOfWork


async def get_eligibility(q: api.GetEligibility, who: Principal, uow: AwardsUnitOfWork) -> api.Eligibility:
    async with uow:
        await authorize(uow, who, Action.READ, q.unit_id, today_of(uow))
        standing = await uow.facts.standing(q.unit_id, q.period)
        reasons = standing.reasons_not_eligible(require_accepted=q.require_accepted, requirement_id=q.requirement_id)
        return api.Eligibility(unit_id=q.unit_id, period=q.period, eligible=not reasons, reasons=reasons)


async def check_eligibility(q: api.CheckEligibility, who: Principal, uow: AwardsUnitOfWork) -> api.NomineeEligibility:
    async with uow:
        today = today_of(uow)
        rnd = await load_round(uow, q.round_id)
        kind = str(q.nominee_kind)
        if kind == "collective":
            if await uow.directory.unit(q.nominee_id) is None:
                raise not_found(f"đơn vị {q.nominee_id}", "nominee_id")
            unit_id = q.nominee_id
        else:
            person = await uow.directory.person(q.nominee_id)
            if person is None:
                raise not_found(f"cá nhân {q.nominee_id}", "nominee_id")
            unit_id = person.unit_id
        if q.nominee_id != who.person_id:  # one's own eligibility, or that of a unit one may read
            await authorize(uow, who, Action.READ, unit_id, today, "nominee_id")
        reasons = (await live_reasons(uow, rnd, kind, [q.nominee_id]))[q.nominee_id]
        return api.NomineeEligibility(round_id=rnd.round_id, nominee_kind=q.nominee_kind, nominee_id=q.nominee_id,
                                      report_period=rnd.report_period, eligible=not reasons, reasons=reasons)


async def on_report_submitted(event: CloudEvent[reports_ev.ReportSubmitted], uow: AwardsUnitOfWork) -> None:
    d = event.data
    standing = await uow.facts.standing(d.unit_id, d.period)
    standing.record_submitted(d.report_id, d.requirement_id, d.revision, d.on_time, d.submitted_at)
    await uow.facts.save_revision(standing, d.report_id, d.revision)


async def on_report_returned(event: CloudEvent[reports_ev.ReportReturned], uow: AwardsUnitOfWork) -> None:
    d = event.data
    standing = await uow.facts.standing(d.unit_id, d.period)
    standing.record_returned(d.report_id, d.requirement_id, d.revision, d.returned_at)
    await uow.facts.save_revision(standing, d.report_id, d.revision)


async def on_report_accepted(event: CloudEvent[reports_ev.ReportAccepted], uow: AwardsUnitOfWork) -> None:
    d = event.data
    standing = await uow.facts.standing(d.unit_id, d.period)
    standing.record_accepted(d.report_id, d.requirement_id, d.revision, d.on_time, d.accepted_at)
    await uow.facts.save_revision(standing, d.report_id, d.revision)


async def on_individual_plan_assessed(event: CloudEvent[plans_ev.IndividualPlanAssessed],
                                      uow: AwardsUnitOfWork) -> None:
    d = event.data
    await uow.facts.record_assessment(
        Assessment(d.individual_plan_id, d.person_id, d.year, str(d.rating), d.assessed_on,
                   assessment_version(d.assessed_on, event.time, event.id)), d.unit_id)
