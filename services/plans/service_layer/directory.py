"""Use cases of the organisation directory: units and people, reorganisation with history
(move, merge, close — all effective-dated), queries as of a date, and bulk CSV import."""

from __future__ import annotations

import uuid
from collections import deque
from datetime import date, timedelta
from typing import Any

from contracts.api import plans as api
from contracts.events import plans as ev
from runtime.access import Action
from runtime.auth import Principal
from runtime.errors import DomainError, Invalid, TooLarge, conflict, not_found
from services.plans.domain.hierarchy import HierarchyError
from services.plans.domain.imports import parse_units_csv
from services.plans.domain.model import Person, Unit, check_parent, parent_problem
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
from services.plans.service_layer.plans import top_up
from services.plans.service_layer.tasks import withdraw_out_of_scope, withdraw_unit_tasks
from services.plans.service_layer.unit_of_work import PlansUnitOfWork


def _unit_reply(u: Unit) -> api.UnitReply:
    return api.UnitReply(unit_id=u.unit_id, code=u.code, name=u.name, kind=u.kind, parent_id=u.parent_id,
                         effective_from=u.effective_from)


_kind_rule = parent_problem


async def register_unit(cmd: api.RegisterUnit, who: Principal, uow: PlansUnitOfWork,
                        cfg: PlansConfig = DEFAULT_CONFIG) -> api.UnitReply:
    async with uow:
        unit = Unit(unit_id=cmd.unit_id or f"u-{uuid.uuid4().hex[:12]}", code=cmd.code, name=cmd.name,
                    kind=cmd.kind.value, parent_id=cmd.parent_id, effective_from=cmd.effective_from or today(uow))
        # Under a parent: its administrators (or above). A root: a directory_admin identity only.
        await authorize(uow, who, Action.ADMINISTER, cmd.parent_id, field="parent_id")
        existing = await uow.directory.get_unit(unit.unit_id)
        if existing is not None:
            if existing.same_as(unit):
                return _unit_reply(existing)  # a retry: same answer, no second event
            raise conflict(f"Mã đơn vị {unit.unit_id} đã dùng cho một đơn vị có thông tin khác.", field="unit_id")
        if await uow.directory.unit_by_code(unit.code) is not None:
            raise conflict(f"Ký hiệu đơn vị “{unit.code}” đã được dùng.", field="code")
        parent = None
        if unit.parent_id:
            parent = await uow.directory.unit(unit.parent_id)
            if parent is None:
                raise not_found(f"đơn vị cấp trên {unit.parent_id}", "parent_id")
            if parent.closed_on is not None:
                raise refused(f"Đơn vị cấp trên {unit.parent_id} đã ngừng hoạt động từ ngày {parent.closed_on:%d/%m/%Y}.",
                              "parent_id")
            if parent.registered_on > unit.effective_from:
                raise refused(f"Đơn vị cấp trên {unit.parent_id} chỉ có từ ngày {parent.registered_on:%d/%m/%Y}.",
                              "effective_from")
        check_parent(unit.kind, parent.kind if parent else None, "parent_id")  # a DirectoryError: 422
        await uow.directory.insert_units([{"unit_id": unit.unit_id, "code": unit.code, "name": unit.name,
                                           "kind": unit.kind, "parent_id": unit.parent_id,
                                           "effective_from": unit.effective_from}])
        await uow.emit(ev.UnitRegistered(
            unit_id=unit.unit_id, code=unit.code, name=unit.name, kind=unit.kind, parent_id=unit.parent_id,
            effective_from=unit.effective_from), subject=unit.unit_id)
        if unit.parent_id:
            await top_up(uow, cfg, [unit.unit_id], max(unit.effective_from, today(uow)))
        await uow.commit()
        return _unit_reply(unit)


def _person_reply(p: Person) -> api.PersonReply:
    return api.PersonReply(person_id=p.person_id, unit_id=p.unit_id, full_name=p.full_name, roles=p.roles,
                           email=p.email, phone=p.phone)


def _person_view(r) -> api.PersonView:
    return api.PersonView(person_id=r.person_id, unit_id=r.unit_id, full_name=r.full_name, roles=list(r.roles),
                          email=r.email, phone=r.phone, active=bool(r.active))


async def register_person(cmd: api.RegisterPerson, who: Principal, uow: PlansUnitOfWork,
                          cfg: PlansConfig = DEFAULT_CONFIG) -> api.PersonReply:
    async with uow:
        person = Person(person_id=cmd.person_id or f"p-{uuid.uuid4().hex[:12]}", unit_id=cmd.unit_id,
                        full_name=cmd.full_name, roles=[r.value for r in cmd.roles], email=cmd.email, phone=cmd.phone)
        await authorize(uow, who, Action.ADMINISTER, cmd.unit_id)
        existing = await uow.directory.get_person(person.person_id)
        if existing is not None:
            if (existing.unit_id, existing.full_name, existing.roles, existing.email) == (
                    person.unit_id, person.full_name, person.roles, person.email):
                return _person_reply(existing)
            raise conflict(f"Mã cá nhân {person.person_id} đã dùng cho một người có thông tin khác.", field="person_id")
        unit = await uow.directory.unit(person.unit_id)
        if unit is None:
            raise not_found(f"đơn vị {person.unit_id}", "unit_id")
        if unit.closed_on is not None and unit.closed_on <= today(uow):
            raise refused(f"Đơn vị {person.unit_id} đã ngừng hoạt động.", "unit_id")
        await uow.directory.add_person(person)
        await uow.emit(ev.PersonRegistered(
            person_id=person.person_id, unit_id=person.unit_id, full_name=person.full_name, roles=person.roles,
            email=person.email, phone=person.phone), subject=person.person_id)
        await uow.commit()
        return _person_reply(person)


async def update_person(cmd: api.UpdatePerson, who: Principal, uow: PlansUnitOfWork,
                        cfg: PlansConfig = DEFAULT_CONFIG) -> api.PersonView:
    async with uow:
        row = await uow.directory.person(cmd.person_id)
        if row is None:
            raise not_found(f"cá nhân {cmd.person_id}", "person_id")
        await authorize(uow, who, Action.ADMINISTER, row.unit_id, field="person_id")
        unit_id: str = cmd.unit_id or row.unit_id
        values: dict[str, Any] = {"unit_id": unit_id, "full_name": cmd.full_name or row.full_name,
                  "roles": [r.value for r in cmd.roles] if cmd.roles is not None else list(row.roles),
                  "email": cmd.email if cmd.email is not None else row.email,
                  "phone": cmd.phone if cmd.phone is not None else row.phone,
                  "active": cmd.active if cmd.active is not None else bool(row.active)}
        if unit_id != row.unit_id:
            await authorize(uow, who, Action.ADMINISTER, unit_id)
            target = await uow.directory.unit(unit_id)
            if target is None:
                raise not_found(f"đơn vị {unit_id}", "unit_id")
            if target.closed_on is not None and target.closed_on <= today(uow):
                raise refused(f"Đơn vị {values['unit_id']} đã ngừng hoạt động.", "unit_id")
        current = {"unit_id": row.unit_id, "full_name": row.full_name, "roles": list(row.roles), "email": row.email,
                   "phone": row.phone, "active": bool(row.active)}
        if values != current:
            await uow.directory.update_person(cmd.person_id, **values)
            await uow.emit(ev.PersonUpdated(person_id=cmd.person_id, **values), subject=cmd.person_id)
            await uow.commit()
        return api.PersonView(person_id=cmd.person_id, **values)


# --- reorganisation ----------------------------------------------------------------------------

def _hierarchy_error(exc: HierarchyError, field: str) -> DomainError:
    return refused(str(exc), field)


def _after_last_change(versions, unit_id: str, on: date, what: str) -> None:
    """`what`: the change, in Vietnamese ("chuyển", "sáp nhập", "giải thể")."""
    last = versions[-1]
    if last.valid_to is not None:
        raise refused(f"Đơn vị {unit_id} đã ngừng hoạt động từ ngày {last.valid_to:%d/%m/%Y}.", "unit_id")
    if on <= last.valid_from:
        raise refused(f"Không thể {what} đơn vị {unit_id} vào ngày {on:%d/%m/%Y}: lần thay đổi gần nhất của đơn vị là "
                      f"ngày {last.valid_from:%d/%m/%Y}, mà mỗi ngày chỉ ghi một thay đổi, theo thứ tự ngày.",
                      "effective_from")


async def move_unit(cmd: api.MoveUnit, who: Principal, uow: PlansUnitOfWork,
                    cfg: PlansConfig = DEFAULT_CONFIG) -> api.MoveReply:
    async with uow:
        on = cmd.effective_from or today(uow)
        await authorize(uow, who, Action.ADMINISTER, cmd.unit_id)
        await authorize(uow, who, Action.ADMINISTER, cmd.to_parent_id, field="to_parent_id")
        h, info = await uow.directory.load_hierarchy()
        versions = h.versions(cmd.unit_id)
        current = versions[-1]
        if current.valid_to is None and current.parent_id == cmd.to_parent_id and current.valid_from <= on:
            return api.MoveReply(unit_id=cmd.unit_id, from_parent_id=current.parent_id, to_parent_id=cmd.to_parent_id,
                                 effective_from=current.valid_from, unchanged=True)
        _after_last_change(versions, cmd.unit_id, on, "chuyển")
        problem = _kind_rule(info[cmd.unit_id].kind, info[cmd.to_parent_id].kind)
        if problem:
            raise invalid(problem, "to_parent_id")
        try:
            h.move(cmd.unit_id, cmd.to_parent_id, on)
        except HierarchyError as exc:
            raise _hierarchy_error(exc, "to_parent_id") from None
        await uow.directory.write_versions(cmd.unit_id, h.versions(cmd.unit_id))
        await uow.emit(ev.UnitMoved(unit_id=cmd.unit_id, from_parent_id=current.parent_id,
                                                to_parent_id=cmd.to_parent_id, effective_from=on), subject=cmd.unit_id)
        withdrawn = await withdraw_out_of_scope(uow, h, h.subtree(cmd.unit_id, on), on, cfg.deadline_offsets)
        await top_up(uow, cfg, h.subtree(cmd.unit_id, on), max(on, today(uow)))
        await uow.commit()
        return api.MoveReply(unit_id=cmd.unit_id, from_parent_id=current.parent_id, to_parent_id=cmd.to_parent_id,
                             effective_from=on, withdrawn_tasks=withdrawn)


async def merge_units(cmd: api.MergeUnits, who: Principal, uow: PlansUnitOfWork,
                      cfg: PlansConfig = DEFAULT_CONFIG) -> api.MergeReply:
    """Absorbed units close into the survivor; their children move to it first (unit.moved each),
    then each absorbed unit closes with merged_into (unit.closed). History stays: as of a date
    before the merge the children are under their old parents, and the absorbed units exist."""
    async with uow:
        on = cmd.effective_from or today(uow)
        await authorize(uow, who, Action.ADMINISTER, cmd.survivor_id, field="survivor_id")
        for a in cmd.absorbed_ids:
            await authorize(uow, who, Action.ADMINISTER, a, field="absorbed_ids")
        h, info = await uow.directory.load_hierarchy()
        if all(info[a].merged_into == cmd.survivor_id and info[a].closed_on == on for a in cmd.absorbed_ids):
            return api.MergeReply(survivor_id=cmd.survivor_id, absorbed_ids=cmd.absorbed_ids, effective_from=on,
                                  moved_children=[], withdrawn_tasks=0)  # a retry
        moves: list[tuple[str, str]] = []
        for a in cmd.absorbed_ids:
            _after_last_change(h.versions(a), a, on, "sáp nhập")
            if h.is_active(a, on):
                for child in h.children(a, on):
                    if child in cmd.absorbed_ids:
                        continue
                    _after_last_change(h.versions(child), child, on, "chuyển (khi sáp nhập)")
                    problem = _kind_rule(info[child].kind, info[cmd.survivor_id].kind)
                    if problem:
                        raise invalid(f"Đơn vị {child} trực thuộc {a}: {problem[:1].lower()}{problem[1:]}", "survivor_id")
                    moves.append((child, a))
        try:
            h.merge(cmd.survivor_id, list(cmd.absorbed_ids), on)
        except HierarchyError as exc:
            raise _hierarchy_error(exc, "absorbed_ids") from None
        for child, a in moves:
            await uow.directory.write_versions(child, h.versions(child))
            await uow.emit(ev.UnitMoved(unit_id=child, from_parent_id=a, to_parent_id=cmd.survivor_id,
                                                    effective_from=on), subject=child)
        for a in cmd.absorbed_ids:
            await uow.directory.write_versions(a, h.versions(a))
            await uow.directory.set_closed(a, on, cmd.survivor_id)
            await uow.emit(ev.UnitClosed(unit_id=a, effective_from=on, merged_into=cmd.survivor_id),
                           subject=a)
        withdrawn = await withdraw_unit_tasks(uow, list(cmd.absorbed_ids), on, "unit_merged", cfg.deadline_offsets)
        moved_subtrees = [u for child, _ in moves for u in h.subtree(child, on)]
        withdrawn += await withdraw_out_of_scope(uow, h, moved_subtrees, on, cfg.deadline_offsets)
        await top_up(uow, cfg, moved_subtrees, max(on, today(uow)))
        await uow.commit()
        return api.MergeReply(survivor_id=cmd.survivor_id, absorbed_ids=cmd.absorbed_ids, effective_from=on,
                              moved_children=[c for c, _ in moves], withdrawn_tasks=withdrawn)


async def close_unit(cmd: api.CloseUnit, who: Principal, uow: PlansUnitOfWork,
                     cfg: PlansConfig = DEFAULT_CONFIG) -> api.CloseReply:
    async with uow:
        on = cmd.effective_from or today(uow)
        await authorize(uow, who, Action.ADMINISTER, cmd.unit_id)
        h, info = await uow.directory.load_hierarchy()
        row = info[cmd.unit_id]
        if row.closed_on == on and row.merged_into is None:
            return api.CloseReply(unit_id=cmd.unit_id, effective_from=on, withdrawn_tasks=0)
        _after_last_change(h.versions(cmd.unit_id), cmd.unit_id, on, "giải thể")
        try:
            h.close(cmd.unit_id, on)
        except HierarchyError as exc:
            raise _hierarchy_error(exc, "unit_id") from None
        await uow.directory.write_versions(cmd.unit_id, h.versions(cmd.unit_id))
        await uow.directory.set_closed(cmd.unit_id, on, None)
        await uow.emit(ev.UnitClosed(unit_id=cmd.unit_id, effective_from=on), subject=cmd.unit_id)
        withdrawn = await withdraw_unit_tasks(uow, [cmd.unit_id], on, "unit_closed", cfg.deadline_offsets)
        await uow.commit()
        return api.CloseReply(unit_id=cmd.unit_id, effective_from=on, withdrawn_tasks=withdrawn)


# --- queries -----------------------------------------------------------------------------------

async def get_unit(cmd: api.GetUnit, who: Principal, uow: PlansUnitOfWork,
                   cfg: PlansConfig = DEFAULT_CONFIG) -> api.UnitView:
    async with uow:
        on = cmd.as_of or today(uow)
        row = await uow.directory.unit(cmd.unit_id)
        if row is None:
            raise not_found(f"đơn vị {cmd.unit_id}", "unit_id")
        # Read by the unit and the levels above it, where it was on that date.
        await authorize(uow, who, Action.READ, cmd.unit_id, on=on)
        versions = await uow.directory.versions(cmd.unit_id)
        current = next((v for v in versions if v.covers(on)), None)
        successor = await uow.directory.shared.successor(cmd.unit_id)
        return api.UnitView(unit_id=row.unit_id, code=row.code, name=row.name, kind=row.kind, as_of=on,
                            active=current is not None, parent_id=current.parent_id if current else None,
                            registered_on=row.registered_on, closed_on=row.closed_on, merged_into=row.merged_into,
                            successor_id=successor,
                            history=[api.ParentSpan(parent_id=v.parent_id, valid_from=v.valid_from,
                                                    valid_to=v.valid_to) for v in versions])


async def list_units(cmd: api.ListUnits, who: Principal, uow: PlansUnitOfWork,
                     cfg: PlansConfig = DEFAULT_CONFIG) -> api.UnitPage:
    async with uow:
        on = cmd.as_of or today(uow)
        root = cmd.root_id
        if root is None and who.kind == "person":
            root = (await actor_of(uow, who)).unit_id  # a person's tree starts at their own unit
        await authorize(uow, who, Action.READ, root, on=on, field="root_id")
        h, info = await uow.directory.load_hierarchy()
        rows: list[api.UnitRow] = []
        if root:
            if not h.is_active(root, on):
                raise not_found(f"đơn vị {root} vào ngày {on:%d/%m/%Y}", "root_id")
            starts = [(root, 0)]
        else:
            starts = [(u, 0) for u in h.units(on) if h.parent_of(u, on) is None]
        kinds = {k.value for k in cmd.kinds}
        for root, _ in starts:
            queue = deque([(root, 0)])
            while queue:
                u, depth = queue.popleft()
                r = info[u]
                if (depth > 0 or cmd.include_root) and (not kinds or r.kind in kinds):
                    rows.append(api.UnitRow(unit_id=u, code=r.code, name=r.name, kind=r.kind,
                                            parent_id=h.parent_of(u, on), depth=depth))
                queue.extend((c, depth + 1) for c in h.children(u, on))
        offset = offset_of(cmd.page.cursor)
        return api.UnitPage(as_of=on, total=len(rows), items=rows[offset:offset + cmd.page.limit],
                            next_cursor=next_cursor(offset, cmd.page.limit, len(rows)))


async def list_people(cmd: api.ListPeople, who: Principal, uow: PlansUnitOfWork,
                      cfg: PlansConfig = DEFAULT_CONFIG) -> api.PersonPage:
    async with uow:
        await authorize(uow, who, Action.READ, cmd.unit_id)
        if cmd.subtree:
            snap = await uow.directory.shared.snapshot(today(uow))
            units = snap.subtree(cmd.unit_id)
        else:
            units = [cmd.unit_id]
        roles = {r.value for r in cmd.roles}
        people = [p for p in await uow.directory.people_in(units, include_inactive=cmd.include_inactive)
                  if not roles or roles & set(p.roles)]
        offset = offset_of(cmd.page.cursor)
        return api.PersonPage(total=len(people), items=[_person_view(p) for p in people[offset:offset + cmd.page.limit]],
                              next_cursor=next_cursor(offset, cmd.page.limit, len(people)))


# --- bulk import -------------------------------------------------------------------------------

async def import_units(cmd: api.ImportUnits, who: Principal, uow: PlansUnitOfWork,
                       cfg: PlansConfig = DEFAULT_CONFIG) -> api.ImportReply:
    if cmd.part > cmd.parts:
        raise invalid(f"Phần {cmd.part} vượt quá tổng số {cmd.parts} phần.", "part")
    async with uow:
        actor = await actor_of(uow, who)
        if actor.is_person and not actor.active:
            await authorize(uow, who, Action.ADMINISTER, None)  # refused, with the policy's reason
        await uow.imports.drop_stale(uow.now() - timedelta(days=1))
        staged = await uow.imports.parts(cmd.import_id)
        if any(p.parts != cmd.parts for p in staged):
            raise refused(f"Lượt nhập {cmd.import_id} đã bắt đầu với {staged[0].parts} phần.", "parts")
        mine = next((p for p in staged if p.part == cmd.part), None)
        if mine is not None and mine.csv != cmd.csv:
            raise refused(f"Phần {cmd.part} của lượt nhập {cmd.import_id} đã được gửi với nội dung khác.", "csv")
        if mine is None:
            size = sum(len(p.csv.encode()) for p in staged) + len(cmd.csv.encode())
            if size > cfg.max_import_bytes:
                await uow.imports.drop(cmd.import_id)
                await uow.commit()
                raise TooLarge(f"Lượt nhập {cmd.import_id} vượt quá {cfg.max_import_bytes} byte; chưa nhập đơn vị nào.",
                               "csv")
            await uow.imports.add_part(cmd.import_id, cmd.part, cmd.parts, cmd.csv, uow.now())
            staged = await uow.imports.parts(cmd.import_id)
        received = [p.part for p in staged]
        if len(received) < cmd.parts:
            await uow.commit()
            return api.ImportReply(import_id=cmd.import_id, received_parts=received, complete=False)
        text = "".join(p.csv if p.csv.endswith("\n") else p.csv + "\n" for p in staged)
        by_code, by_id = await uow.directory.existing_for_import()
        result = parse_units_csv(text, cmd.effective_from or today(uow), by_code, by_id, _kind_rule)
        if result.errors:
            await uow.imports.drop(cmd.import_id)
            await uow.commit()
            raise Invalid(f"Lượt nhập {cmd.import_id} có {len(result.errors)} dòng sai; chưa nhập đơn vị nào.", "csv",
                          [{"field": f"line {e.line}" + (f": {e.field}" if e.field else ""), "message": e.message}
                           for e in result.errors])
        for parent in sorted(p for p in result.parents if p):
            await authorize(uow, who, Action.ADMINISTER, parent, field="csv")
        if None in result.parents:  # roots: a directory_admin identity only
            await authorize(uow, who, Action.ADMINISTER, None, field="csv")
        await uow.directory.insert_units([{"unit_id": u.unit_id, "code": u.code, "name": u.name, "kind": u.kind,
                                           "parent_id": u.parent_id, "effective_from": u.effective_from}
                                          for u in result.new])
        await uow.emit_many([
            (ev.UnitRegistered(unit_id=u.unit_id, code=u.code, name=u.name, kind=u.kind, parent_id=u.parent_id,
                               effective_from=u.effective_from), u.unit_id) for u in result.new])
        await uow.imports.drop(cmd.import_id)
        await top_up(uow, cfg, [u.unit_id for u in result.new], today(uow))
        await uow.commit()
        return api.ImportReply(import_id=cmd.import_id, received_parts=received, complete=True,
                               imported=len(result.new), unchanged=result.unchanged)
