"""Use cases of reporting requirements and forms: opening a requirement (by command, or from plans'
plan.issued), the yearly roll, reminders before and after the due date, forms as data."""

from __future__ import annotations

import hashlib
import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from contracts.api import reports as api
from contracts.envelope import CloudEvent
from contracts.events import plans as plans_ev
from contracts.events import reports as ev
from runtime.access import Action, decide
from runtime.auth import Principal
from runtime.errors import DomainError, Invalid, NotFound, conflict, not_found
from runtime.logging import get_logger
from runtime.scheduler import cancel, reminders, schedule, schedule_many
from services.reports.domain.forms import FormDefinition, FormDefinitionError
from services.reports.domain.model import DRAFT, RETURNED, VN_TZ, Requirement, local_day
from services.reports.domain.requirements import ItemTemplate, TimingSpec, first_period, template_of
from services.reports.service_layer.context import Context, authorize
from services.reports.service_layer.unit_of_work import ReportsUnitOfWork

log = get_logger("reports.requirements")

ROLL = "requirement_roll"


def view(q: Requirement, duplicate: bool = False) -> api.RequirementView:
    return api.RequirementView(
        requirement_id=q.requirement_id, name=q.name, content=q.content, issuer_unit_id=q.issuer_unit_id,
        receiving_unit_id=q.receiving_unit_id, receiving_department=q.receiving_department,
        reporting_kinds=list(q.reporting_kinds), period=q.period, due_date=q.due_date,
        grace_days=q.grace_days, cutoff_date=q.cutoff_date, hierarchy_as_of=q.as_of, form_id=q.form_id,
        form_version=q.form_version, reminder_days=list(q.reminder_days), source_plan_id=q.source_plan_id,
        source_item_id=q.source_item_id, opened_at=q.opened_at, duplicate=duplicate)


def _same_terms(a: Requirement, b: Requirement) -> bool:
    keep = ("opened_at", "requirement_id")
    return all(getattr(a, f) == getattr(b, f) for f in a.__dataclass_fields__ if f not in keep)


async def _open(uow: ReportsUnitOfWork, ctx: Context, q: Requirement, opened_by: str | None) -> None:
    """Store a new requirement, schedule its reminders, announce it (same transaction)."""
    await uow.requirements.add(q, opened_by)
    await schedule_many(uow.session, [{"key": key, "kind": kind, "due_at": at, "payload": payload}
                                      for key, kind, at, payload in q.reminders(uow.now())])
    await uow.emit(ev.RequirementOpened(
        requirement_id=q.requirement_id, name=q.name, issuer_unit_id=q.issuer_unit_id,
        receiving_unit_id=q.receiving_unit_id, receiving_department=q.receiving_department,
        reporting_kinds=list(q.reporting_kinds), period=q.period, due_date=q.due_date,
        grace_days=q.grace_days, cutoff_date=q.cutoff_date, form_id=q.form_id, form_version=q.form_version,
        source_plan_id=q.source_plan_id, source_item_id=q.source_item_id, hierarchy_as_of=q.hierarchy_as_of),
        subject=q.requirement_id, event_id=f"opened-{_digest(q.requirement_id)}")


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:40]


async def open_requirement(cmd: api.OpenRequirement, who: Principal, uow: ReportsUnitOfWork,
                           ctx: Context) -> api.RequirementView:
    async with uow:
        today = local_day(uow.now())
        for field, unit_id in (("issuer_unit_id", cmd.issuer_unit_id), ("receiving_unit_id", cmd.receiving_unit_id)):
            if unit_id and not await uow.hierarchy.has_unit(unit_id):
                raise NotFound(f"Không tìm thấy đơn vị {unit_id} trong danh mục đơn vị của dịch vụ báo cáo.", field)
        # A requirement is issued by the leaders of the issuing unit for its subtree.
        actor = await authorize(uow, who, Action.ISSUE, cmd.issuer_unit_id, today, field="issuer_unit_id")
        form = await ctx.form(uow, cmd.form_id, cmd.form_version)
        q = Requirement(
            requirement_id=cmd.requirement_id or f"rq-{uuid.uuid4().hex[:20]}", name=cmd.name,
            issuer_unit_id=cmd.issuer_unit_id, receiving_unit_id=cmd.receiving_unit_id or cmd.issuer_unit_id,
            reporting_kinds=tuple(str(k) for k in cmd.reporting_kinds), period=cmd.period, due_date=cmd.due_date,
            form_id=form.form_id, form_version=form.version, grace_days=cmd.grace_days,
            cutoff_date=cmd.cutoff_date, hierarchy_as_of=cmd.hierarchy_as_of, content=cmd.content,
            receiving_department=cmd.receiving_department,
            reminder_days=tuple(cmd.reminder_days) if cmd.reminder_days is not None else ctx.config.reminder_days,
            opened_at=uow.now())
        existing = await ctx.requirement(uow, q.requirement_id)
        if existing is not None:
            if _same_terms(existing, q):
                return view(existing, duplicate=True)
            raise conflict(f"Yêu cầu báo cáo {q.requirement_id} đã được mở với các điều kiện khác.",
                           field="requirement_id")
        await _open(uow, ctx, q, actor.label)
        await uow.commit()
        ctx.remember(q)
        return view(q)


async def get_requirement(cmd: api.GetRequirement, who: Principal, uow: ReportsUnitOfWork,
                          ctx: Context) -> api.RequirementView:
    async with uow:
        q = await ctx.requirement(uow, cmd.requirement_id)
        if q is None:
            raise not_found(f"yêu cầu báo cáo {cmd.requirement_id}", "requirement_id")
        if not await _sees(uow, who, q):
            await authorize(uow, who, Action.READ_ISSUED, q.issuer_unit_id, q.as_of, req=q, field="requirement_id")
        return view(q)


async def _sees(uow: ReportsUnitOfWork, who: Principal, q: Requirement) -> bool:
    """A requirement is seen by the issuer's subtree (those who report, and the levels above it)
    and by the receiving side (its receiving unit and those who may read it)."""
    actor = await uow.directory.actor(who, local_day(uow.now()))
    for unit_id in dict.fromkeys((q.issuer_unit_id, q.receiving_unit_id)):
        if decide(actor, Action.READ_ISSUED, await uow.directory.target(unit_id, q.as_of)):
            return True
    return False


async def list_requirements(cmd: api.ListRequirements, who: Principal, uow: ReportsUnitOfWork,
                            ctx: Context) -> api.RequirementPage:
    async with uow:
        items = await uow.requirements.page(cmd.issuer_unit_id, cmd.period, cmd.limit + 1, cmd.cursor)
        more = len(items) > cmd.limit
        items = items[:cmd.limit]
        visible = [q for q in items if await _sees(uow, who, q)]
        return api.RequirementPage(items=[view(q) for q in visible],
                                   next_cursor=items[-1].requirement_id if more else None)


# --- forms ----------------------------------------------------------------------------------------

def form_view(f: FormDefinition, duplicate: bool = False) -> api.FormView:
    return api.FormView(form_id=f.form_id, version=f.version, title=f.title, definition=f.to_dict(),
                        duplicate=duplicate)


async def register_form(cmd: api.RegisterForm, who: Principal, uow: ReportsUnitOfWork, ctx: Context) -> api.FormView:
    try:
        form = FormDefinition.from_dict(cmd.definition.model_dump(exclude_none=True))
    except (FormDefinitionError, TypeError, ValueError) as exc:
        why = str(exc) if isinstance(exc, FormDefinitionError) else "Cấu trúc dữ liệu không đúng."
        raise Invalid(f"Định nghĩa biểu mẫu không hợp lệ: {why[:1].lower()}{why[1:]}", "definition") from None
    async with uow:
        # Forms serve every requirement below: their leaders publish them at the top of the tree.
        today = local_day(uow.now())
        actor = await uow.directory.actor(who, today)
        top = (actor.unit_ancestors[-1] if actor.unit_ancestors else actor.unit_id) if actor.is_person else None
        actor = await authorize(uow, who, Action.ISSUE, top, today, field="definition")
        try:
            known = await ctx.form(uow, form.form_id, form.version)
        except DomainError:
            known = None
        if known is not None:
            if known == form:
                return form_view(known, duplicate=True)
            raise conflict(f"Biểu mẫu {form.form_id} v{form.version} đã có với nội dung khác; hãy ban hành một phiên bản "
                           "mới.", field="definition.version")
        await uow.forms.add(form.form_id, form.version, form.to_dict(), uow.now(), actor.label)
        await uow.emit(ev.FormRegistered(form_id=form.form_id, version=form.version, title=form.title,
                                         fields=len(form.fields), by_unit_id=top),
                       subject=f"{form.form_id}:{form.version}")
        await uow.commit()
    ctx.forms.register(form)
    return form_view(form)


async def get_form(cmd: api.GetForm, who: Principal, uow: ReportsUnitOfWork, ctx: Context) -> api.FormView:
    async with uow:
        return form_view(await ctx.form(uow, cmd.form_id, cmd.version))


# --- plans' events --------------------------------------------------------------------------------

def _template(d: plans_ev.PlanIssued, item: plans_ev.PlanItemRef) -> ItemTemplate | None:
    t = item.timing
    timing = TimingSpec(kind=str(t.kind), year=t.year, month=t.month, day=t.day, quarter=t.quarter,
                        end_month=t.end_month, end_day=t.end_day)
    parties = [p.model_dump(mode="json") for p in item.responsible]
    return template_of(d.plan_id, d.number, d.title, d.issuer_unit_id, item.item_id, str(item.output), item.content,
                       timing, parties)


async def _ensure(uow: ReportsUnitOfWork, ctx: Context, t: ItemTemplate, period: str, due: Any) -> Requirement:
    """The requirement of (plan, item, period): opened once; later calls find it."""
    existing = await uow.requirements.by_source(t.plan_id, t.item_id, period)
    if existing is not None:
        return existing
    form = await ctx.form(uow, ctx.config.default_form_id, None)
    q = Requirement(requirement_id=t.requirement_id(period), name=t.name(period), issuer_unit_id=t.issuer_unit_id,
                    receiving_unit_id=t.issuer_unit_id, reporting_kinds=t.reporting_kinds, period=period,
                    due_date=due, form_id=form.form_id, form_version=form.version, content=t.content[:20_000],
                    receiving_department=t.receiving_department, reminder_days=ctx.config.reminder_days,
                    source_plan_id=t.plan_id, source_item_id=t.item_id, opened_at=uow.now())
    await _open(uow, ctx, q, None)
    log.info("requirement opened from plan", requirement_id=q.requirement_id, plan_id=t.plan_id, item_id=t.item_id,
             period=period, due_date=due.isoformat())
    return q


async def _schedule_roll(uow: ReportsUnitOfWork, t: ItemTemplate, year: int) -> None:
    await schedule(uow.session, f"roll:{t.plan_id}:{t.item_id}:{year}", ROLL,
                   datetime(year, 1, 1, 0, 0, tzinfo=VN_TZ), {"template": t.to_dict(), "year": year})


async def on_plan_issued(event: CloudEvent[plans_ev.PlanIssued], uow: ReportsUnitOfWork, ctx: Context) -> None:
    """Open the requirement of each report item of the plan (see domain/requirements.py), once per
    (plan, item, period); a re-issue opens what is new and stops the yearly roll of report items it
    dropped. Requirements already open keep their terms."""
    d = event.data
    today = local_day(uow.now())
    current: set[str] = set()
    for item in d.items:
        t = _template(d, item)
        if t is None:
            continue
        current.add(item.item_id)
        first = first_period(t, d.issued_on, today)
        if first is None:
            continue
        period, due = first
        await _ensure(uow, ctx, t, period, due)
        if t.timing.yearly:
            await _schedule_roll(uow, t, int(period) + 1)
    pending = (await uow.session.execute(sa.select(reminders.c.key).where(
        reminders.c.key.startswith(f"roll:{d.plan_id}:", autoescape=True), reminders.c.fired_at.is_(None),
        reminders.c.cancelled.is_(False)))).scalars().all()
    for key in pending:
        item_id = key[len(f"roll:{d.plan_id}:"):].rsplit(":", 1)[0]
        if item_id not in current:
            await cancel(uow.session, key)


async def on_plan_closed(event: CloudEvent[plans_ev.PlanClosed], uow: ReportsUnitOfWork, ctx: Context) -> None:
    """A closed plan asks no further year: its yearly rolls stop (open requirements stay)."""
    await cancel(uow.session, f"roll:{event.data.plan_id}:")


async def on_roll(payload: dict[str, Any], uow: ReportsUnitOfWork, ctx: Context) -> None:
    """1 January: open this year's requirement of a yearly report item, and schedule next year's."""
    t = ItemTemplate.from_dict(payload["template"])
    year = int(payload["year"])
    await _ensure(uow, ctx, t, str(year), t.timing.due_in(year))
    await _schedule_roll(uow, t, year + 1)


# --- reminders: one per requirement and offset, fanned out per missing unit when it fires -----------

async def missing_units(uow: ReportsUnitOfWork, q: Requirement) -> list[tuple[str, str | None]]:
    """(unit, parent) of the expected units on the period's hierarchy without a current submission
    (none, a draft, or returned)."""
    snap = await uow.hierarchy.snapshot(q.as_of)
    if q.issuer_unit_id not in snap:
        log.warning("issuer not in the hierarchy of the period", requirement_id=q.requirement_id,
                    as_of=q.as_of.isoformat())
        return []
    statuses = await uow.reports.statuses(q.requirement_id, q.period)
    out = []
    for u in snap.units_of_kinds(q.reporting_kinds, under=q.issuer_unit_id):
        if statuses.get(u) in (None, DRAFT, RETURNED):
            out.append((u, snap.parent_of(u)))
    return out


async def on_deadline_approaching(payload: dict[str, Any], uow: ReportsUnitOfWork, ctx: Context) -> None:
    q = await ctx.requirement(uow, payload["requirement_id"])
    if q is None:
        return
    n = int(payload["days_before"])
    items = [(ev.ReportDeadlineApproaching(requirement_id=q.requirement_id, period=q.period, unit_id=u,
                                           receiving_unit_id=parent or q.receiving_unit_id, name=q.name,
                                           due_date=q.due_date, days_before=n),
              u, f"da-{_digest(f'{q.requirement_id}:{n}:{u}')}") for u, parent in await missing_units(uow, q)]
    await uow.emit_many(items)  # ids from (requirement, offset, unit): once per unit
    log.info("deadline approaching", requirement_id=q.requirement_id, days_before=n, units=len(items))


async def on_overdue(payload: dict[str, Any], uow: ReportsUnitOfWork, ctx: Context) -> None:
    q = await ctx.requirement(uow, payload["requirement_id"])
    if q is None:
        return
    items = [(ev.ReportOverdue(requirement_id=q.requirement_id, period=q.period, unit_id=u,
                               receiving_unit_id=parent or q.receiving_unit_id, name=q.name, due_date=q.due_date),
              u, f"od-{_digest(f'{q.requirement_id}:{u}')}") for u, parent in await missing_units(uow, q)]
    await uow.emit_many(items)
    log.info("reports overdue", requirement_id=q.requirement_id, units=len(items))
