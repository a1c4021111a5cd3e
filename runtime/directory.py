"""The organisation directory as every service sees it: units with effective-dated parents,
closures and merges, and people with roles and contacts.

plans owns the directory and publishes it as events; reports, notify and awards each keep their
own projection, built by the handlers below from those events, in their own database. plans keeps
its authoritative copy in the same tables. Written once here so that "the hierarchy as of a date"
means the same thing in every service.

History: a unit's parent is a list of (parent, valid_from, valid_to) rows, half-open
[valid_from, valid_to). What a unit did before a move counts where it belonged at that time:
callers ask `snapshot(as_of)` with the period's date, not today's.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.events import plans as plans_ev
from runtime.access import Action, Actor, Target, decide
from runtime.auth import Principal
from runtime.errors import Forbidden, NotFound, not_found

directory = sa.MetaData()

dir_units = sa.Table(
    "dir_units", directory,
    sa.Column("unit_id", sa.String(100), primary_key=True),
    sa.Column("code", sa.String(64), nullable=False),
    sa.Column("name", sa.String(500), nullable=False),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("registered_on", sa.Date, nullable=False),
    sa.Column("closed_on", sa.Date, nullable=True),
    sa.Column("merged_into", sa.String(100), nullable=True),
    sa.Index("ux_dir_units_code", "code", unique=True),  # plans never gives a code twice, even after a closure
)

dir_parents = sa.Table(
    "dir_parents", directory,
    sa.Column("unit_id", sa.String(100), primary_key=True),
    sa.Column("valid_from", sa.Date, primary_key=True),
    sa.Column("valid_to", sa.Date, nullable=True),
    sa.Column("parent_id", sa.String(100), nullable=True),
    sa.Index("ix_dir_parents_parent", "parent_id"),
)

dir_people = sa.Table(
    "dir_people", directory,
    sa.Column("person_id", sa.String(100), primary_key=True),
    sa.Column("unit_id", sa.String(100), nullable=False),
    sa.Column("full_name", sa.String(500), nullable=False),
    sa.Column("roles", sa.JSON, nullable=False),
    sa.Column("email", sa.String(254), nullable=True),
    sa.Column("phone", sa.String(32), nullable=True),
    sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Index("ix_dir_people_unit", "unit_id"),
)


@dataclass(frozen=True, slots=True)
class DirUnit:
    """A unit of the projection, as the services read it (never the table's row)."""

    unit_id: str
    code: str
    name: str
    kind: str
    registered_on: date
    closed_on: date | None = None
    merged_into: str | None = None


@dataclass(frozen=True, slots=True)
class DirPerson:
    """A person of the projection, as the services read them."""

    person_id: str
    unit_id: str
    full_name: str
    roles: tuple[str, ...] = ()
    email: str | None = None
    phone: str | None = None
    active: bool = True


def dir_unit(row: Any) -> DirUnit:
    return DirUnit(row.unit_id, row.code, row.name, row.kind, row.registered_on, row.closed_on, row.merged_into)


def dir_person(row: Any) -> DirPerson:
    return DirPerson(row.person_id, row.unit_id, row.full_name, tuple(row.roles or ()), row.email, row.phone,
                     bool(row.active))


class Retry(Exception):
    """An event came before the one it builds on (e.g. a move before the registration): retry later."""


@dataclass
class Snapshot:
    """The hierarchy as it stood on one date."""

    as_of: date
    parent: dict[str, str | None]
    children: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    units: dict[str, dict[str, Any]] = field(default_factory=dict)

    def subtree(self, root: str, include_root: bool = True) -> list[str]:
        out, stack = [], [root]
        while stack:
            u = stack.pop()
            out.append(u)
            stack.extend(self.children.get(u, ()))
        return out if include_root else out[1:]

    def ancestors(self, unit: str) -> list[str]:
        out, seen = [], set()
        p = self.parent.get(unit)
        while p is not None and p not in seen:
            out.append(p)
            seen.add(p)
            p = self.parent.get(p)
        return out

    def is_ancestor(self, ancestor: str, unit: str) -> bool:
        return ancestor in self.ancestors(unit)


class Directory:
    """Queries and projection updates over the directory tables, inside a unit of work's session."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # --- projection updates (idempotent; safe to replay) -------------------------------------
    async def register_unit(self, unit_id: str, code: str, name: str, kind: str, parent_id: str | None,
                            on: date) -> None:
        existing = await self.unit(unit_id)
        if existing is None:
            await self.session.execute(dir_units.insert().values(unit_id=unit_id, code=code, name=name, kind=kind,
                                                                registered_on=on))
            await self.session.execute(dir_parents.insert().values(unit_id=unit_id, parent_id=parent_id,
                                                                  valid_from=on, valid_to=None))
        else:
            await self.session.execute(dir_units.update().where(dir_units.c.unit_id == unit_id)
                                       .values(code=code, name=name, kind=kind))

    async def move_unit(self, unit_id: str, to_parent: str | None, on: date) -> None:
        rows = (await self.session.execute(sa.select(dir_parents).where(dir_parents.c.unit_id == unit_id)
                                           .order_by(dir_parents.c.valid_from))).all()
        if not rows:
            raise Retry(f"unit {unit_id} moved before it was registered here")
        if any(r.valid_from == on and r.parent_id == to_parent for r in rows):
            return  # replay
        current = rows[-1]
        if on <= current.valid_from:
            raise ValueError(f"move of {unit_id} on {on} is not after its last change on {current.valid_from}")
        await self.session.execute(dir_parents.update().where(dir_parents.c.unit_id == unit_id,
                                                              dir_parents.c.valid_from == current.valid_from)
                                   .values(valid_to=on))
        await self.session.execute(dir_parents.insert().values(unit_id=unit_id, parent_id=to_parent, valid_from=on,
                                                              valid_to=None))

    async def close_unit(self, unit_id: str, on: date, merged_into: str | None = None) -> None:
        if await self.unit(unit_id) is None:
            raise Retry(f"unit {unit_id} closed before it was registered here")
        await self.session.execute(dir_units.update().where(dir_units.c.unit_id == unit_id)
                                   .values(closed_on=on, merged_into=merged_into))
        await self.session.execute(dir_parents.update().where(dir_parents.c.unit_id == unit_id,
                                                              dir_parents.c.valid_to.is_(None))
                                   .values(valid_to=on))

    async def upsert_person(self, person_id: str, unit_id: str, full_name: str, roles: list[str],
                            email: str | None, phone: str | None, active: bool = True) -> None:
        values = dict(unit_id=unit_id, full_name=full_name, roles=list(roles), email=email, phone=phone, active=active)
        found = (await self.session.execute(sa.select(dir_people.c.person_id)
                                            .where(dir_people.c.person_id == person_id))).first()
        if found:
            await self.session.execute(dir_people.update().where(dir_people.c.person_id == person_id).values(**values))
        else:
            await self.session.execute(dir_people.insert().values(person_id=person_id, **values))

    # --- queries ------------------------------------------------------------------------------
    async def unit(self, unit_id: str) -> DirUnit | None:
        row = (await self.session.execute(sa.select(dir_units).where(dir_units.c.unit_id == unit_id))).first()
        return dir_unit(row) if row else None

    async def person(self, person_id: str) -> DirPerson | None:
        row = (await self.session.execute(sa.select(dir_people).where(dir_people.c.person_id == person_id))).first()
        return dir_person(row) if row else None

    async def parent_as_of(self, unit_id: str, on: date) -> str | None:
        row = (await self.session.execute(sa.select(dir_parents.c.parent_id).where(
            dir_parents.c.unit_id == unit_id, dir_parents.c.valid_from <= on,
            sa.or_(dir_parents.c.valid_to.is_(None), dir_parents.c.valid_to > on)))).first()
        return row.parent_id if row else None

    async def snapshot(self, on: date) -> Snapshot:
        """Every unit that existed on `on`, under the parent it had that day (one query)."""
        q = (sa.select(dir_parents.c.unit_id, dir_parents.c.parent_id, dir_units.c.name, dir_units.c.kind,
                       dir_units.c.code)
             .join(dir_units, dir_units.c.unit_id == dir_parents.c.unit_id)
             .where(dir_parents.c.valid_from <= on,
                    sa.or_(dir_parents.c.valid_to.is_(None), dir_parents.c.valid_to > on)))
        snap = Snapshot(as_of=on, parent={})
        for r in (await self.session.execute(q)).all():
            snap.parent[r.unit_id] = r.parent_id
            snap.units[r.unit_id] = {"name": r.name, "kind": r.kind, "code": r.code}
            if r.parent_id is not None:
                snap.children[r.parent_id].append(r.unit_id)
        return snap

    async def successor(self, unit_id: str) -> str:
        """Where a merged unit's history lives now (itself when not merged)."""
        seen = {unit_id}
        while True:
            row = await self.unit(unit_id)
            if row is None or not row.merged_into or row.merged_into in seen:
                return unit_id
            unit_id = row.merged_into
            seen.add(unit_id)

    # --- access (the rule itself is runtime.access.decide: pure) ------------------------------
    async def actor(self, principal: Principal, on: date, *, with_ancestors: bool = True) -> Actor:
        """The caller as this projection knows them on `on` (the units above theirs only when
        asked: only READ_ISSUED looks at them)."""
        if principal.kind == "service":
            return Actor("service", principal.id, roles=frozenset(principal.roles))
        row = await self.person(principal.id)
        if row is None:
            raise Forbidden(f"Người dùng {principal.id} chưa có trong danh bạ của hệ thống.", "Authorization")
        unit = await self.unit(row.unit_id)
        closed = unit is None or (unit.closed_on is not None and unit.closed_on <= on)
        above = await self.ancestors(row.unit_id, on) if with_ancestors and not closed else ()
        return Actor("person", row.person_id, row.unit_id, frozenset(row.roles or ()), bool(row.active), closed,
                     row.full_name, above)

    async def ancestors(self, unit_id: str, on: date) -> tuple[str, ...]:
        """The units above `unit_id` on `on`, nearest first."""
        out: list[str] = []
        p = await self.parent_as_of(unit_id, on)
        while p is not None and p not in out and p != unit_id:
            out.append(p)
            p = await self.parent_as_of(p, on)
        return tuple(out)

    async def target(self, unit_id: str, on: date, *, receiving_unit: str | None = None,
                     owner: str | None = None, with_ancestors: bool = True) -> Target:
        """A unit with its ancestors as of `on`. A closed unit is placed where it stood on its
        last day, and names the unit it was merged into (whose history it now is)."""
        unit = await self.unit(unit_id)
        if unit is None:
            return Target(unit_id, exists=False, owner=owner)
        when = on if unit.closed_on is None or on < unit.closed_on else unit.closed_on - timedelta(days=1)
        merged = await self.successor(unit_id) if unit.merged_into else None
        if not with_ancestors:  # acting for the unit itself: only whose it is matters
            return Target(unit_id, (), merged, receiving_unit, owner=owner)
        ancestors = await self.ancestors(unit_id, when)
        successors = []
        for a in ancestors:
            row = await self.unit(a)
            if row is not None and row.merged_into:
                successors.append((a, await self.successor(a)))
        return Target(unit_id, ancestors, merged, receiving_unit, owner=owner, successors=tuple(successors))

    async def authorize(self, principal: Principal, action: Action, unit_id: str | None, on: date, *,
                        owner: str | None = None, receiving_unit: str | None = None,
                        departments: Callable[[], Awaitable[tuple[str | None, frozenset[str]]]] | None = None,
                        field: str = "unit_id", today: date | None = None) -> Actor:
        """The caller, when `runtime.access.decide` allows `action` on the unit (or the personal
        records of `owner`); else a 403 with the policy's reason (404 for an unknown unit).
        The target is placed in the hierarchy of `on` (a report's period); the caller is who they
        are `today` (default `on`). `departments()` names a receiving unit and the departments
        that receive for it (reports: a requirement's receiving department)."""
        actor = await self.actor(principal, max(on, today or on), with_ancestors=action is Action.READ_ISSUED)
        if unit_id is None or not actor.is_person:  # a machine identity is judged by its roles alone
            target = Target(unit_id, owner=owner)
        else:
            target = await self.target(unit_id, on, receiving_unit=receiving_unit, owner=owner,
                                       with_ancestors=action not in OWN_UNIT_ACTIONS)
            if not target.exists:
                raise not_found_unit(unit_id, field)
            if departments is not None:
                receiving, depts = await departments()
                target = replace(target, receiving_departments=depts, departments_for=receiving)
        decision = decide(actor, action, target)
        if not decision:
            raise Forbidden(decision.reason, field)
        return actor


# Actions decided by whose unit it is alone (runtime.access.decide never looks above the target).
OWN_UNIT_ACTIONS = frozenset({Action.ACT, Action.ISSUE, Action.DECIDE})


def not_found_unit(unit_id: str, field: str = "unit_id") -> NotFound:
    return not_found(f"đơn vị {unit_id}", field)


# --- event handlers, for the services that project the directory ------------------------------
async def on_unit_registered(event: Any, uow: Any) -> None:
    d = event.data
    await Directory(uow.session).register_unit(d.unit_id, d.code, d.name, str(d.kind), d.parent_id, d.effective_from)


async def on_unit_moved(event: Any, uow: Any) -> None:
    d = event.data
    await Directory(uow.session).move_unit(d.unit_id, d.to_parent_id, d.effective_from)


async def on_unit_closed(event: Any, uow: Any) -> None:
    d = event.data
    await Directory(uow.session).close_unit(d.unit_id, d.effective_from, d.merged_into)


async def on_person_changed(event: Any, uow: Any) -> None:
    d = event.data
    await Directory(uow.session).upsert_person(d.person_id, d.unit_id, d.full_name, [str(r) for r in d.roles],
                                               d.email, d.phone, getattr(d, "active", True))


DIRECTORY_HANDLERS = {
    plans_ev.UnitRegistered: on_unit_registered,
    plans_ev.UnitMoved: on_unit_moved,
    plans_ev.UnitClosed: on_unit_closed,
    plans_ev.PersonRegistered: on_person_changed,
    plans_ev.PersonUpdated: on_person_changed,
}
