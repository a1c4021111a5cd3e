"""Reports' events on the tasks that ask for a report (event handlers: no commit, the consumer
commits the batch with its inbox rows, so a redelivered event changes nothing).

A plan item "send the 30/11 report" becomes, in the reports service, a reporting requirement
(`requirement.opened` naming the plan item as its source). Plans remembers which item and period
each such requirement stands for; then a unit's report submitted completes that unit's task of the
item for the period, on the report's (local) date; returned, the task is back in progress until the
unit sends it again; accepted, it stays done. Each change is a `task.updated` event, as when a
person updates the task, recorded by "report:<report_id>". A task a person marked done keeps their
date and note. Where each unit's report stands (revision, stage) is kept: an event older than that
(handled late by another replica, replayed from the dead letters) changes nothing. Events of
requirements opened without a plan item, of units with no such task or of requirements plans never
heard of are ignored (logged at DEBUG): they are not errors."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from contracts.envelope import CloudEvent
from contracts.events import reports as reports_ev
from runtime.logging import get_logger
from services.plans.domain.tasks import (
    ACCEPTED,
    RETURNED,
    SUBMITTED,
    Change,
    is_later_report_event,
    report_recorder,
    report_returned,
    report_sent,
)
from services.plans.domain.timing import local_date
from services.plans.service_layer.common import today
from services.plans.service_layer.tasks import emit_task_updated
from services.plans.service_layer.unit_of_work import PlansUnitOfWork

log = get_logger("plans.reports")


async def on_requirement_opened(event: CloudEvent[reports_ev.RequirementOpened], uow: PlansUnitOfWork) -> None:
    d = event.data
    if not d.source_plan_id or not d.source_item_id:
        log.debug("requirement without a plan item: nothing to follow", requirement_id=d.requirement_id)
        return
    if await uow.plans.get(d.source_plan_id) is None:
        log.debug("requirement of a plan unknown here: ignored", requirement_id=d.requirement_id,
                  plan_id=d.source_plan_id)
        return
    await uow.report_requirements.remember(d.requirement_id, d.source_plan_id, d.source_item_id, d.period, uow.now())


async def _task(uow: PlansUnitOfWork, requirement_id: str, unit_id: str, period: str, report_id: str,
                revision: int, stage: str) -> Any:
    """The unit's occurrence the requirement's reports complete (locked), when this event is news
    for it; else None (logged). Records where the unit's report now stands."""
    what = f"report {stage}"
    source = await uow.report_requirements.get(requirement_id)
    if source is None:
        log.debug(f"{what} for a requirement not opened from a plan item here: ignored", requirement_id=requirement_id,
                  unit_id=unit_id)
        return None
    if period != source.period:
        log.debug(f"{what} for another period than the requirement's: ignored", requirement_id=requirement_id,
                  period=period, requirement_period=source.period)
        return None
    row = await uow.tasks.of_unit_item(source.plan_id, unit_id, source.item_id, source.period, for_update=True)
    if row is None:
        log.debug(f"{what} of a unit without that task: ignored", requirement_id=requirement_id, unit_id=unit_id,
                  plan_id=source.plan_id, item_id=source.item_id, period=source.period)
        return None
    last = await uow.report_requirements.progress(requirement_id, unit_id)  # read under the task's lock
    if not is_later_report_event(last, revision, stage):
        log.debug(f"{what} older than what is recorded: ignored", requirement_id=requirement_id, unit_id=unit_id,
                  revision=revision, last=last)
        return None
    await uow.report_requirements.set_progress(requirement_id, unit_id, report_id, revision, stage, uow.now(),
                                               known=last is not None)
    return row


async def _apply(uow: PlansUnitOfWork, row: Any, change: Change, recorder: str) -> None:
    await uow.tasks.update(row.occurrence_id, status=change.status, done_on=change.done_on, on_time=change.on_time,
                           evidence=change.evidence, updated_at=uow.now(), updated_by=recorder)
    # Reminders are left as they are: their handler emits nothing for a task that is done, and a
    # report returned before its due date still has the unit reminded.
    await emit_task_updated(uow, row, change.status, change.done_on, change.on_time, change.evidence, recorder)


async def _sent(uow: PlansUnitOfWork, requirement_id: str, unit_id: str, period: str, report_id: str,
                revision: int, stage: str, at: datetime) -> None:
    row = await _task(uow, requirement_id, unit_id, period, report_id, revision, stage)
    if row is None:
        return
    plan = await uow.plans.get(row.plan_id)
    on: date = today(uow)
    change = report_sent(row.status, row.done_on, sent=local_date(at), today=on, period=row.period,
                         start=row.start_date, issued_on=plan.issued_on if plan is not None else None,
                         due=row.due_date)
    if change is None:
        log.debug(f"report {stage}: task unchanged", occurrence_id=row.occurrence_id, status=row.status,
                  recorded_by=row.updated_by)
        return
    await _apply(uow, row, change, report_recorder(report_id))


async def on_report_submitted(event: CloudEvent[reports_ev.ReportSubmitted], uow: PlansUnitOfWork) -> None:
    d = event.data
    await _sent(uow, d.requirement_id, d.unit_id, d.period, d.report_id, d.revision, SUBMITTED, d.submitted_at)


async def on_report_accepted(event: CloudEvent[reports_ev.ReportAccepted], uow: PlansUnitOfWork) -> None:
    """Accepted, the task stays done. One that is not (its submission came before the task began,
    so no completion date fitted then) is completed now, on the day of the acceptance."""
    d = event.data
    await _sent(uow, d.requirement_id, d.unit_id, d.period, d.report_id, d.revision, ACCEPTED, d.accepted_at)


async def on_report_returned(event: CloudEvent[reports_ev.ReportReturned], uow: PlansUnitOfWork) -> None:
    d = event.data
    row = await _task(uow, d.requirement_id, d.unit_id, d.period, d.report_id, d.revision, RETURNED)
    if row is None:
        return
    change = report_returned(row.status, row.updated_by, d.report_id, d.comment)
    if change is None:
        log.debug("report returned: task unchanged", occurrence_id=row.occurrence_id, status=row.status,
                  recorded_by=row.updated_by)
        return
    await _apply(uow, row, change, report_recorder(d.report_id))
