"""Repositories of the reports service, on SQLAlchemy Core.

The submission path is the hot path of the stack (reports cluster in the last days before 30/11):
its statements are built once, at import, with bind parameters, and run on the session's
connection — no ORM identity map, no flush. A submission costs one read that brings the unit (and
its current parent), the requirement and the unit's existing report together, then an insert or
an update and the outbox row.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from pydantic_core import from_json
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from runtime.db import plain_rows
from runtime.directory import DirPerson, dir_parents, dir_people, dir_person, dir_units
from services.reports.adapters.orm import (
    consolidations,
    exports,
    forms,
    report_reviews,
    report_revisions,
    reports,
    requirements,
)
from services.reports.domain.consolidation import HierarchySnapshot
from services.reports.domain.model import (
    Department,
    ExportPart,
    Link,
    Report,
    ReportRevision,
    Requirement,
    ReviewEntry,
    Standing,
)

P = sa.bindparam


def _valid_on(t: sa.Table | Any, on: Any) -> Any:
    return sa.and_(t.c.valid_from <= on, sa.or_(t.c.valid_to.is_(None), t.c.valid_to > on))


# --- mapping ---------------------------------------------------------------------------------------

REPORT_COLS = [c for c in reports.c]
REQ_COLS = [c for c in requirements.c]


def report_of(row: Any, prefix: str = "") -> Report:
    g = row._mapping
    return Report(
        report_id=g[prefix + "report_id"], requirement_id=g[prefix + "requirement_id"], period=g[prefix + "period"],
        unit_id=g[prefix + "unit_id"], receiving_unit_id=g[prefix + "receiving_unit_id"],
        revision=g[prefix + "revision"], submitted_at=g[prefix + "submitted_at"], due_date=g[prefix + "due_date"],
        on_time=g[prefix + "on_time"], values=g[prefix + "values"] or {}, status=g[prefix + "status"],
        first_submitted_at=g[prefix + "first_submitted_at"], form_id=g[prefix + "form_id"],
        form_version=g[prefix + "form_version"], submission_id=g[prefix + "submission_id"],
        draft_values=g[prefix + "draft_values"], review_comment=g[prefix + "review_comment"])


def requirement_of(row: Any, prefix: str = "") -> Requirement:
    g = row._mapping
    return Requirement(
        requirement_id=g[prefix + "requirement_id"], name=g[prefix + "name"],
        issuer_unit_id=g[prefix + "issuer_unit_id"], receiving_unit_id=g[prefix + "receiving_unit_id"],
        reporting_kinds=tuple(g[prefix + "reporting_kinds"]), period=g[prefix + "period"],
        due_date=g[prefix + "due_date"], form_id=g[prefix + "form_id"], form_version=g[prefix + "form_version"],
        grace_days=g[prefix + "grace_days"], cutoff_date=g[prefix + "cutoff_date"],
        hierarchy_as_of=g[prefix + "hierarchy_as_of"], content=g[prefix + "content"],
        receiving_department=g[prefix + "receiving_department"],
        reminder_days=tuple(g[prefix + "reminder_days"]), source_plan_id=g[prefix + "source_plan_id"],
        source_item_id=g[prefix + "source_item_id"], opened_at=g[prefix + "opened_at"])


def _link(row: Any) -> Link:
    return Link(row.unit_id, row.parent_id, row.depth, row.kind, row.name, row.closed_on, row.merged_into)


def figures_of(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if type(v) in (int, float)}


def _report_values(r: Report) -> dict[str, Any]:
    return {"figures": figures_of(r.values), "report_id": r.report_id, "requirement_id": r.requirement_id,
            "period": r.period, "unit_id": r.unit_id,
            "receiving_unit_id": r.receiving_unit_id, "revision": r.revision, "submitted_at": r.submitted_at,
            "due_date": r.due_date, "on_time": r.on_time, "values": r.values, "status": r.status,
            "first_submitted_at": r.first_submitted_at, "form_id": r.form_id, "form_version": r.form_version,
            "submission_id": r.submission_id, "draft_values": r.draft_values, "review_comment": r.review_comment}


# --- statements of the submission path (built once) -----------------------------------------------

_u, _p, _q, _r = dir_units.alias("u"), dir_parents.alias("p"), requirements.alias("q"), reports.alias("r")

# The unit (with its parent on :today), the requirement and the unit's report, in one read.
UNIT_REQUIREMENT_REPORT = (
    sa.select(_u.c.unit_id.label("u_unit_id"), _u.c.kind.label("u_kind"), _u.c.closed_on.label("u_closed_on"),
              _u.c.merged_into.label("u_merged_into"), _p.c.parent_id.label("u_parent_id"),
              *[c.label("q_" + c.name) for c in _q.c], *[c.label("r_" + c.name) for c in _r.c])
    .select_from(_u)
    .outerjoin(_p, sa.and_(_p.c.unit_id == _u.c.unit_id, _valid_on(_p, P("today", type_=sa.Date))))
    .outerjoin(_q, _q.c.requirement_id == P("requirement_id"))
    .outerjoin(_r, sa.and_(_r.c.requirement_id == P("requirement_id"), _r.c.period == P("period"),
                           _r.c.unit_id == _u.c.unit_id))
    .where(_u.c.unit_id == P("unit_id"))
)

# The unit and its ancestors on :on, nearest first (one recursive read).
_p0, _p1 = dir_parents.alias("p0"), dir_parents.alias("p1")
_chain = (sa.select(_p0.c.unit_id, _p0.c.parent_id, sa.literal(0).label("depth"))
          .where(_p0.c.unit_id == P("unit_id"), _valid_on(_p0, P("on", type_=sa.Date)))
          .cte("chain", recursive=True))
_chain = _chain.union_all(
    sa.select(_p1.c.unit_id, _p1.c.parent_id, (_chain.c.depth + 1).label("depth"))
    .where(_p1.c.unit_id == _chain.c.parent_id, _valid_on(_p1, P("on", type_=sa.Date)), _chain.c.depth < 64))
CHAIN = (sa.select(_chain.c.unit_id, _chain.c.parent_id, _chain.c.depth, dir_units.c.kind, dir_units.c.name,
                   dir_units.c.closed_on, dir_units.c.merged_into)
         .join(dir_units, dir_units.c.unit_id == _chain.c.unit_id).order_by(_chain.c.depth))

# The same, with the unit's report of a requirement and period on the first row (r_* columns).
_rc = reports.alias("rc")
CHAIN_AND_REPORT = (
    sa.select(_chain.c.unit_id, _chain.c.parent_id, _chain.c.depth, dir_units.c.kind, dir_units.c.name,
              dir_units.c.closed_on, dir_units.c.merged_into, *[c.label("r_" + c.name) for c in _rc.c])
    .join(dir_units, dir_units.c.unit_id == _chain.c.unit_id)
    .outerjoin(_rc, sa.and_(_chain.c.depth == 0, _rc.c.unit_id == _chain.c.unit_id,
                            _rc.c.requirement_id == P("requirement_id"), _rc.c.period == P("period")))
    .order_by(_chain.c.depth))

REPORT_BY_ID = sa.select(*REPORT_COLS).where(reports.c.report_id == P("report_id"))
INSERT_REPORT = reports.insert()
INSERT_REVISION = report_revisions.insert()
UPDATE_SUBMISSION = (reports.update()
                     .where(reports.c.report_id == P("b_report_id"), reports.c.revision == P("b_revision"),
                            reports.c.status == P("b_status"))
                     .values(revision=P("revision"), submitted_at=P("submitted_at"), on_time=P("on_time"),
                             values=P("values", type_=sa.JSON), status=P("status"),
                             first_submitted_at=P("first_submitted_at"), form_id=P("form_id"),
                             form_version=P("form_version"), submission_id=P("submission_id"),
                             figures=P("figures", type_=sa.JSON),
                             submitted_by=P("submitted_by"), receiving_unit_id=P("receiving_unit_id"),
                             draft_values=sa.null(), review_comment=sa.null()))


class ReportsRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self._conn: AsyncConnection | None = None

    async def conn(self) -> AsyncConnection:
        if self._conn is None:
            self._conn = await self.session.connection()
        return self._conn

    # --- submission path

    async def standing(self, unit_id: str, requirement_id: str, period: str, today: date) -> Standing | None:
        """The requirement and the unit's report of the period, in one read (the unit with its
        parent today joined in); None when the unit is unknown here."""
        row = (await (await self.conn()).execute(UNIT_REQUIREMENT_REPORT, {
            "unit_id": unit_id, "requirement_id": requirement_id, "period": period, "today": today})).first()
        if row is None:
            return None
        return Standing(requirement_of(row, "q_") if row.q_requirement_id is not None else None,
                        report_of(row, "r_") if row.r_report_id is not None else None)

    async def chain(self, unit_id: str, on: date) -> list[Link]:
        """The unit and its ancestors on ``on``, nearest first; empty when the unit was not in the
        hierarchy that day."""
        return [_link(r) for r in (await (await self.conn()).execute(CHAIN, {"unit_id": unit_id, "on": on})).all()]

    async def chain_and_report(self, unit_id: str, on: date, requirement_id: str,
                               period: str) -> tuple[list[Link], Report | None]:
        """``chain`` and the unit's report of the requirement and period, in one read."""
        rows = list((await (await self.conn()).execute(CHAIN_AND_REPORT, {
            "unit_id": unit_id, "on": on, "requirement_id": requirement_id, "period": period})).all())
        return [_link(r) for r in rows], (report_of(rows[0], "r_") if rows and rows[0].r_report_id is not None
                                          else None)

    async def get(self, report_id: str) -> Report | None:
        row = (await (await self.conn()).execute(REPORT_BY_ID, {"report_id": report_id})).first()
        return report_of(row) if row else None

    async def insert(self, r: Report, submitted_by: str | None = None, draft_saved_at: datetime | None = None) -> None:
        await (await self.conn()).execute(INSERT_REPORT, {**_report_values(r), "submitted_by": submitted_by,
                                                          "draft_saved_at": draft_saved_at})

    async def update_submission(self, r: Report, before_revision: int, before_status: str,
                                submitted_by: str | None) -> bool:
        """Store a (re)submission; False when the report changed meanwhile (retry)."""
        res = await (await self.conn()).execute(UPDATE_SUBMISSION, {
            "b_report_id": r.report_id, "b_revision": before_revision, "b_status": before_status,
            "revision": r.revision, "submitted_at": r.submitted_at, "on_time": r.on_time, "values": r.values,
            "figures": figures_of(r.values),
            "status": r.status, "first_submitted_at": r.first_submitted_at, "form_id": r.form_id,
            "form_version": r.form_version, "submission_id": r.submission_id, "submitted_by": submitted_by,
            "receiving_unit_id": r.receiving_unit_id})
        return res.rowcount == 1

    async def save_draft(self, report_id: str, values: dict[str, Any], at: datetime) -> None:
        await (await self.conn()).execute(reports.update().where(reports.c.report_id == report_id)
                                          .values(draft_values=values, draft_saved_at=at))

    # --- review

    async def update_review(self, r: Report, before_status: str, at: datetime, actor_id: str,
                            by_unit_id: str | None) -> bool:
        res = await (await self.conn()).execute(
            reports.update().where(reports.c.report_id == r.report_id, reports.c.revision == r.revision,
                                   reports.c.status == before_status)
            .values(status=r.status, review_comment=r.review_comment, reviewed_at=at, reviewed_by=actor_id,
                    reviewed_by_unit_id=by_unit_id, receiving_unit_id=r.receiving_unit_id))
        return res.rowcount == 1

    async def add_review(self, r: Report, action: str, at: datetime, actor_id: str | None, by_unit_id: str | None,
                         comment: str | None) -> None:
        await (await self.conn()).execute(report_reviews.insert().values(
            report_id=r.report_id, revision=r.revision, action=action, by_unit_id=by_unit_id, actor_id=actor_id,
            comment=comment, at=at))

    async def add_revision(self, r: Report, submitted_by: str | None) -> None:
        """Keep the revision just stored (its values, who, when) for good."""
        await (await self.conn()).execute(INSERT_REVISION, {
            "report_id": r.report_id, "revision": r.revision, "values": r.values, "submitted_at": r.submitted_at,
            "submitted_by": submitted_by, "on_time": r.on_time, "form_id": r.form_id, "form_version": r.form_version,
            "submission_id": r.submission_id})

    async def revisions(self, report_id: str) -> list[ReportRevision]:
        rows = (await (await self.conn()).execute(
            sa.select(report_revisions).where(report_revisions.c.report_id == report_id)
            .order_by(report_revisions.c.revision))).all()
        return [ReportRevision(report_id=r.report_id, revision=r.revision, values=r.values or {},
                               submitted_at=r.submitted_at, submitted_by=r.submitted_by, on_time=r.on_time,
                               form_id=r.form_id, form_version=r.form_version) for r in rows]

    async def history(self, report_id: str) -> list[ReviewEntry]:
        rows = (await (await self.conn()).execute(
            sa.select(report_reviews).where(report_reviews.c.report_id == report_id)
            .order_by(report_reviews.c.id))).all()
        return [ReviewEntry(r.action, r.revision, r.by_unit_id, r.actor_id, r.comment, r.at) for r in rows]

    # --- lists and figures

    async def page(self, requirement_id: str, receiving_unit_id: str | None, status: str | None, limit: int,
                   cursor: str | None, unit_id: str | None = None) -> list[Report]:
        q = sa.select(*REPORT_COLS).where(reports.c.requirement_id == requirement_id)
        if unit_id:
            q = q.where(reports.c.unit_id == unit_id)
        if receiving_unit_id:
            q = q.where(reports.c.receiving_unit_id == receiving_unit_id)
        if status:
            q = q.where(reports.c.status == status)
        if cursor:
            q = q.where(reports.c.report_id > cursor)
        rows = (await (await self.conn()).execute(q.order_by(reports.c.report_id).limit(limit))).all()
        return [report_of(r) for r in rows]

    async def statuses(self, requirement_id: str, period: str) -> dict[str, str]:
        rows = (await (await self.conn()).execute(
            sa.select(reports.c.unit_id, reports.c.status)
            .where(reports.c.requirement_id == requirement_id, reports.c.period == period))).all()
        return {u: s for u, s in rows}

    async def submissions(self, requirement_id: str, period: str, *, with_values: bool,
                          times: bool = True) -> list[tuple[Any, ...]]:
        """(unit_id, status, on_time, submitted_at[, figures]) of every submitted report (drafts
        left out): the numbers only (`figures`, written with every submission). times=False:
        submitted_at None (a national read spends a third of its time making 120,000 aware
        timestamps; `submitted_at_of` reads the few a document shows)."""
        # Read as the driver's rows (runtime.db.plain_rows): on_time as the stored integer or bool,
        # the figures as JSON text on SQLite (parsed here) or as decoded by asyncpg's codec.
        cols: list[Any] = [reports.c.unit_id, reports.c.status, sa.type_coerce(reports.c.on_time, sa.Integer),
                           reports.c.submitted_at if times else sa.null()]
        if with_values:
            cols.append(sa.type_coerce(reports.c.figures, sa.Text))
        rows = await plain_rows(await self.conn(), sa.select(*cols).where(
            reports.c.requirement_id == requirement_id, reports.c.period == period, reports.c.status != "draft"))
        if not with_values:
            return [(r[0], r[1], bool(r[2]), r[3]) for r in rows]
        return [(r[0], r[1], bool(r[2]), r[3], (from_json(r[4]) if isinstance(r[4], str | bytes) else r[4]) or {})
                for r in rows]

    async def submitted_at_of(self, requirement_id: str, period: str, unit_ids: list[str]) -> dict[str, Any]:
        """When these units' submitted reports came (drafts left out)."""
        out: dict[str, Any] = {}
        conn = await self.conn()
        for i in range(0, len(unit_ids), 500):
            rows = (await conn.execute(sa.select(reports.c.unit_id, reports.c.submitted_at).where(
                reports.c.requirement_id == requirement_id, reports.c.period == period, reports.c.status != "draft",
                reports.c.unit_id.in_(unit_ids[i:i + 500])))).all()
            out.update({u: t for u, t in rows if t is not None})
        return out

    async def values_of(self, requirement_id: str, period: str, unit_ids: list[str]) -> dict[str, dict[str, Any]]:
        """The whole values (narratives included) of these units' reports."""
        out: dict[str, dict[str, Any]] = {}
        conn = await self.conn()
        for i in range(0, len(unit_ids), 500):
            rows = (await conn.execute(sa.select(reports.c.unit_id, reports.c["values"]).where(
                reports.c.requirement_id == requirement_id, reports.c.period == period,
                reports.c.unit_id.in_(unit_ids[i:i + 500])))).all()
            out.update({u: v or {} for u, v in rows})
        return out


class RequirementsRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, requirement_id: str) -> Requirement | None:
        row = (await self.session.execute(sa.select(*REQ_COLS)
                                          .where(requirements.c.requirement_id == requirement_id))).first()
        return requirement_of(row) if row else None

    async def by_source(self, plan_id: str, item_id: str, period: str) -> Requirement | None:
        row = (await self.session.execute(sa.select(*REQ_COLS).where(
            requirements.c.source_plan_id == plan_id, requirements.c.source_item_id == item_id,
            requirements.c.period == period))).first()
        return requirement_of(row) if row else None

    async def add(self, q: Requirement, opened_by: str | None) -> None:
        await self.session.execute(requirements.insert().values(
            requirement_id=q.requirement_id, name=q.name, content=q.content, issuer_unit_id=q.issuer_unit_id,
            receiving_unit_id=q.receiving_unit_id, receiving_department=q.receiving_department,
            reporting_kinds=list(q.reporting_kinds), period=q.period, due_date=q.due_date, grace_days=q.grace_days,
            cutoff_date=q.cutoff_date, hierarchy_as_of=q.hierarchy_as_of, form_id=q.form_id,
            form_version=q.form_version, reminder_days=list(q.reminder_days), source_plan_id=q.source_plan_id,
            source_item_id=q.source_item_id, opened_at=q.opened_at, opened_by=opened_by))

    async def page(self, issuer_unit_id: str | None, period: str | None, limit: int,
                   cursor: str | None) -> list[Requirement]:
        q = sa.select(*REQ_COLS)
        if issuer_unit_id:
            q = q.where(requirements.c.issuer_unit_id == issuer_unit_id)
        if period:
            q = q.where(requirements.c.period == period)
        if cursor:
            q = q.where(requirements.c.requirement_id > cursor)
        rows = (await self.session.execute(q.order_by(requirements.c.requirement_id).limit(limit))).all()
        return [requirement_of(r) for r in rows]


class FormsRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, form_id: str, version: int | None) -> dict[str, Any] | None:
        q = sa.select(forms.c.definition).where(forms.c.form_id == form_id)
        q = q.where(forms.c.version == version) if version is not None else q.order_by(forms.c.version.desc())
        return (await self.session.execute(q.limit(1))).scalar_one_or_none()

    async def add(self, form_id: str, version: int, definition: dict[str, Any], at: datetime,
                  by: str | None) -> None:
        await self.session.execute(forms.insert().values(form_id=form_id, version=version, definition=definition,
                                                         registered_at=at, registered_by=by))


class ConsolidationsRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, **values: Any) -> None:
        await self.session.execute(consolidations.insert().values(**values))

    async def add_export(self, **values: Any) -> None:
        await self.session.execute(exports.insert().values(**values))

    async def export_chunk(self, export_id: str, offset: int, limit: int) -> ExportPart | None:
        """The export's record with ``limit`` bytes of its content from ``offset`` (read in the
        database: a chunk, never the whole file), or None."""
        chunk = sa.func.substr(exports.c.content, offset + 1, limit)
        r = (await self.session.execute(
            sa.select(*[c for c in exports.c if c.name != "content"], sa.type_coerce(chunk, sa.LargeBinary)
                      .label("chunk")).where(exports.c.export_id == export_id))).first()
        if r is None:
            return None
        return ExportPart(r.export_id, r.consolidation_id, r.requirement_id, r.unit_id, r.name, r.media_type, r.size,
                          r.sha256, r.created_at, bytes(r.chunk or b""))


# Children are listed the administrative way: departments, upper-level unions, affiliated units,
# then grassroots unions; by code within a kind.
_KIND_RANK = sa.case({"national_federation": 0, "provincial_federation": 1, "department": 2, "upper_level_union": 3,
                      "affiliated_unit": 4, "grassroots_union": 5}, value=dir_units.c.kind, else_=6)


class HierarchyQueries:
    """Read side of the directory projection beyond runtime.directory.Directory."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def snapshot(self, on: date) -> HierarchySnapshot:
        """The hierarchy on ``on`` as the consolidation's flat arrays: the same rows as
        runtime.directory.Directory.snapshot (units with a parent link valid that day), read
        straight into lists, in a stable order (children keep it). A unit whose parent is not in
        the projection that day is a root."""
        q = (sa.select(dir_parents.c.unit_id, dir_parents.c.parent_id, dir_units.c.name, dir_units.c.kind,
                       dir_units.c.code)
             .join(dir_units, dir_units.c.unit_id == dir_parents.c.unit_id)
             .where(_valid_on(dir_parents, on))
             .order_by(_KIND_RANK, dir_units.c.code, dir_units.c.unit_id))
        rows = await plain_rows(self.session, q)
        ids = [r[0] for r in rows]
        parents = [r[1] for r in rows]
        known = set(ids)
        if any(p is not None and p not in known for p in parents):
            parents = [p if p in known else None for p in parents]
        return HierarchySnapshot(ids, parents, [r[2] for r in rows], [r[3] for r in rows], as_of=on,
                                 codes=[r[4] for r in rows])

    async def departments(self, unit_id: str, on: date) -> list[Department]:
        """Units of kind department directly under ``unit_id`` on ``on``."""
        rows = (await self.session.execute(
            sa.select(dir_units.c.unit_id, dir_units.c.name, dir_units.c.code)
            .join(dir_parents, dir_parents.c.unit_id == dir_units.c.unit_id)
            .where(dir_parents.c.parent_id == unit_id, _valid_on(dir_parents, on),
                   dir_units.c.kind == "department"))).all()
        return [Department(r.unit_id, r.name, r.code) for r in rows]

    async def people(self, unit_id: str, roles: Iterable[str]) -> list[DirPerson]:
        """The active people of a unit holding one of ``roles``, by id."""
        wanted = set(roles)
        rows = (await self.session.execute(sa.select(dir_people).where(
            dir_people.c.unit_id == unit_id, dir_people.c.active.is_(True)).order_by(dir_people.c.person_id))).all()
        return [dir_person(r) for r in rows if wanted & set(r.roles or ())]

    async def has_unit(self, unit_id: str) -> bool:
        return (await self.session.execute(sa.select(dir_units.c.unit_id)
                                           .where(dir_units.c.unit_id == unit_id))).first() is not None
