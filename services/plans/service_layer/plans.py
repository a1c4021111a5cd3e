"""Use cases of plans: drafts, issuing (with the cascade into task occurrences and their
deadline reminders), revisions that never rewrite history, closing, implementation plans of
units, queries, and the yearly roll of the horizon."""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from contracts.api import plans as api
from contracts.events import plans as ev
from contracts.types import ID_PATTERN
from runtime.access import Action, Actor
from runtime.auth import Principal
from runtime.collector import collector_paused
from runtime.db import SerializedData
from runtime.errors import conflict, not_found
from runtime.logging import get_logger
from services.plans.domain.hierarchy import HierarchyError
from services.plans.domain.plans import (
    CLOSED,
    DRAFT,
    ISSUED,
    STATUS_LABELS,
    Org,
    PlanDoc,
    PlanError,
    cascade,
    check_resolvable,
    first_year_of,
    horizon_end,
    item_timing,
    occurrence_id,
    parse_document,
    plan_issued_data,
    plan_role_holders,
    reminder_key,
    reminders_for,
)
from services.plans.domain.tasks import DONE, OPEN, WITHDRAWN
from services.plans.domain.timing import VN_TZ, to_dict
from services.plans.domain.timing import label as timing_label
from services.plans.service_layer.common import (
    DEFAULT_CONFIG,
    PlansConfig,
    actor_of,
    authorize,
    invalid,
    next_cursor,
    offset_of,
    refused,
    today,
)
from services.plans.service_layer.tasks import cancel_reminders, complete_plan_tasks, is_future, withdraw
from services.plans.service_layer.unit_of_work import PlansUnitOfWork

log = get_logger("plans.cascade")

MAX_REFS_PER_EVENT = 2000  # TasksAssigned.occurrences max_length


async def build_org(uow: PlansUnitOfWork) -> Org:
    h, info = await uow.directory.load_hierarchy()
    return Org(hierarchy=h, kinds={u: r.kind for u, r in info.items()}, codes={u: r.code for u, r in info.items()},
               role_units=await uow.directory.role_units())


def _summary(row: Any) -> api.PlanSummary:
    return api.PlanSummary(plan_id=row.plan_id, status=row.status, current_revision=row.current_revision,
                           number=row.number, title=row.title, issuer_unit_id=row.issuer_unit_id,
                           parent_plan_id=row.parent_plan_id, issued_on=row.issued_on, closed_on=row.closed_on)


async def _view(uow: PlansUnitOfWork, row: Any, revision: int | None = None) -> api.PlanView:
    revisions = await uow.plans.revisions(row.plan_id)
    document = row.document
    shown = row.current_revision
    if revision is not None and revision != row.current_revision:
        rev = await uow.plans.revision(row.plan_id, revision)
        if rev is None:
            raise not_found(f"phiên bản {revision} của kế hoạch {row.plan_id}", "revision")
        document, shown = rev.document, revision
    return api.PlanView(plan_id=row.plan_id, status=row.status, revision=shown, current_revision=row.current_revision,
                        number=document["number"], title=document["title"], issuer_unit_id=row.issuer_unit_id,
                        parent_plan_id=row.parent_plan_id, issued_on=row.issued_on, closed_on=row.closed_on,
                        materialized_to=row.materialized_to,
                        revisions=[api.RevisionInfo(revision=r.revision, issued_on=r.issued_on, issued_at=r.issued_at,
                                                    issued_by=r.issued_by, note=r.note) for r in revisions],
                        document=api.PlanDocument.model_validate(document), timings=_timings(row, document))


def _timings(row: Any, document: dict[str, Any]) -> list[api.ItemTiming]:
    """Each item's timing as plans reads it, with its dates from the plan's year to the last one
    materialised (the next year for a draft)."""
    first = row.issued_on.year if row.issued_on else None
    out = []
    for s in document.get("sections") or []:
        for it in s.get("items") or []:
            try:
                t = item_timing(it.get("timing"), it.get("timing_text"), it["item_id"])
            except PlanError:
                continue  # a draft's unreadable timing: issuing it says why
            start = first or today_year(row)
            last = max(start, row.materialized_to or start)
            dues = [api.DueDate(period=o.period, start=o.start, due=o.due) for o in t.occurrences(start, last)[:20]]
            out.append(api.ItemTiming(item_id=it["item_id"], kind=t.to_dict()["kind"], label=timing_label(t),
                                      timing=to_dict(t), due_dates=dues))
    return out


def today_year(row: Any) -> int:
    return (row.updated_at or row.created_at).year


async def _check_parent_plan(uow: PlansUnitOfWork, parent_plan_id: str | None, field: str) -> Any:
    if parent_plan_id is None:
        return None
    parent = await uow.plans.get(parent_plan_id)
    if parent is None:
        raise not_found(f"kế hoạch cấp trên {parent_plan_id}", field)
    if parent.status != ISSUED:
        raise refused(f"Kế hoạch cấp trên {parent_plan_id} {STATUS_LABELS.get(parent.status, parent.status)}, "
                      f"không phải kế hoạch đang ban hành.", field)
    return parent


# --- drafts -------------------------------------------------------------------------------------

async def create_plan(cmd: api.CreatePlan, who: Principal, uow: PlansUnitOfWork,
                      cfg: PlansConfig = DEFAULT_CONFIG) -> api.PlanView:
    document = cmd.document.model_dump(mode="json")
    parse_document(document)  # a PlanError: 422, naming the field
    async with uow:
        # Drafting is the unit's acting people's (or a plan_issuer identity's) work; issuing is its leaders'.
        actor = await _drafter(uow, who, cmd.document.issuer_unit_id)
        plan_id = cmd.plan_id or f"kh-{uuid.uuid4().hex[:12]}"
        existing = await uow.plans.get(plan_id)
        if existing is not None:
            if existing.status == DRAFT and existing.document == document:
                return await _view(uow, existing)  # a retry
            if existing.status != DRAFT and (await uow.plans.revision(plan_id, 1)).document == _with_date(
                    document, existing.issued_on):
                return await _view(uow, existing)  # a retry after the plan was issued
            raise conflict(f"Mã kế hoạch {plan_id} đã dùng cho một kế hoạch có nội dung khác.", field="plan_id")
        await _check_parent_plan(uow, cmd.document.parent_plan_id, "document.parent_plan_id")
        now = uow.now()
        await uow.plans.add(plan_id=plan_id, kind="plan", number=cmd.document.number, title=cmd.document.title,
                            issuer_unit_id=cmd.document.issuer_unit_id, parent_plan_id=cmd.document.parent_plan_id,
                            status=DRAFT, current_revision=0, document=document, year=None, issued_on=None,
                            closed_on=None, materialized_to=None, created_at=now, updated_at=now,
                            created_by=actor.label)
        await uow.commit()
        return await _view(uow, await uow.plans.get(plan_id))


def _with_date(document: dict[str, Any], issued_on: date | None) -> dict[str, Any]:
    return {**document, "issued_on": issued_on.isoformat() if issued_on else None}


async def update_plan(cmd: api.UpdatePlan, who: Principal, uow: PlansUnitOfWork,
                      cfg: PlansConfig = DEFAULT_CONFIG) -> api.PlanView:
    document = cmd.document.model_dump(mode="json")
    parse_document(document)  # a PlanError: 422, naming the field
    async with uow:
        row = await uow.plans.get(cmd.plan_id, for_update=True)
        if row is None:
            raise not_found(f"kế hoạch {cmd.plan_id}", "plan_id")
        await _drafter(uow, who, row.issuer_unit_id)
        if row.status != DRAFT:
            raise refused(f"Kế hoạch {cmd.plan_id} {STATUS_LABELS.get(row.status, row.status)}, không còn là dự thảo: "
                          f"kế hoạch đã ban hành chỉ được điều chỉnh bằng một phiên bản mới.", "plan_id")
        if cmd.document.issuer_unit_id != row.issuer_unit_id:
            raise refused("Không thể đổi đơn vị ban hành của kế hoạch; hãy lập một kế hoạch khác.",
                          "document.issuer_unit_id")
        await _check_parent_plan(uow, cmd.document.parent_plan_id, "document.parent_plan_id")
        await uow.plans.update(cmd.plan_id, document=document, number=cmd.document.number, title=cmd.document.title,
                               parent_plan_id=cmd.document.parent_plan_id, updated_at=uow.now())
        await uow.commit()
        return await _view(uow, await uow.plans.get(cmd.plan_id))


# --- the cascade ----------------------------------------------------------------------------------

@dataclass
class Stats:
    units: int = 0
    created: int = 0
    changed: int = 0
    withdrawn: int = 0
    reminders: int = 0


_OCCURRENCE_ID = re.compile(ID_PATTERN)
_REF_HEAD = '{"occurrence_id":"x",'


class _Assigned:
    """A cascade's tasks.assigned events (one per unit, split at MAX_REFS_PER_EVENT), serialised
    from validated parts: each (item, period, due date) reference is validated once as an
    OccurrenceRef, each unit's header once as a TasksAssigned, each occurrence id against the Id
    pattern; the JSON is what ``TasksAssigned(...).model_dump_json()`` gives (a test compares)."""

    def __init__(self, plan_id: str, revision: int, number: str) -> None:
        self.plan_id, self.revision, self.number = plan_id, revision, number
        self.per_unit: dict[str, list[str]] = defaultdict(list)
        self._tails: dict[tuple[str, str, date | None], str] = {}

    def add(self, unit_id: str, occ: str, item: Any, period: str, due: date | None) -> None:
        key = (item.item_id, period, due)
        tail = self._tails.get(key)
        if tail is None:
            ref = ev.OccurrenceRef(occurrence_id="x", item_id=item.item_id, period=period, due_date=due,
                                   output=item.output, content=item.content).model_dump_json()
            tail = self._tails[key] = ref[len(_REF_HEAD):]
        if not _OCCURRENCE_ID.match(occ):
            raise ValueError(f"occurrence id {occ!r} is not an Id")
        self.per_unit[unit_id].append(f'{{"occurrence_id":"{occ}",{tail}')

    def events(self) -> list[tuple[SerializedData, str]]:
        out = []
        for unit in sorted(self.per_unit):
            refs = self.per_unit[unit]
            head = ev.TasksAssigned(plan_id=self.plan_id, revision=self.revision, plan_number=self.number,
                                    unit_id=unit, occurrences=[]).model_dump_json().removesuffix("]}")
            out += [(SerializedData(ev.TasksAssigned, head + ",".join(refs[i:i + MAX_REFS_PER_EVENT]) + "]}"), unit)
                    for i in range(0, len(refs), MAX_REFS_PER_EVENT)]
        return out


async def materialize(uow: PlansUnitOfWork, cfg: PlansConfig, *, plan_id: str, number: str, revision: int,
                      doc: PlanDoc, org: Org, on: date, from_year: int, to_year: int, not_before: date,
                      mode: str, only_units: set[str] | None = None) -> Stats:
    """Bring the plan's occurrences in line with `doc` for [from_year, to_year], resolving the
    parties on the hierarchy of `on`. mode "issue": nothing exists yet; "roll": add what is
    missing; "revise": also change what a revision changed and withdraw what it dropped — only
    for occurrences still ahead of `not_before` and never done ones: history is not rewritten.
    Schedules the deadline reminders and emits one tasks.assigned per unit that got something."""
    skipped: list[str] = []
    try:
        planned = cascade(doc, org, on, from_year, to_year, not_before, strict=(mode != "roll"), skipped=skipped)
    except PlanError as exc:
        raise refused(str(exc), "document.sections") from None
    except HierarchyError as exc:
        raise refused(str(exc), "document.issuer_unit_id") from None
    for s in skipped:
        log.warning("roll skipped an item", plan_id=plan_id, reason=s)
    if only_units is not None:
        planned = [p for p in planned if p.unit_id in only_units]
        if not planned:
            return Stats()
    existing = {} if mode == "issue" else await uow.tasks.keys_of_plan(plan_id)
    items = {i.item_id: i for i in doc.items}
    now = uow.now()
    stats = Stats()
    new_rows: list[dict[str, Any]] = []
    new_reminders: list[dict[str, Any]] = []
    bumped: list[str] = []
    recancel: list[Any] = []
    assigned = _Assigned(plan_id, revision, number)
    seen: set[tuple[str, str, str]] = set()

    when_of: dict[date, list[tuple[str, int | str, datetime, str]]] = {}
    plan_json = json.dumps(plan_id, ensure_ascii=False)

    def schedule(occ: str, due: date | None) -> None:
        """The occurrence's deadline reminders; the payload is written as JSON text here (the same
        document json.dumps gives: a cascade schedules tens of thousands)."""
        if due is None:
            return
        whens = when_of.get(due)
        if whens is None:
            whens = when_of[due] = [(str(offset), json.dumps(offset), at, due.isoformat())
                                    for offset, at in reminders_for(due, cfg.deadline_offsets, now)]
        occ_json = json.dumps(occ, ensure_ascii=False)
        for offset, offset_json, at, due_iso in whens:
            key = reminder_key(plan_id, occ, revision, offset)
            new_reminders.append({"key": key, "kind": "deadline", "due_at": at, "payload": (
                f'{{"occurrence_id": {occ_json}, "plan_id": {plan_json}, "offset": {offset_json}, '
                f'"due": "{due_iso}", "event_id": "dl-{hashlib.sha1(key.encode()).hexdigest()[:32]}"}}')})

    for p in planned:
        key = (p.unit_id, p.item_id, p.period)
        seen.add(key)
        item = items[p.item_id]
        ex = existing.get(key)
        if ex is None:
            occ = occurrence_id(plan_id, p.unit_id, p.item_id, p.period)
            new_rows.append({"occurrence_id": occ, "plan_id": plan_id, "revision": revision, "unit_id": p.unit_id,
                             "item_id": p.item_id, "period": p.period, "start_date": p.start, "due_date": p.due,
                             "output": item.output, "status": OPEN, "done_on": None, "on_time": None,
                             "evidence": None, "withdrawn_reason": None, "updated_at": now, "updated_by": None})
            schedule(occ, p.due)
            assigned.add(p.unit_id, occ, item, p.period, p.due)
            stats.created += 1
            continue
        if mode != "revise" or ex.status == DONE:
            continue
        old_content = await _content(uow, plan_id, ex.revision, p.item_id)
        reinstated = ex.status == WITHDRAWN
        terms_changed = (ex.due_date, ex.start_date, ex.output) != (p.due, p.start, item.output)
        if reinstated or terms_changed or old_content != item.content:
            values = {"revision": revision, "due_date": p.due, "start_date": p.start, "output": item.output,
                      "updated_at": now}
            if reinstated:
                values.update(status=OPEN, withdrawn_reason=None)
            await uow.tasks.update(ex.occurrence_id, **values)
            if reinstated or ex.due_date != p.due:
                recancel.append(ex)
                schedule(ex.occurrence_id, p.due)
            assigned.add(p.unit_id, ex.occurrence_id, item, p.period, p.due)
            stats.changed += 1
        elif ex.revision != revision:
            bumped.append(ex.occurrence_id)  # same terms, now set by this revision
    if mode == "revise":
        dropped = [ex for key, ex in existing.items()
                   if key not in seen and ex.status not in (DONE, WITHDRAWN)
                   and is_future(ex.due_date, ex.period, not_before)]
        stats.withdrawn = await withdraw(uow, dropped, "plan_revised", cfg.deadline_offsets)
        await cancel_reminders(uow, recancel, cfg.deadline_offsets)
        if bumped:
            await uow.tasks.update_many(bumped, revision=revision)
    await uow.tasks.insert_many(new_rows)
    await uow.reminders.add_new(new_reminders)
    stats.reminders = len(new_reminders)
    await uow.emit_many(assigned.events())
    stats.units = len(assigned.per_unit)
    return stats


_CONTENT_CACHE: dict[tuple[str, str, int], dict[str, str]] = {}


async def _content(uow: PlansUnitOfWork, plan_id: str, revision: int, item_id: str) -> str:
    """An item's content in a revision (revisions never change: cached per database)."""
    key = (str(uow.session.get_bind().engine.url), plan_id, revision)
    if key not in _CONTENT_CACHE:
        row = await uow.plans.revision(plan_id, revision)
        if len(_CONTENT_CACHE) > 256:
            _CONTENT_CACHE.clear()
        _CONTENT_CACHE[key] = {it["item_id"]: it["content"] for s in (row.document if row else {}).get("sections", [])
                               for it in s.get("items") or []}
    return _CONTENT_CACHE[key].get(item_id, "")


async def _schedule_roll(uow: PlansUnitOfWork, plan_id: str, doc: PlanDoc, materialized_to: int) -> None:
    """On 1 January of the last materialised year, the horizon moves on by a year."""
    if doc.until_year is not None and materialized_to >= doc.until_year:
        return
    await uow.reminders.add([{"key": f"roll:{plan_id}:{materialized_to}", "kind": "plan_roll",
                              "due_at": datetime.combine(date(materialized_to, 1, 1), time.min, tzinfo=VN_TZ),
                              "payload": {"plan_id": plan_id}}])


def _issue_reply(plan_id: str, revision: int, issued_on: date, stats: Stats, duplicate: bool = False) -> api.IssueReply:
    return api.IssueReply(plan_id=plan_id, revision=revision, issued_on=issued_on, units=stats.units,
                          occurrences=stats.created, changed=stats.changed, withdrawn=stats.withdrawn,
                          reminders=stats.reminders, duplicate=duplicate)


async def issue_plan(cmd: api.IssuePlan, who: Principal, uow: PlansUnitOfWork,
                     cfg: PlansConfig = DEFAULT_CONFIG) -> api.IssueReply:
    with collector_paused():  # a cascade to thousands of units builds ~200,000 objects
        return await _issue_plan(cmd, who, uow, cfg)


async def _issue_plan(cmd: api.IssuePlan, who: Principal, uow: PlansUnitOfWork,
                      cfg: PlansConfig) -> api.IssueReply:
    async with uow:
        row = await uow.plans.get(cmd.plan_id, for_update=True)
        if row is None:
            raise not_found(f"kế hoạch {cmd.plan_id}", "plan_id")
        actor = await authorize(uow, who, Action.ISSUE, row.issuer_unit_id, field="plan_id")
        if row.status != DRAFT:
            if row.kind == "plan" and row.current_revision >= 1 and (cmd.issued_on in (None, row.issued_on)):
                return _issue_reply(row.plan_id, row.current_revision, row.issued_on, Stats(), duplicate=True)
            raise refused(f"Kế hoạch {cmd.plan_id} {STATUS_LABELS.get(row.status, row.status)}, không ban hành lại được.",
                          "plan_id")
        doc = parse_document(row.document)
        on = today(uow)
        issued_on = cmd.issued_on or doc.issued_on or on
        parent = await _check_parent_plan(uow, doc.parent_plan_id, "document.parent_plan_id")
        org = await build_org(uow)
        if not org.hierarchy.is_registered(doc.issuer_unit_id) or not org.hierarchy.is_active(doc.issuer_unit_id, issued_on):
            raise refused(f"Đơn vị ban hành {doc.issuer_unit_id} không hoạt động vào ngày {issued_on:%d/%m/%Y}.",
                          "issued_on")
        try:
            check_resolvable(doc, org, issued_on)
        except PlanError as exc:
            raise refused(str(exc), "document.sections") from None
        document = _with_date(row.document, issued_on)
        to_year = horizon_end(doc, issued_on, on)
        stats = await materialize(uow, cfg, plan_id=row.plan_id, number=doc.number, revision=1, doc=doc, org=org,
                                  on=issued_on, from_year=first_year_of(doc, issued_on), to_year=to_year,
                                  not_before=issued_on, mode="issue")
        await uow.plans.add_revision(plan_id=row.plan_id, revision=1, issued_on=issued_on, issued_at=uow.now(),
                                     issued_by=actor.label, note=None, document=document)
        await uow.plans.update(row.plan_id, status=ISSUED, current_revision=1, issued_on=issued_on, document=document,
                               materialized_to=to_year, updated_at=uow.now())
        await _schedule_roll(uow, row.plan_id, doc, to_year)
        await uow.emit(ev.PlanIssued.model_validate(plan_issued_data(
            row.plan_id, 1, doc, issued_on, plan_role_holders(doc, org, issued_on))), subject=row.plan_id)
        if parent is not None:
            await _implementation_registered(uow, cfg, row.plan_id, parent, doc.issuer_unit_id, doc.number,
                                             issued_on, issued_on.year, actor.label)
        await uow.commit()
        return _issue_reply(row.plan_id, 1, issued_on, stats)


async def _implementation_registered(uow: PlansUnitOfWork, cfg: PlansConfig, plan_id: str, parent: Any,
                                     unit_id: str, number: str, on: date, year: int,
                                     actor_id: str | None) -> tuple[list[str], bool]:
    evidence = f"Kế hoạch số {number} ngày {on:%d/%m/%Y} (mã {plan_id})"
    completed, on_time = await complete_plan_tasks(uow, parent.plan_id, unit_id, year, on, evidence, actor_id,
                                                   cfg.deadline_offsets)
    await uow.emit(ev.ImplementationPlanRegistered(
        plan_id=plan_id, parent_plan_id=parent.plan_id, unit_id=unit_id, number=number, registered_on=on,
        on_time=on_time), subject=plan_id)
    return completed, on_time


async def revise_plan(cmd: api.RevisePlan, who: Principal, uow: PlansUnitOfWork,
                      cfg: PlansConfig = DEFAULT_CONFIG) -> api.IssueReply:
    document = cmd.document.model_dump(mode="json")
    doc = parse_document(document)
    async with uow:
        row = await uow.plans.get(cmd.plan_id, for_update=True)
        if row is None:
            raise not_found(f"kế hoạch {cmd.plan_id}", "plan_id")
        actor = await authorize(uow, who, Action.ISSUE, row.issuer_unit_id, field="plan_id")
        if row.kind != "plan":
            raise refused(f"Kế hoạch {cmd.plan_id} là kế hoạch thực hiện đã đăng ký, không điều chỉnh bằng phiên bản mới.",
                          "plan_id")
        if row.status != ISSUED:
            raise refused(f"Chỉ điều chỉnh được kế hoạch đang ban hành; kế hoạch {cmd.plan_id} "
                          f"{STATUS_LABELS.get(row.status, row.status)}.", "plan_id")
        if doc.issuer_unit_id != row.issuer_unit_id:
            raise refused("Không thể đổi đơn vị ban hành của kế hoạch; hãy lập một kế hoạch khác.",
                          "document.issuer_unit_id")
        if doc.parent_plan_id != row.parent_plan_id:
            raise refused("Không thể đổi kế hoạch cấp trên của kế hoạch.", "document.parent_plan_id")
        on = today(uow)
        current = await uow.plans.revision(row.plan_id, row.current_revision)
        revised_on = cmd.issued_on or on
        document = _with_date(document, revised_on)
        if current.document == document or (cmd.issued_on is None and
                                             current.document == _with_date(document, current.issued_on)):
            return _issue_reply(row.plan_id, row.current_revision, current.issued_on, Stats(), duplicate=True)
        if revised_on < current.issued_on:
            raise refused(f"Phiên bản mới không thể có ngày trước phiên bản {row.current_revision} "
                          f"({current.issued_on:%d/%m/%Y}).", "issued_on")
        revision = row.current_revision + 1
        org = await build_org(uow)
        if not org.hierarchy.is_active(doc.issuer_unit_id, revised_on):
            raise refused(f"Đơn vị ban hành {doc.issuer_unit_id} không hoạt động vào ngày {revised_on:%d/%m/%Y}.",
                          "issued_on")
        to_year = horizon_end(doc, row.issued_on, on)
        stats = await materialize(uow, cfg, plan_id=row.plan_id, number=doc.number, revision=revision, doc=doc, org=org,
                                  on=revised_on, from_year=max(first_year_of(doc, row.issued_on), revised_on.year),
                                  to_year=to_year, not_before=revised_on, mode="revise")
        await uow.plans.add_revision(plan_id=row.plan_id, revision=revision, issued_on=revised_on,
                                     issued_at=uow.now(), issued_by=actor.label, note=cmd.note, document=document)
        await uow.plans.update(row.plan_id, current_revision=revision, document=document, number=doc.number,
                               title=doc.title, materialized_to=to_year, updated_at=uow.now())
        await _schedule_roll(uow, row.plan_id, doc, to_year)
        await uow.emit(ev.PlanIssued.model_validate(
            plan_issued_data(row.plan_id, revision, doc, revised_on, plan_role_holders(doc, org, revised_on))),
            subject=row.plan_id)
        await uow.commit()
        return _issue_reply(row.plan_id, revision, revised_on, stats)


async def close_plan(cmd: api.ClosePlan, who: Principal, uow: PlansUnitOfWork,
                     cfg: PlansConfig = DEFAULT_CONFIG) -> api.ClosePlanReply:
    async with uow:
        row = await uow.plans.get(cmd.plan_id, for_update=True)
        if row is None:
            raise not_found(f"kế hoạch {cmd.plan_id}", "plan_id")
        await authorize(uow, who, Action.ISSUE, row.issuer_unit_id, field="plan_id")
        if row.status == CLOSED:
            return api.ClosePlanReply(plan_id=row.plan_id, closed_on=row.closed_on, withdrawn=0)
        if row.status == DRAFT:
            raise refused(f"Kế hoạch {cmd.plan_id} còn là dự thảo; chỉ kết thúc được kế hoạch đã ban hành.", "plan_id")
        closed_on = cmd.closed_on or today(uow)
        if closed_on < row.issued_on:
            raise refused(f"Kế hoạch ban hành ngày {row.issued_on:%d/%m/%Y} không thể kết thúc trước ngày đó.",
                          "closed_on")
        rows = [r for r in await uow.tasks.not_done(plan_id=row.plan_id)
                if (r.due_date > closed_on if r.due_date else int(r.period[:4]) > closed_on.year)]
        withdrawn = await withdraw(uow, rows, "plan_closed", cfg.deadline_offsets)
        await uow.reminders.cancel(f"dl:{row.plan_id}:")
        await uow.reminders.cancel(f"roll:{row.plan_id}:")
        await uow.plans.update(row.plan_id, status=CLOSED, closed_on=closed_on, updated_at=uow.now())
        await uow.emit(ev.PlanClosed(plan_id=row.plan_id, closed_on=closed_on), subject=row.plan_id)
        await uow.commit()
        return api.ClosePlanReply(plan_id=row.plan_id, closed_on=closed_on, withdrawn=withdrawn)


# --- implementation plans ---------------------------------------------------------------------

async def register_implementation_plan(cmd: api.RegisterImplementationPlan, who: Principal, uow: PlansUnitOfWork,
                                       cfg: PlansConfig = DEFAULT_CONFIG) -> api.ImplementationPlanReply:
    async with uow:
        actor = await authorize(uow, who, Action.ACT, cmd.unit_id)
        on = cmd.registered_on or today(uow)
        if on > today(uow):
            raise invalid(f"Ngày đăng ký {on:%d/%m/%Y} chưa đến.", "registered_on")
        year = cmd.year or on.year
        plan_id = cmd.plan_id or "impl-" + hashlib.sha1(f"{cmd.unit_id}|{cmd.parent_plan_id}|{year}".encode()).hexdigest()[:20]
        existing = await uow.plans.get(plan_id)
        if existing is not None:
            if (existing.issuer_unit_id, existing.parent_plan_id, existing.number) == (cmd.unit_id, cmd.parent_plan_id,
                                                                                       cmd.number):
                return api.ImplementationPlanReply(plan_id=plan_id, parent_plan_id=cmd.parent_plan_id,
                                                   unit_id=cmd.unit_id, number=existing.number,
                                                   year=existing.year or year, registered_on=existing.issued_on,
                                                   on_time=True, completed=[], duplicate=True)
            raise conflict(f"Mã kế hoạch {plan_id} đã dùng cho một kế hoạch khác.", field="plan_id")
        parent = await _check_parent_plan(uow, cmd.parent_plan_id, "parent_plan_id")
        unit = await uow.directory.unit(cmd.unit_id)
        if unit is None:
            raise not_found(f"đơn vị {cmd.unit_id}", "unit_id")
        if unit.closed_on is not None and unit.closed_on <= on:
            raise refused(f"Đơn vị {cmd.unit_id} đã ngừng hoạt động.", "unit_id")
        title = cmd.title or f"Kế hoạch thực hiện {parent.number} năm {year}"
        document = {"number": cmd.number, "number_is_placeholder": False, "title": title,
                    "issuer_unit_id": cmd.unit_id, "issuer_name": unit.name, "issuing_body": None,
                    "parent_plan_id": cmd.parent_plan_id, "issued_on": on.isoformat(), "issued_not_before": None,
                    "first_year": year, "until_year": year,
                    "basis": [{"kind": "ke_hoach", "number": parent.number, "issued_on": parent.issued_on.isoformat(),
                               "issuer": None, "title": parent.title, "relation": "implements"}],
                    "sections": [], "recipients": [], "signed_by": {}}
        api.PlanDocument.model_validate(document)
        now = uow.now()
        await uow.plans.add(plan_id=plan_id, kind="implementation", number=cmd.number, title=title,
                            issuer_unit_id=cmd.unit_id, parent_plan_id=cmd.parent_plan_id, status=ISSUED,
                            current_revision=1, document=document, year=year, issued_on=on, closed_on=None,
                            materialized_to=None, created_at=now, updated_at=now, created_by=actor.label)
        await uow.plans.add_revision(plan_id=plan_id, revision=1, issued_on=on, issued_at=now, issued_by=actor.label,
                                     note=cmd.link, document=document)
        completed, on_time = await _implementation_registered(uow, cfg, plan_id, parent, cmd.unit_id, cmd.number,
                                                              on, year, actor.label)
        await uow.commit()
        return api.ImplementationPlanReply(plan_id=plan_id, parent_plan_id=cmd.parent_plan_id, unit_id=cmd.unit_id,
                                           number=cmd.number, year=year, registered_on=on, on_time=on_time,
                                           completed=completed)


# --- queries --------------------------------------------------------------------------------------

async def get_plan(cmd: api.GetPlan, who: Principal, uow: PlansUnitOfWork,
                   cfg: PlansConfig = DEFAULT_CONFIG) -> api.PlanView:
    async with uow:
        row = await uow.plans.get(cmd.plan_id)
        if row is None:
            raise not_found(f"kế hoạch {cmd.plan_id}", "plan_id")
        # A plan is seen by its issuer, the units it cascades to (below), and the levels above.
        await authorize(uow, who, Action.READ_ISSUED, row.issuer_unit_id, field="plan_id")
        return await _view(uow, row, cmd.revision)


async def list_plans(cmd: api.ListPlans, who: Principal, uow: PlansUnitOfWork,
                     cfg: PlansConfig = DEFAULT_CONFIG) -> api.PlanPage:
    async with uow:
        issuers: list[str] | None = None
        if cmd.issuer_unit_id:
            await authorize(uow, who, Action.READ_ISSUED, cmd.issuer_unit_id, field="issuer_unit_id")
            issuers = [cmd.issuer_unit_id]
        else:
            actor = await actor_of(uow, who)
            if actor.is_person:  # what they may see: the plans of the levels above and of their subtree
                snap = await uow.directory.shared.snapshot(today(uow))
                issuers = [*snap.ancestors(actor.unit_id), *snap.subtree(actor.unit_id)] if actor.unit_id else []
            else:  # a machine identity: every plan, if one of its roles reads
                await authorize(uow, who, Action.READ_ISSUED, None)
        offset = offset_of(cmd.page.cursor)
        total, rows = await uow.plans.find(issuer_ids=issuers, parent_plan_id=cmd.parent_plan_id, status=cmd.status,
                                           offset=offset, limit=cmd.page.limit)
        return api.PlanPage(total=total, items=[_summary(r) for r in rows],
                            next_cursor=next_cursor(offset, cmd.page.limit, total))


async def _drafter(uow: PlansUnitOfWork, who: Principal, issuer_unit_id: str) -> Actor:
    """Drafts of a unit's plans: its acting people, or a plan_issuer identity (ISSUE)."""
    if who.kind == "service":
        return await authorize(uow, who, Action.ISSUE, issuer_unit_id, field="document.issuer_unit_id")
    return await authorize(uow, who, Action.ACT, issuer_unit_id, field="document.issuer_unit_id")


# --- units joining running plans ----------------------------------------------------------------------

async def top_up(uow: PlansUnitOfWork, cfg: PlansConfig, unit_ids: list[str], on: date) -> int:
    """Units registered, imported or moved into the tree of a running plan's issuer get that
    plan's occurrences from `on` to the plan's horizon (nothing in the past, nothing they already
    have or had withdrawn). Returns the occurrences created."""
    if not unit_ids:
        return 0
    running = await uow.plans.running()
    if not running:
        return 0
    org = await build_org(uow)
    h = org.hierarchy
    wanted = set(unit_ids)
    created = 0
    for row in running:
        inside = {u for u in wanted if h.is_registered(u) and h.is_active(u, on)
                  and (u == row.issuer_unit_id or h.is_ancestor(row.issuer_unit_id, u, on))}
        if not inside or row.materialized_to is None:
            continue
        doc = parse_document(row.document)
        start = max(on, row.issued_on)
        stats = await materialize(uow, cfg, plan_id=row.plan_id, number=doc.number, revision=row.current_revision,
                                  doc=doc, org=org, on=start, from_year=max(first_year_of(doc, row.issued_on), start.year),
                                  to_year=row.materialized_to, not_before=start, mode="roll", only_units=inside)
        created += stats.created
    return created


# --- the yearly roll (a scheduler reminder) ---------------------------------------------------------

async def roll_plan(payload: dict[str, Any], uow: PlansUnitOfWork, cfg: PlansConfig = DEFAULT_CONFIG) -> None:
    """1 January: a running plan's occurrences are extended to next year, resolving the parties
    on today's hierarchy (units registered since the issue get their tasks). Runs inside the
    scheduler's claim transaction: exactly once, and not at all if it fails (retried next pass)."""
    row = await uow.plans.get(payload["plan_id"], for_update=True)
    if row is None or row.status != ISSUED or row.kind != "plan":
        return
    doc = parse_document(row.document)
    on = today(uow)
    to_year = horizon_end(doc, row.issued_on, on)
    if row.materialized_to is not None and to_year <= row.materialized_to:
        await _schedule_roll(uow, row.plan_id, doc, row.materialized_to)
        return
    org = await build_org(uow)
    # From this year on: the new year, and this year's tasks for units that joined since.
    stats = await materialize(uow, cfg, plan_id=row.plan_id, number=doc.number, revision=row.current_revision,
                              doc=doc, org=org, on=on, from_year=max(first_year_of(doc, row.issued_on), on.year),
                              to_year=to_year, not_before=max(on, row.issued_on), mode="roll")
    await uow.plans.update(row.plan_id, materialized_to=to_year, updated_at=uow.now())
    await _schedule_roll(uow, row.plan_id, doc, to_year)
    log.info("plan horizon rolled", plan_id=row.plan_id, to_year=to_year, occurrences=stats.created, units=stats.units)
