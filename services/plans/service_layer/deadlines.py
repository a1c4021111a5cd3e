"""Deadline reminders, fired by runtime.scheduler exactly once per (occurrence, offset) across
replicas, restarts and moves of the shared clock: the scheduler claims the reminder and runs the
handler in one transaction, so the event in the outbox and the claim commit together.

Scheduled at the cascade (services/plans/domain/plans.py, `reminders_for`): "approaching" at 08:00
local on due − N days for each N of CONGDOAN_PLANS_DEADLINE_OFFSETS_DAYS (default 30,7,1), and
"missed" at the first instant after the due date's last local day. A reminder whose occurrence is
done, withdrawn, re-dated by a revision, or whose plan is closed, emits nothing."""

from __future__ import annotations

from typing import Any

from contracts.events import plans as ev
from services.plans.domain.tasks import DONE, WITHDRAWN
from services.plans.service_layer.plans import _content
from services.plans.service_layer.unit_of_work import PlansUnitOfWork


async def on_deadline(payload: dict[str, Any], uow: PlansUnitOfWork) -> None:
    row = await uow.tasks.get(payload["occurrence_id"])
    if row is None or row.status in (DONE, WITHDRAWN):
        return
    if row.due_date is None or row.due_date.isoformat() != payload["due"]:
        return  # a revision moved the due date: the new date has its own reminders
    plan = await uow.plans.get(row.plan_id)
    if plan is None or plan.status != "issued":
        return
    content = await _content(uow, row.plan_id, row.revision, row.item_id)
    common = dict(occurrence_id=row.occurrence_id, plan_id=row.plan_id, item_id=row.item_id, unit_id=row.unit_id,
                  period=row.period, content=content, due_date=row.due_date)
    if payload["offset"] == "missed":
        await uow.emit(ev.DeadlineMissed(**common, detected_at=uow.now()),
                       subject=row.occurrence_id, event_id=payload["event_id"])
    else:
        await uow.emit(ev.DeadlineApproaching(**common, days_before=int(payload["offset"])),
                       subject=row.occurrence_id, event_id=payload["event_id"])
