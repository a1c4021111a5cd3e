"""Use cases of task occurrences: a unit's list, updates (in progress; done with evidence), the
"build your plan" completion by an implementation plan, withdrawal, and progress rollups."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from contracts.api import plans as api
from contracts.events import plans as ev
from runtime.access import Action
from runtime.auth import Principal
from runtime.errors import not_found
from services.plans.domain.hierarchy import Hierarchy
from services.plans.domain.plans import reminder_key
from services.plans.domain.tasks import (
    CATEGORY_LABELS,
    DONE,
    WITHDRAWN,
    Tally,
    apply_update,
    category,
    check_done_on,
    reference_date,
)
from services.plans.domain.timing import is_on_time
from services.plans.service_layer.common import (
    DEFAULT_CONFIG,
    PlansConfig,
    authorize,
    invalid,
    next_cursor,
    offset_of,
    today,
)
from services.plans.service_layer.unit_of_work import PlansUnitOfWork


async def cancel_reminders(uow: PlansUnitOfWork, rows: list[Any], offsets: tuple[int, ...]) -> None:
    """Cancel the pending deadline reminders of these occurrences, by their exact keys (an index
    lookup). Only an economy: the reminder handler checks the occurrence anyway and emits nothing
    for one that is done, withdrawn or re-dated — so a key missed here (offsets configured
    differently back then) costs a no-op, not a wrong event."""
    labels: tuple[int | str, ...] = (*offsets, "missed")
    keys = [reminder_key(r.plan_id, r.occurrence_id, rev, o) for r in rows for rev in range(1, r.revision + 1)
            for o in labels]
    await uow.reminders.cancel_keys(keys)


def is_future(due: date | None, period: str, on: date) -> bool:
    """Still ahead on `on`: due on or after it, or (no due date) in its year or later."""
    return due >= on if due is not None else int(period[:4]) >= on.year


async def withdraw(uow: PlansUnitOfWork, rows: list[Any], reason: str, offsets: tuple[int, ...]) -> int:
    """Withdraw occurrences (never done ones) and cancel their reminders. No event: the contract
    has no "withdrawn"; consumers learn it from the plan's new revision or closure, or the unit's."""
    ids = [r.occurrence_id for r in rows if r.status not in (DONE, WITHDRAWN)]
    if not ids:
        return 0
    await uow.tasks.update_many(ids, status=WITHDRAWN, withdrawn_reason=reason, updated_at=uow.now())
    await cancel_reminders(uow, [r for r in rows if r.status not in (DONE, WITHDRAWN)], offsets)
    return len(ids)


async def withdraw_unit_tasks(uow: PlansUnitOfWork, unit_ids: list[str], on: date, reason: str,
                              offsets: tuple[int, ...]) -> int:
    """A unit closed or merged on `on`: its occurrences still ahead are withdrawn (a survivor has
    its own); the past stays as it was, overdue or not."""
    rows = [r for r in await uow.tasks.not_done(unit_ids=unit_ids) if is_future(r.due_date, r.period, on)]
    return await withdraw(uow, rows, reason, offsets)


async def withdraw_out_of_scope(uow: PlansUnitOfWork, h: Hierarchy, unit_ids: list[str], on: date,
                                offsets: tuple[int, ...]) -> int:
    """Units moved on `on` (with their subtrees): their occurrences still ahead under plans whose
    issuer is no longer above them are withdrawn (e.g. a union moved to another province). What
    they did before stays where they belonged; the new parent's plans reach them at the next
    yearly roll or revision."""
    rows = [r for r in await uow.tasks.not_done(unit_ids=unit_ids) if is_future(r.due_date, r.period, on)]
    issuers: dict[str, str] = {}
    for plan_id in {r.plan_id for r in rows}:
        plan = await uow.plans.get(plan_id)
        issuers[plan_id] = plan.issuer_unit_id if plan else ""
    out = [r for r in rows if issuers[r.plan_id] != r.unit_id and not h.is_ancestor(issuers[r.plan_id], r.unit_id, on)]
    return await withdraw(uow, out, "unit_moved_out", offsets)


async def item_contents(uow: PlansUnitOfWork, keys: set[tuple[str, int]]) -> dict[tuple[str, int], dict[str, str]]:
    """(plan, revision) -> item id -> content, from the stored revision documents."""
    docs = await uow.plans.documents(keys)
    return {k: {it["item_id"]: it["content"] for s in d.get("sections") or [] for it in s.get("items") or []}
            for k, d in docs.items()}


def task_view(r: Any, content: str, on: date) -> api.TaskView:
    return api.TaskView(occurrence_id=r.occurrence_id, plan_id=r.plan_id, revision=r.revision, item_id=r.item_id,
                        unit_id=r.unit_id, period=r.period, start_date=r.start_date, due_date=r.due_date,
                        output=r.output, content=content, status=r.status if r.status != WITHDRAWN else "open",
                        category=category(r.status, r.due_date, r.on_time, on, r.period), done_on=r.done_on,
                        on_time=r.on_time, evidence=r.evidence, recorded_by=r.updated_by,
                        recorded_at=r.updated_at)


async def list_tasks(cmd: api.ListTasks, who: Principal, uow: PlansUnitOfWork,
                     cfg: PlansConfig = DEFAULT_CONFIG) -> api.TaskPage:
    async with uow:
        await authorize(uow, who, Action.READ, cmd.unit_id)
        on = today(uow)
        rows = await uow.tasks.list_for_unit(cmd.unit_id, cmd.plan_id, cmd.year, cmd.status.value if cmd.status else None)
        if cmd.category:
            rows = [r for r in rows if category(r.status, r.due_date, r.on_time, on, r.period) == cmd.category]
        offset = offset_of(cmd.page.cursor)
        page = rows[offset:offset + cmd.page.limit]
        contents = await item_contents(uow, {(r.plan_id, r.revision) for r in page})
        return api.TaskPage(total=len(rows),
                            items=[task_view(r, contents.get((r.plan_id, r.revision), {}).get(r.item_id, ""), on)
                                   for r in page],
                            next_cursor=next_cursor(offset, cmd.page.limit, len(rows)))


async def update_task(cmd: api.UpdateTask, who: Principal, uow: PlansUnitOfWork,
                      cfg: PlansConfig = DEFAULT_CONFIG) -> api.TaskView:
    async with uow:
        row = await uow.tasks.get(cmd.occurrence_id, for_update=True)
        if row is None:
            raise not_found(f"nhiệm vụ {cmd.occurrence_id}", "occurrence_id")
        actor = await authorize(uow, who, Action.ACT, row.unit_id, field="occurrence_id")
        on = today(uow)
        if cmd.status == DONE and row.status != DONE:  # the day it was done: the rule of completion dates
            plan = await uow.plans.get(row.plan_id)
            check_done_on(cmd.done_on or on, on, period=row.period, start=row.start_date,
                          issued_on=plan.issued_on if plan is not None else None, due=row.due_date)
        change = apply_update(row.status, row.evidence, row.done_on, row.due_date, cmd.status, cmd.evidence,
                              cmd.done_on, on)
        contents = await item_contents(uow, {(row.plan_id, row.revision)})
        content = contents.get((row.plan_id, row.revision), {}).get(row.item_id, "")
        if change.unchanged:
            return task_view(row, content, on)
        await uow.tasks.update(row.occurrence_id, status=change.status, done_on=change.done_on, on_time=change.on_time,
                               evidence=change.evidence, updated_at=uow.now(), updated_by=actor.label)
        if change.status == DONE:
            await cancel_reminders(uow, [row], cfg.deadline_offsets)
        await emit_task_updated(uow, row, change.status, change.done_on, change.on_time, change.evidence, actor.label)
        await uow.commit()
        updated = await uow.tasks.get(row.occurrence_id)
        return task_view(updated, content, on)


async def emit_task_updated(uow: PlansUnitOfWork, row: Any, status: str, done_on: date | None, on_time: bool | None,
                            evidence: str | None, recorded_by: str | None = None) -> None:
    await uow.emit(ev.TaskUpdated(
        occurrence_id=row.occurrence_id, plan_id=row.plan_id, item_id=row.item_id, unit_id=row.unit_id,
        period=row.period, status=status, due_date=row.due_date, done_on=done_on, on_time=on_time,
        evidence=evidence, recorded_by=recorded_by), subject=row.occurrence_id)


async def complete_plan_tasks(uow: PlansUnitOfWork, parent_plan_id: str, unit_id: str, year: int, on: date,
                              evidence: str, actor_id: str | None, offsets: tuple[int, ...]) -> tuple[list[str], bool]:
    """A unit's implementation plan for `year` completes its open "plan" occurrences of the parent
    plan in that year. Returns (completed occurrence ids, on time against the earliest due date)."""
    rows = [r for r in await uow.tasks.of_unit_for_output(parent_plan_id, unit_id, "plan")
            if r.period.startswith(str(year)) and r.status != WITHDRAWN]
    dues = [r.due_date for r in rows if r.due_date is not None]
    on_time = is_on_time(on, min(dues)) if dues else True
    completed = []
    for r in rows:
        if r.status == DONE:
            continue
        ok = is_on_time(on, r.due_date)
        await uow.tasks.update(r.occurrence_id, status=DONE, done_on=on, on_time=ok, evidence=evidence,
                               updated_at=uow.now(), updated_by=actor_id)
        await cancel_reminders(uow, [r], offsets)
        await emit_task_updated(uow, r, DONE, on, ok, evidence, actor_id)
        completed.append(r.occurrence_id)
    return completed, on_time


# --- rollup ------------------------------------------------------------------------------------

def _active_day(h: Hierarchy, unit: str, day: date) -> date | None:
    """`day` if the unit existed then, else the nearest day it did (its last, or its first)."""
    if h.is_active(unit, day):
        return day
    if not h.is_registered(unit):
        return None
    vs = h.versions(unit)
    if day < vs[0].valid_from:
        return vs[0].valid_from
    last = vs[-1]
    return last.valid_to - timedelta(days=1) if last.valid_to else None


async def get_rollup(cmd: api.GetRollup, who: Principal, uow: PlansUnitOfWork,
                     cfg: PlansConfig = DEFAULT_CONFIG) -> api.RollupReply:
    async with uow:
        root = cmd.root_unit_id
        if cmd.plan_id:
            plan = await uow.plans.get(cmd.plan_id)
            if plan is None:
                raise not_found(f"kế hoạch {cmd.plan_id}", "plan_id")
            root = root or plan.issuer_unit_id
        if root is None:
            raise invalid("Cần ghi đơn vị gốc (root_unit_id) hoặc kế hoạch (plan_id).", "root_unit_id")
        await authorize(uow, who, Action.READ, root, field="root_unit_id")
        on = today(uow)
        h, info = await uow.directory.load_hierarchy()
        groups = await uow.tasks.grouped(cmd.plan_id, cmd.year)
        totals, own = Tally(), Tally()
        by_child: dict[str, Tally] = {}
        paths: dict[tuple[str, date], list[str]] = {}
        for g in groups:
            ref = reference_date(g.due_date, str(g.year), on)
            day = _active_day(h, g.unit_id, ref)
            if day is None:
                continue
            key = (g.unit_id, day)
            path = paths.get(key)
            if path is None:
                path = paths[key] = [g.unit_id, *h.ancestors(g.unit_id, day)]
            if root not in path:
                continue
            cat = category(g.status, g.due_date, g.on_time, on, str(g.year))
            totals.add(cat, g.n)
            i = path.index(root)
            if i == 0:
                own.add(cat, g.n)
            elif cmd.by_child:
                by_child.setdefault(path[i - 1], Tally()).add(cat, g.n)
        children: list[api.ChildRollup] = []
        if cmd.by_child:
            current = h.children(root, on) if h.is_active(root, on) else []
            for c in current:
                by_child.setdefault(c, Tally())
            for c in sorted(by_child, key=lambda u: (info[u].code if u in info else u)):
                children.append(api.ChildRollup(unit_id=c, name=info[c].name if c in info else c,
                                                counts=api.Counts(**by_child[c].as_dict())))
        return api.RollupReply(root_unit_id=root, plan_id=cmd.plan_id, year=cmd.year, as_of=on,
                               labels=dict(CATEGORY_LABELS), totals=api.Counts(**totals.as_dict()),
                               own=api.Counts(**own.as_dict()), children=children)
