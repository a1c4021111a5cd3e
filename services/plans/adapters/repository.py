"""Repositories of the plans service over its tables (SQLAlchemy Core, inside a unit of work's
session; nothing here commits)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from runtime.db import bulk_insert, insert_new
from runtime.directory import Directory, DirPerson, DirUnit, dir_unit
from runtime.scheduler import cancel, reminders, schedule_many
from services.plans.adapters.orm import (
    dir_parents,
    dir_people,
    dir_units,
    import_parts,
    individual_plans,
    logins,
    occurrences,
    plan_revisions,
    plans,
    refresh_tokens,
    report_progress,
    report_requirements,
)
from services.plans.domain.hierarchy import Hierarchy, UnitVersion
from services.plans.domain.imports import Existing
from services.plans.domain.logins import Login, RefreshRecord
from services.plans.domain.model import Person, Unit
from services.plans.domain.tasks import TaskCount

CHUNK = 500  # rows per IN (...) list / executemany batch


def _chunks(seq: Sequence[Any], n: int = CHUNK) -> Iterable[Sequence[Any]]:
    for i in range(0, len(seq), n):
        yield seq[i:i + n]


class DirectoryRepository:
    """The authoritative directory: dir_units, dir_parents (effective-dated), dir_people."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.shared = Directory(session)  # the shared queries (authorize, snapshot, actor…)

    # --- units ---------------------------------------------------------------------------------
    async def get_unit(self, unit_id: str) -> Unit | None:
        row = await self.shared.unit(unit_id)
        if row is None:
            return None
        first = (await self.session.execute(sa.select(dir_parents.c.parent_id).where(
            dir_parents.c.unit_id == unit_id).order_by(dir_parents.c.valid_from).limit(1))).first()
        return Unit(unit_id=row.unit_id, code=row.code, name=row.name, kind=row.kind,
                    parent_id=first.parent_id if first else None, effective_from=row.registered_on)

    async def unit(self, unit_id: str) -> DirUnit | None:
        return await self.shared.unit(unit_id)

    async def unit_by_code(self, code: str) -> DirUnit | None:
        row = (await self.session.execute(sa.select(dir_units).where(dir_units.c.code == code))).first()
        return dir_unit(row) if row else None

    async def versions(self, unit_id: str) -> list[UnitVersion]:
        rows = (await self.session.execute(sa.select(dir_parents).where(dir_parents.c.unit_id == unit_id)
                                           .order_by(dir_parents.c.valid_from))).all()
        return [UnitVersion(r.unit_id, r.parent_id, r.valid_from, r.valid_to) for r in rows]

    async def parent_as_of(self, unit_id: str, on: date) -> str | None:
        return await self.shared.parent_as_of(unit_id, on)

    async def units_info(self, unit_ids: Iterable[str] | None = None) -> dict[str, DirUnit]:
        q = sa.select(dir_units)
        if unit_ids is None:
            return {r.unit_id: dir_unit(r) for r in (await self.session.execute(q)).all()}
        out: dict[str, DirUnit] = {}
        for part in _chunks(sorted(set(unit_ids))):
            for r in (await self.session.execute(q.where(dir_units.c.unit_id.in_(part)))).all():
                out[r.unit_id] = dir_unit(r)
        return out

    async def load_hierarchy(self) -> tuple[Hierarchy, dict[str, DirUnit]]:
        """The whole effective-dated tree, and every unit's row."""
        info = await self.units_info()
        rows = (await self.session.execute(sa.select(dir_parents))).all()
        merged = {u: (r.merged_into, r.closed_on) for u, r in info.items() if r.merged_into and r.closed_on}
        h = Hierarchy.from_versions([UnitVersion(r.unit_id, r.parent_id, r.valid_from, r.valid_to) for r in rows],
                                    merged)
        return h, info

    async def existing_for_import(self) -> tuple[dict[str, Existing], dict[str, Existing]]:
        info = await self.units_info()
        firsts: dict[str, str | None] = {}
        for r in (await self.session.execute(sa.select(dir_parents.c.unit_id, dir_parents.c.parent_id,
                                                       dir_parents.c.valid_from)
                                             .order_by(dir_parents.c.valid_from))).all():
            firsts.setdefault(r.unit_id, r.parent_id)
        by_id = {u: Existing(u, r.code, r.name, r.kind, firsts.get(u), r.registered_on, r.closed_on is not None)
                 for u, r in info.items()}
        return {e.code: e for e in by_id.values()}, by_id

    async def insert_units(self, rows: list[dict[str, Any]]) -> None:
        """rows of {unit_id, code, name, kind, parent_id, effective_from}."""
        if not rows:
            return
        for part in _chunks(rows):
            await self.session.execute(dir_units.insert(), [
                {"unit_id": r["unit_id"], "code": r["code"], "name": r["name"], "kind": r["kind"],
                 "registered_on": r["effective_from"], "closed_on": None, "merged_into": None} for r in part])
            await self.session.execute(dir_parents.insert(), [
                {"unit_id": r["unit_id"], "valid_from": r["effective_from"], "valid_to": None,
                 "parent_id": r["parent_id"]} for r in part])

    async def write_versions(self, unit_id: str, versions: list[UnitVersion]) -> None:
        """Replace a unit's stored history with the domain's (after a move or a merge)."""
        await self.session.execute(dir_parents.delete().where(dir_parents.c.unit_id == unit_id))
        if versions:
            await self.session.execute(dir_parents.insert(), [
                {"unit_id": v.unit_id, "valid_from": v.valid_from, "valid_to": v.valid_to, "parent_id": v.parent_id}
                for v in versions])

    async def set_closed(self, unit_id: str, on: date, merged_into: str | None) -> None:
        await self.session.execute(dir_units.update().where(dir_units.c.unit_id == unit_id)
                                   .values(closed_on=on, merged_into=merged_into))

    # --- people --------------------------------------------------------------------------------
    async def get_person(self, person_id: str) -> Person | None:
        row = await self.shared.person(person_id)
        return None if row is None else _person(row)

    async def person(self, person_id: str) -> DirPerson | None:
        return await self.shared.person(person_id)

    async def add_person(self, p: Person, active: bool = True) -> None:
        await self.session.execute(dir_people.insert().values(
            person_id=p.person_id, unit_id=p.unit_id, full_name=p.full_name, roles=list(p.roles), email=p.email,
            phone=p.phone, active=active))

    async def update_person(self, person_id: str, **values: Any) -> None:
        await self.session.execute(dir_people.update().where(dir_people.c.person_id == person_id).values(**values))

    async def people_in(self, unit_ids: Iterable[str], include_inactive: bool = False) -> list[Any]:
        out: list[Any] = []
        for part in _chunks(sorted(set(unit_ids))):
            q = sa.select(dir_people).where(dir_people.c.unit_id.in_(part))
            if not include_inactive:
                q = q.where(dir_people.c.active.is_(True))
            out.extend((await self.session.execute(q)).all())
        out.sort(key=lambda r: (r.unit_id, r.person_id))
        return out

    async def role_units(self) -> dict[str, set[str]]:
        """role -> units with an active person of that role."""
        out: dict[str, set[str]] = {}
        rows = (await self.session.execute(sa.select(dir_people.c.unit_id, dir_people.c.roles)
                                           .where(dir_people.c.active.is_(True)))).all()
        for r in rows:
            for role in r.roles or ():
                out.setdefault(role, set()).add(r.unit_id)
        return out


def _person(row: Any) -> Person:
    return Person(person_id=row.person_id, unit_id=row.unit_id, full_name=row.full_name, roles=list(row.roles),
                  email=row.email, phone=row.phone)


class PlanRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, plan_id: str, for_update: bool = False) -> Any:
        q = sa.select(plans).where(plans.c.plan_id == plan_id)
        if for_update and self.session.get_bind().dialect.name == "postgresql":
            q = q.with_for_update()
        return (await self.session.execute(q)).first()

    async def add(self, **values: Any) -> None:
        await self.session.execute(plans.insert().values(**values))

    async def update(self, plan_id: str, **values: Any) -> None:
        await self.session.execute(plans.update().where(plans.c.plan_id == plan_id).values(**values))

    async def add_revision(self, **values: Any) -> None:
        await self.session.execute(plan_revisions.insert().values(**values))

    async def revisions(self, plan_id: str) -> list[Any]:
        return list((await self.session.execute(sa.select(
            plan_revisions.c.revision, plan_revisions.c.issued_on, plan_revisions.c.issued_at,
            plan_revisions.c.issued_by, plan_revisions.c.note).where(plan_revisions.c.plan_id == plan_id)
            .order_by(plan_revisions.c.revision))).all())

    async def revision(self, plan_id: str, revision: int) -> Any:
        return (await self.session.execute(sa.select(plan_revisions).where(
            plan_revisions.c.plan_id == plan_id, plan_revisions.c.revision == revision))).first()

    async def documents(self, keys: Iterable[tuple[str, int]]) -> dict[tuple[str, int], dict[str, Any]]:
        out: dict[tuple[str, int], dict[str, Any]] = {}
        for plan_id, rev in set(keys):
            row = await self.revision(plan_id, rev)
            if row is not None:
                out[(plan_id, rev)] = row.document
        return out

    async def find(self, *, issuer_ids: Iterable[str] | None = None, parent_plan_id: str | None = None,
                   status: str | None = None, offset: int = 0, limit: int = 50) -> tuple[int, list[Any]]:
        q = sa.select(plans)
        if issuer_ids is not None:
            ids = sorted(set(issuer_ids))
            if not ids:
                return 0, []
            q = q.where(plans.c.issuer_unit_id.in_(ids))
        if parent_plan_id is not None:
            q = q.where(plans.c.parent_plan_id == parent_plan_id)
        if status is not None:
            q = q.where(plans.c.status == status)
        total = (await self.session.execute(sa.select(sa.func.count()).select_from(q.subquery()))).scalar_one()
        rows = (await self.session.execute(q.order_by(plans.c.created_at.desc(), plans.c.plan_id)
                                           .offset(offset).limit(limit))).all()
        return int(total), list(rows)

    async def running(self) -> list[Any]:
        """Issued plans with items (not closed, not registered implementation plans)."""
        return list((await self.session.execute(sa.select(plans).where(
            plans.c.status == "issued", plans.c.kind == "plan"))).all())


class TaskRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def keys_of_plan(self, plan_id: str) -> dict[tuple[str, str, str], Any]:
        rows = (await self.session.execute(sa.select(
            occurrences.c.occurrence_id, occurrences.c.plan_id, occurrences.c.unit_id, occurrences.c.item_id,
            occurrences.c.period, occurrences.c.status, occurrences.c.due_date, occurrences.c.start_date, occurrences.c.output,
            occurrences.c.revision).where(occurrences.c.plan_id == plan_id))).all()
        return {(r.unit_id, r.item_id, r.period): r for r in rows}

    async def insert_many(self, rows: list[dict[str, Any]]) -> None:
        await bulk_insert(self.session, occurrences, rows)

    async def get(self, occurrence_id: str, for_update: bool = False) -> Any:
        q = sa.select(occurrences).where(occurrences.c.occurrence_id == occurrence_id)
        if for_update and self.session.get_bind().dialect.name == "postgresql":
            q = q.with_for_update()
        return (await self.session.execute(q)).first()

    async def update(self, occurrence_id: str, **values: Any) -> None:
        await self.session.execute(occurrences.update().where(occurrences.c.occurrence_id == occurrence_id)
                                   .values(**values))

    async def update_many(self, ids: list[str], **values: Any) -> None:
        for part in _chunks(ids):
            await self.session.execute(occurrences.update().where(occurrences.c.occurrence_id.in_(part))
                                       .values(**values))

    async def not_done(self, *, plan_id: str | None = None, unit_ids: Iterable[str] | None = None) -> list[Any]:
        q = sa.select(occurrences).where(occurrences.c.status.in_(("open", "in_progress")))
        if plan_id is not None:
            q = q.where(occurrences.c.plan_id == plan_id)
        if unit_ids is None:
            return list((await self.session.execute(q)).all())
        out: list[Any] = []
        for part in _chunks(sorted(set(unit_ids))):
            out.extend((await self.session.execute(q.where(occurrences.c.unit_id.in_(part)))).all())
        return out

    async def of_unit_for_output(self, plan_id: str, unit_id: str, output: str) -> list[Any]:
        return list((await self.session.execute(sa.select(occurrences).where(
            occurrences.c.plan_id == plan_id, occurrences.c.unit_id == unit_id, occurrences.c.output == output)
            .order_by(occurrences.c.period))).all())

    async def of_unit_item(self, plan_id: str, unit_id: str, item_id: str, period: str, for_update: bool = False) -> Any:
        """A unit's occurrence of one item of a plan for one period, if it has one."""
        q = sa.select(occurrences).where(occurrences.c.plan_id == plan_id, occurrences.c.unit_id == unit_id,
                                         occurrences.c.item_id == item_id, occurrences.c.period == period)
        if for_update and self.session.get_bind().dialect.name == "postgresql":
            q = q.with_for_update()
        return (await self.session.execute(q)).first()

    def _filtered(self, q: Any, unit_id: str, plan_id: str | None, year: int | None, status: str | None) -> Any:
        q = q.where(occurrences.c.unit_id == unit_id, occurrences.c.status != "withdrawn")
        if plan_id:
            q = q.where(occurrences.c.plan_id == plan_id)
        if year:
            q = q.where(occurrences.c.period.startswith(str(year)))
        if status:
            q = q.where(occurrences.c.status == status)
        return q

    async def list_for_unit(self, unit_id: str, plan_id: str | None, year: int | None, status: str | None) -> list[Any]:
        q = self._filtered(sa.select(occurrences), unit_id, plan_id, year, status)
        q = q.order_by(sa.case((occurrences.c.due_date.is_(None), 1), else_=0), occurrences.c.due_date,
                       occurrences.c.period, occurrences.c.item_id, occurrences.c.occurrence_id)
        return list((await self.session.execute(q)).all())

    async def grouped(self, plan_id: str | None, year: int | None,
                      unit_ids: Iterable[str] | None = None) -> list[TaskCount]:
        """Counts by (unit, due date, period year, status, on_time): what a rollup needs."""
        year_col = sa.func.substr(occurrences.c.period, 1, 4).label("year")
        q = (sa.select(occurrences.c.unit_id, occurrences.c.due_date, year_col, occurrences.c.status,
                       occurrences.c.on_time, sa.func.count().label("n"))
             .where(occurrences.c.status != "withdrawn")
             .group_by(occurrences.c.unit_id, occurrences.c.due_date, year_col, occurrences.c.status,
                       occurrences.c.on_time))
        if plan_id:
            q = q.where(occurrences.c.plan_id == plan_id)
        if year:
            q = q.where(occurrences.c.period.startswith(str(year)))
        if unit_ids is None:
            rows = list((await self.session.execute(q)).all())
        else:
            rows = []
            for part in _chunks(sorted(set(unit_ids))):
                rows.extend((await self.session.execute(q.where(occurrences.c.unit_id.in_(part)))).all())
        return [TaskCount(r.unit_id, r.due_date, str(r.year), r.status, r.on_time, int(r.n)) for r in rows]


class ReportRequirementRepository:
    """Reporting requirements reports opened from a plan item: requirement → (plan, item, period)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, requirement_id: str) -> Any:
        return (await self.session.execute(sa.select(report_requirements).where(
            report_requirements.c.requirement_id == requirement_id))).first()

    async def remember(self, requirement_id: str, plan_id: str, item_id: str, period: str, at: datetime) -> bool:
        """Record the requirement's source once (a requirement's source never changes); False when
        it was known already."""
        result = await self.session.execute(insert_new(self.session, report_requirements).values(
            requirement_id=requirement_id, plan_id=plan_id, item_id=item_id, period=period, recorded_at=at))
        return bool(getattr(result, "rowcount", 0))

    async def progress(self, requirement_id: str, unit_id: str) -> tuple[int, str] | None:
        """(revision, stage) of the unit's report as last recorded, or None."""
        row = (await self.session.execute(sa.select(report_progress.c.revision, report_progress.c.stage).where(
            report_progress.c.requirement_id == requirement_id, report_progress.c.unit_id == unit_id))).first()
        return (int(row.revision), str(row.stage)) if row is not None else None

    async def set_progress(self, requirement_id: str, unit_id: str, report_id: str, revision: int, stage: str,
                           at: datetime, known: bool) -> None:
        values = dict(report_id=report_id, revision=revision, stage=stage, updated_at=at)
        if known:
            await self.session.execute(report_progress.update().where(
                report_progress.c.requirement_id == requirement_id, report_progress.c.unit_id == unit_id)
                .values(**values))
        else:
            await self.session.execute(report_progress.insert().values(requirement_id=requirement_id,
                                                                       unit_id=unit_id, **values))


class ReminderRepository:
    """Deadline reminders, in runtime.scheduler's table (the scheduler fires them)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add_new(self, rows: list[dict[str, Any]]) -> None:
        """Insert reminders whose keys cannot exist yet (they name a new occurrence or revision);
        each payload is given as its JSON text."""
        await bulk_insert(self.session, reminders, [{**r, "cancelled": False} for r in rows], prepared={"payload"})

    async def add(self, rows: list[dict[str, Any]]) -> int:
        return await schedule_many(self.session, rows)

    async def cancel(self, key_prefix: str) -> None:
        await cancel(self.session, key_prefix)

    async def cancel_keys(self, keys: list[str]) -> None:
        for part in _chunks(keys):
            await self.session.execute(reminders.update().where(reminders.c.key.in_(part),
                                                                reminders.c.fired_at.is_(None))
                                       .values(cancelled=True))


class IndividualPlanRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, person_id: str, year: int) -> Any:
        return (await self.session.execute(sa.select(individual_plans).where(
            individual_plans.c.person_id == person_id, individual_plans.c.year == year))).first()

    async def add(self, **values: Any) -> None:
        await self.session.execute(individual_plans.insert().values(**values))

    async def update(self, individual_plan_id: str, **values: Any) -> None:
        await self.session.execute(individual_plans.update().where(
            individual_plans.c.individual_plan_id == individual_plan_id).values(**values))

    async def of_people(self, person_ids: Iterable[str], year: int) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for part in _chunks(sorted(set(person_ids))):
            for r in (await self.session.execute(sa.select(individual_plans).where(
                    individual_plans.c.person_id.in_(part), individual_plans.c.year == year))).all():
                out[r.person_id] = r
        return out


class ImportRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def parts(self, import_id: str) -> list[Any]:
        return list((await self.session.execute(sa.select(import_parts).where(import_parts.c.import_id == import_id)
                                                .order_by(import_parts.c.part))).all())

    async def add_part(self, import_id: str, part: int, parts: int, csv: str, now: datetime) -> None:
        await self.session.execute(import_parts.insert().values(import_id=import_id, part=part, parts=parts, csv=csv,
                                                                created_at=now))

    async def drop(self, import_id: str) -> None:
        await self.session.execute(import_parts.delete().where(import_parts.c.import_id == import_id))

    async def drop_stale(self, before: datetime) -> None:
        """Parts of imports never completed (a client gave up) are kept a day, then dropped."""
        await self.session.execute(import_parts.delete().where(import_parts.c.created_at < before))


class LoginRepository:
    """People's logins and their refresh tokens."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def by_username(self, username: str) -> Login | None:
        row = (await self.session.execute(sa.select(logins).where(logins.c.username == username))).first()
        return Login(**row._mapping) if row else None

    async def by_person(self, person_id: str) -> Login | None:
        row = (await self.session.execute(sa.select(logins).where(logins.c.person_id == person_id))).first()
        return Login(**row._mapping) if row else None

    async def save(self, login: Login) -> None:
        values = {c.name: getattr(login, c.name) for c in logins.columns}
        if await self.by_person(login.person_id) is None:
            await self.session.execute(logins.insert().values(**values))
        else:
            await self.session.execute(logins.update().where(logins.c.person_id == login.person_id).values(**values))

    async def add_refresh(self, r: RefreshRecord) -> None:
        await self.session.execute(refresh_tokens.insert().values(**{c.name: getattr(r, c.name)
                                                                      for c in refresh_tokens.columns}))

    async def refresh(self, token_hash: str, *, for_update: bool = False) -> RefreshRecord | None:
        q = sa.select(refresh_tokens).where(refresh_tokens.c.token_hash == token_hash)
        if for_update:
            q = q.with_for_update()
        row = (await self.session.execute(q)).first()
        return RefreshRecord(**row._mapping) if row else None

    async def use_refresh(self, token_hash: str, at: datetime) -> bool:
        """Mark a refresh token used; False when it already was (a concurrent or replayed use)."""
        res = await self.session.execute(refresh_tokens.update().where(
            refresh_tokens.c.token_hash == token_hash, refresh_tokens.c.used_at.is_(None)).values(used_at=at))
        return bool(res.rowcount)  # type: ignore[attr-defined]  # an UPDATE's CursorResult

    async def revoke_family(self, family_id: str, at: datetime) -> None:
        await self.session.execute(refresh_tokens.update().where(
            refresh_tokens.c.family_id == family_id, refresh_tokens.c.revoked_at.is_(None)).values(revoked_at=at))

    async def revoke_person(self, person_id: str, at: datetime) -> None:
        await self.session.execute(refresh_tokens.update().where(
            refresh_tokens.c.person_id == person_id, refresh_tokens.c.revoked_at.is_(None)).values(revoked_at=at))

    async def drop_expired(self, before: datetime) -> None:
        await self.session.execute(refresh_tokens.delete().where(refresh_tokens.c.expires_at < before))


__all__ = ["DirectoryRepository", "PlanRepository", "TaskRepository", "ReminderRepository", "IndividualPlanRepository",
           "ImportRepository", "LoginRepository"]
