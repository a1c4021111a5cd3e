"""Rounds opened by plans: an item whose output is an award round opens one round per (item, year),
the first window not yet over now and each next year's ahead of its window (a durable reminder).
Event and reminder handlers: no commit (the consumer or the scheduler commits)."""

from __future__ import annotations

from datetime import datetime, time
from typing import Any

from contracts.envelope import CloudEvent
from contracts.events import plans as plans_ev
from runtime.clock import TZ
from runtime.directory import Retry
from runtime.scheduler import cancel, schedule
from services.awards.domain.model import (
    Round,
    RoundSource,
    level_for_kind,
    new_round,
)
from services.awards.domain.windows import Window, first_window, next_opening, planned_round_name, window_for
from services.awards.service_layer.common import (
    default_forms,
    digest_id,
    emit_round_opened,
    today_of,
)
from services.awards.service_layer.unit_of_work import AwardsUnitOfWork

OPEN_PLANNED_ROUND = "open_planned_round"  # reminder kind

DEFAULT_COLLECTIVE_CATEGORIES = ["Tập thể có thành tích xuất sắc"]
DEFAULT_INDIVIDUAL_CATEGORIES = ["Cá nhân có thành tích xuất sắc"]


def _reminder_prefix(plan_id: str, item_id: str | None = None) -> str:
    return f"awards:round:{plan_id}:" + (f"{item_id}:" if item_id is not None else "")


async def on_plan_issued(event: CloudEvent[plans_ev.PlanIssued], uow: AwardsUnitOfWork) -> None:
    """Items whose output is an award round open one round per (item, year): the first window not
    yet over now, and each next year's ahead of its window (durable reminder)."""
    d = event.data
    if await uow.sources.plan_closed(d.plan_id):
        return  # an issue arriving after the plan's closure opens nothing
    known = {r.item_id: r for r in await uow.sources.of_plan(d.plan_id)}
    if known and max(r.plan_revision for r in known.values()) > d.revision:
        return  # an older revision arriving late
    items = [i for i in d.items if str(i.output) == "award_round"]
    keep = {i.item_id for i in items}
    gone = [item_id for item_id, r in known.items() if item_id not in keep and r.active]
    if gone:
        await uow.sources.deactivate(d.plan_id, gone)
        for item_id in gone:
            await cancel(uow.session, _reminder_prefix(d.plan_id, item_id))
    today = today_of(uow)
    for item in items:
        prior = known.get(item.item_id)
        if prior is not None and prior.active and prior.plan_revision == d.revision:
            continue  # the same revision again: nothing new
        timing = item.timing.model_dump(mode="json", exclude_none=True)
        source = RoundSource(plan_id=d.plan_id, item_id=item.item_id, plan_revision=d.revision, plan_number=d.number,
                             issuer_unit_id=d.issuer_unit_id, issued_on=d.issued_on, content=item.content,
                             timing=timing, active=True)
        await uow.sources.upsert(source)
        await cancel(uow.session, _reminder_prefix(d.plan_id, item.item_id))  # an earlier revision's
        window = first_window(timing, d.issued_on, today)
        if window is None:
            continue
        await _open_planned_round(uow, source, window)
        await _schedule_next(uow, source, window.year)


async def on_plan_closed(event: CloudEvent[plans_ev.PlanClosed], uow: AwardsUnitOfWork) -> None:
    """A closed plan opens no more rounds; rounds already open run to their decisions."""
    await uow.sources.close_plan(event.data.plan_id, event.data.closed_on)
    await cancel(uow.session, _reminder_prefix(event.data.plan_id))


async def open_planned_round(payload: dict[str, Any], uow: AwardsUnitOfWork) -> None:
    """Reminder handler: open the round of `year` for a plan item, and schedule the next year's."""
    source = await uow.sources.get(payload["plan_id"], payload["item_id"])
    if source is None or not source.active:
        return
    year = int(payload["year"])
    window = window_for(dict(source.timing), year, source.issued_on)
    if window is not None:
        await _open_planned_round(uow, source, window)
    await _schedule_next(uow, source, year)


async def _schedule_next(uow: AwardsUnitOfWork, source: RoundSource, after_year: int) -> None:
    nxt = next_opening(dict(source.timing), after_year, source.issued_on)
    if nxt is None:
        return
    due, window = nxt
    key = f"{_reminder_prefix(source.plan_id, source.item_id)}{window.year}:r{source.plan_revision}"
    await schedule(uow.session, key, OPEN_PLANNED_ROUND, datetime.combine(due, time.min, tzinfo=TZ),
                   {"plan_id": source.plan_id, "item_id": source.item_id, "year": window.year})


async def _open_planned_round(uow: AwardsUnitOfWork, source: RoundSource, window: Window) -> Round:
    existing = await uow.rounds.by_source(source.plan_id, source.item_id, window.year)
    if existing is not None:
        return existing
    issuer = await uow.directory.unit(source.issuer_unit_id)
    if issuer is None:  # plans registers its units before it issues their plans: wait for it
        raise Retry(f"issuer {source.issuer_unit_id} of plan {source.plan_id} not known here yet")
    forms = await uow.rounds.forms()
    rnd = new_round(
        round_id=digest_id("round", source.plan_id, source.item_id, str(window.year)),
        name=planned_round_name(window, source.plan_number), level=level_for_kind(issuer.kind),
        issuer_unit_id=source.issuer_unit_id, opens_on=window.opens_on, closes_on=window.closes_on,
        anchor_on=window.anchor_on, report_period=None, require_report_accepted=True, requirement_id=None,
        min_rating="good", collective_categories=DEFAULT_COLLECTIVE_CATEGORIES,
        individual_categories=DEFAULT_INDIVIDUAL_CATEGORIES, forms=default_forms(forms, issuer.kind), quotas={},
        opened_at=uow.now(), opened_by=None, source_plan_id=source.plan_id, source_item_id=source.item_id)
    await uow.rounds.add(rnd)
    await emit_round_opened(uow, rnd, forms)
    return rnd
