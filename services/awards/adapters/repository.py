"""Repositories: domain objects in and out of the awards tables, and the directory queries awards
needs beyond the runtime's (routes up the tree, units merged into a unit)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from runtime.directory import Directory, DirPerson, DirUnit, dir_parents, dir_people, dir_person, dir_unit, dir_units
from services.awards.adapters.orm import (
    award_forms,
    awards,
    decisions,
    exemplary_models,
    nomination_route,
    nominations,
    plan_assessments,
    plan_closures,
    report_facts,
    round_sources,
    rounds,
)
from services.awards.domain.eligibility import Assessment, ReportRevision, UnitStanding
from services.awards.domain.model import (
    COUNTS_TO_QUOTA,
    Award,
    AwardForm,
    Decision,
    ExemplaryModel,
    Nomination,
    Round,
    RoundSource,
)

CHUNK = 500


def _chunks(items: list[str]) -> Iterable[list[str]]:
    for i in range(0, len(items), CHUNK):
        yield items[i:i + CHUNK]


# --- directory ---------------------------------------------------------------------------------

class AwardsDirectory(Directory):
    """The runtime's directory projection, with the walks awards needs."""

    async def route(self, unit_id: str, top_id: str, on: date) -> list[str] | None:
        """`unit_id` and its ancestors below `top_id` (just [top_id] for top_id itself), or None when
        `unit_id` is not in `top_id`'s subtree on `on`."""
        if unit_id == top_id:
            return [top_id]
        out, seen, current = [unit_id], {unit_id}, unit_id
        while True:
            parent = await self.parent_as_of(current, on)
            if parent is None or parent in seen:
                return None
            if parent == top_id:
                return out
            out.append(parent)
            seen.add(parent)
            current = parent

    async def within(self, unit_id: str, root_id: str, on: date) -> bool:
        return await self.route(unit_id, root_id, on) is not None

    async def predecessors(self, unit_id: str) -> list[str]:
        """Units merged into `unit_id`, directly or through other merges (their history is its)."""
        out: list[str] = []
        frontier = [unit_id]
        seen = {unit_id}
        while frontier:
            rows = (await self.session.execute(sa.select(dir_units.c.unit_id)
                                               .where(dir_units.c.merged_into.in_(frontier)))).scalars().all()
            frontier = [u for u in rows if u not in seen]
            seen.update(frontier)
            out.extend(frontier)
        return sorted(out)

    async def unit_names(self, unit_ids: Iterable[str]) -> dict[str, str]:
        ids = sorted(set(unit_ids))
        out: dict[str, str] = {}
        for chunk in _chunks(ids):
            for r in (await self.session.execute(sa.select(dir_units.c.unit_id, dir_units.c.name)
                                                 .where(dir_units.c.unit_id.in_(chunk)))).all():
                out[r.unit_id] = r.name
        return out

    async def units(self, unit_ids: Iterable[str]) -> dict[str, DirUnit]:
        ids = sorted(set(unit_ids))
        out: dict[str, DirUnit] = {}
        for chunk in _chunks(ids):
            for r in (await self.session.execute(sa.select(dir_units).where(dir_units.c.unit_id.in_(chunk)))).all():
                out[r.unit_id] = dir_unit(r)
        return out

    async def people(self, person_ids: Iterable[str]) -> dict[str, DirPerson]:
        ids = sorted(set(person_ids))
        out: dict[str, DirPerson] = {}
        for chunk in _chunks(ids):
            for r in (await self.session.execute(sa.select(dir_people).where(dir_people.c.person_id.in_(chunk)))).all():
                out[r.person_id] = dir_person(r)
        return out

    @staticmethod
    def scope(root_id: str, on: date) -> sa.Select[Any]:
        """A SELECT of unit ids: `root_id`, the units below it on `on`, and the units merged into any
        of them (recursively) — one query however large the tree."""
        p = dir_parents
        sub = sa.select(sa.literal(root_id, sa.String(100)).label("unit_id")).cte("scope_sub", recursive=True)
        sub = sub.union(sa.select(p.c.unit_id).join(sub, p.c.parent_id == sub.c.unit_id).where(
            p.c.valid_from <= on, sa.or_(p.c.valid_to.is_(None), p.c.valid_to > on)))
        u = dir_units
        merged = sa.select(u.c.unit_id).where(u.c.merged_into.in_(sa.select(sub.c.unit_id))).cte(
            "scope_merged", recursive=True)
        merged = merged.union(sa.select(u.c.unit_id).join(merged, u.c.merged_into == merged.c.unit_id))
        return sa.union(sa.select(sub.c.unit_id), sa.select(merged.c.unit_id))  # type: ignore[return-value]


# --- facts ---------------------------------------------------------------------------------------

class FactsRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def standings(self, unit_ids: Iterable[str], period: str) -> dict[str, UnitStanding]:
        ids = sorted(set(unit_ids))
        out = {u: UnitStanding(unit_id=u, period=period) for u in ids}
        for chunk in _chunks(ids):
            rows = (await self.session.execute(sa.select(report_facts).where(
                report_facts.c.unit_id.in_(chunk), report_facts.c.period == period))).all()
            for r in rows:
                facts = out[r.unit_id]._facts(r.report_id, r.requirement_id)
                facts.revisions[r.revision] = ReportRevision(
                    r.revision, r.submitted_at, r.submitted_on_time, r.returned_at, r.accepted_at, r.accepted_on_time)
        return out

    async def standing(self, unit_id: str, period: str) -> UnitStanding:
        return (await self.standings([unit_id], period))[unit_id]

    async def save_revision(self, standing: UnitStanding, report_id: str, revision: int) -> None:
        facts = standing.reports[report_id]
        rev = facts.revisions[revision]
        values = dict(requirement_id=facts.requirement_id, unit_id=facts.unit_id, period=facts.period,
                      submitted_at=rev.submitted_at, submitted_on_time=rev.submitted_on_time,
                      returned_at=rev.returned_at, accepted_at=rev.accepted_at, accepted_on_time=rev.accepted_on_time)
        found = (await self.session.execute(sa.select(report_facts.c.report_id).where(
            report_facts.c.report_id == report_id, report_facts.c.revision == revision))).first()
        if found:
            await self.session.execute(report_facts.update().where(
                report_facts.c.report_id == report_id, report_facts.c.revision == revision).values(**values))
        else:
            await self.session.execute(report_facts.insert().values(report_id=report_id, revision=revision, **values))

    async def assessments(self, person_ids: Iterable[str], year: int) -> dict[str, list[Assessment]]:
        ids = sorted(set(person_ids))
        out: dict[str, list[Assessment]] = {p: [] for p in ids}
        for chunk in _chunks(ids):
            rows = (await self.session.execute(sa.select(plan_assessments).where(
                plan_assessments.c.person_id.in_(chunk), plan_assessments.c.year == year))).all()
            for r in rows:
                out[r.person_id].append(Assessment(r.individual_plan_id, r.person_id, r.year, r.rating, r.assessed_on,
                                                   r.version))
        return out

    async def record_assessment(self, a: Assessment, unit_id: str) -> bool:
        """Keep the assessment of a plan with the highest version. Returns True when stored."""
        row = (await self.session.execute(sa.select(plan_assessments.c.version).where(
            plan_assessments.c.individual_plan_id == a.individual_plan_id))).first()
        values = dict(person_id=a.person_id, unit_id=unit_id, year=a.year, rating=a.rating,
                      assessed_on=a.assessed_on, version=a.version)
        if row is None:
            await self.session.execute(plan_assessments.insert().values(individual_plan_id=a.individual_plan_id,
                                                                        **values))
            return True
        if a.version <= row.version:
            return False
        await self.session.execute(plan_assessments.update().where(
            plan_assessments.c.individual_plan_id == a.individual_plan_id).values(**values))
        return True


# --- plan items that call for rounds -------------------------------------------------------------

class SourcesRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    @staticmethod
    def _source(r: Any) -> RoundSource:
        return RoundSource(r.plan_id, r.item_id, r.plan_revision, r.plan_number, r.issuer_unit_id, r.issued_on,
                           r.content, dict(r.timing), bool(r.active))

    async def of_plan(self, plan_id: str) -> list[RoundSource]:
        return [self._source(r) for r in (await self.session.execute(
            sa.select(round_sources).where(round_sources.c.plan_id == plan_id))).all()]

    async def get(self, plan_id: str, item_id: str) -> RoundSource | None:
        r = (await self.session.execute(sa.select(round_sources).where(
            round_sources.c.plan_id == plan_id, round_sources.c.item_id == item_id))).first()
        return self._source(r) if r else None

    async def upsert(self, s: RoundSource) -> None:
        values = dict(plan_id=s.plan_id, item_id=s.item_id, plan_revision=s.plan_revision, plan_number=s.plan_number,
                      issuer_unit_id=s.issuer_unit_id, issued_on=s.issued_on, content=s.content, timing=s.timing,
                      active=s.active)
        if await self.get(s.plan_id, s.item_id) is None:
            await self.session.execute(round_sources.insert().values(**values))
        else:
            await self.session.execute(round_sources.update().where(
                round_sources.c.plan_id == s.plan_id, round_sources.c.item_id == s.item_id).values(**values))

    async def close_plan(self, plan_id: str, closed_on: date) -> None:
        if not await self.plan_closed(plan_id):
            await self.session.execute(plan_closures.insert().values(plan_id=plan_id, closed_on=closed_on))
        await self.deactivate(plan_id)

    async def plan_closed(self, plan_id: str) -> bool:
        return (await self.session.execute(sa.select(plan_closures.c.plan_id)
                                           .where(plan_closures.c.plan_id == plan_id))).first() is not None

    async def deactivate(self, plan_id: str, item_ids: Iterable[str] | None = None) -> None:
        q = round_sources.update().where(round_sources.c.plan_id == plan_id)
        if item_ids is not None:
            q = q.where(round_sources.c.item_id.in_(list(item_ids)))
        await self.session.execute(q.values(active=False))


# --- rounds --------------------------------------------------------------------------------------

def _round(r: Any) -> Round:
    return Round(round_id=r.round_id, name=r.name, level=r.level, issuer_unit_id=r.issuer_unit_id, year=r.year,
                 opens_on=r.opens_on, closes_on=r.closes_on, anchor_on=r.anchor_on, report_period=r.report_period,
                 require_report_accepted=r.require_report_accepted, requirement_id=r.requirement_id,
                 min_rating=r.min_rating, collective_categories=list(r.collective_categories),
                 individual_categories=list(r.individual_categories), forms=list(r.forms),
                 quotas={k: int(v) for k, v in dict(r.quotas).items()}, opened_at=r.opened_at,
                 opened_by=r.opened_by, source_plan_id=r.source_plan_id, source_item_id=r.source_item_id)


class RoundsRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self._forms: dict[str, AwardForm] | None = None

    async def forms(self) -> dict[str, AwardForm]:
        """The catalogue (read once per unit of work)."""
        if self._forms is None:
            rows = (await self.session.execute(sa.select(award_forms).order_by(award_forms.c.rank,
                                                                               award_forms.c.code))).all()
            self._forms = {r.code: AwardForm(r.code, r.name, r.rank, tuple(r.nominee_kinds), tuple(r.granted_by),
                                             r.active) for r in rows}
        return self._forms

    async def get(self, round_id: str, *, for_update: bool = False) -> Round | None:
        q = sa.select(rounds).where(rounds.c.round_id == round_id)
        if for_update:
            q = q.with_for_update()  # serialises nominations and decisions of one round (PostgreSQL)
        row = (await self.session.execute(q)).first()
        return _round(row) if row else None

    async def by_source(self, plan_id: str, item_id: str, year: int) -> Round | None:
        row = (await self.session.execute(sa.select(rounds).where(
            rounds.c.source_plan_id == plan_id, rounds.c.source_item_id == item_id, rounds.c.year == year))).first()
        return _round(row) if row else None

    async def add(self, r: Round) -> None:
        await self.session.execute(rounds.insert().values(
            round_id=r.round_id, name=r.name, level=r.level, issuer_unit_id=r.issuer_unit_id, year=r.year,
            opens_on=r.opens_on, closes_on=r.closes_on, anchor_on=r.anchor_on, report_period=r.report_period,
            require_report_accepted=r.require_report_accepted, requirement_id=r.requirement_id,
            min_rating=r.min_rating, collective_categories=r.collective_categories,
            individual_categories=r.individual_categories, forms=r.forms, quotas=r.quotas, opened_at=r.opened_at,
            opened_by=r.opened_by, source_plan_id=r.source_plan_id, source_item_id=r.source_item_id))

    async def save_quotas(self, r: Round) -> None:
        await self.session.execute(rounds.update().where(rounds.c.round_id == r.round_id).values(quotas=r.quotas))

    async def list(self, *, issuer_unit_id: str | None, year: int | None, status: str | None, today: date,
                   after: tuple[int, str] | None, limit: int) -> list[Round]:
        q = sa.select(rounds)
        if issuer_unit_id is not None:
            q = q.where(rounds.c.issuer_unit_id == issuer_unit_id)
        if year is not None:
            q = q.where(rounds.c.year == year)
        if status == "upcoming":
            q = q.where(rounds.c.opens_on > today)
        elif status == "open":
            q = q.where(rounds.c.opens_on <= today, rounds.c.closes_on >= today)
        elif status == "closed":
            q = q.where(rounds.c.closes_on < today)
        if after is not None:
            y, rid = after
            q = q.where(sa.or_(rounds.c.year < y, sa.and_(rounds.c.year == y, rounds.c.round_id > rid)))
        q = q.order_by(rounds.c.year.desc(), rounds.c.round_id).limit(limit)
        return [_round(r) for r in (await self.session.execute(q)).all()]


# --- nominations -------------------------------------------------------------------------------

_NOMINATION_FIELDS = ("round_id", "by_unit_id", "nominee_kind", "nominee_id", "nominee_name", "nominee_unit_id",
                      "category", "form", "achievements", "status", "at_unit_id", "route", "eligible_at_submission",
                      "reasons_at_submission", "submitted_at", "submitted_by", "council_result", "council_form",
                      "council_note", "decided_on", "decided_by", "decision_id", "award_id", "trail",
                      "escalated_from", "escalated_to")


def _nomination(r: Any) -> Nomination:
    values = {f: getattr(r, f) for f in _NOMINATION_FIELDS}
    values["route"] = list(values["route"])
    values["reasons_at_submission"] = list(values["reasons_at_submission"])
    values["trail"] = list(values["trail"])
    return Nomination(nomination_id=r.nomination_id, **values)


def _nomination_values(n: Nomination) -> dict[str, Any]:
    values = {f: getattr(n, f) for f in _NOMINATION_FIELDS}
    values["place_key"] = n.place_key
    return values


class NominationsRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, nomination_id: str, *, for_update: bool = False) -> Nomination | None:
        q = sa.select(nominations).where(nominations.c.nomination_id == nomination_id)
        if for_update:
            q = q.with_for_update()
        row = (await self.session.execute(q)).first()
        return _nomination(row) if row else None

    async def get_many(self, ids: Iterable[str], *, for_update: bool = False) -> dict[str, Nomination]:
        out: dict[str, Nomination] = {}
        for chunk in _chunks(sorted(set(ids))):
            q = sa.select(nominations).where(nominations.c.nomination_id.in_(chunk))
            if for_update:
                q = q.with_for_update()
            for r in (await self.session.execute(q)).all():
                out[r.nomination_id] = _nomination(r)
        return out

    async def holding_place(self, place_key: str) -> Nomination | None:
        row = (await self.session.execute(sa.select(nominations)
                                          .where(nominations.c.place_key == place_key))).first()
        return _nomination(row) if row else None

    async def add(self, n: Nomination) -> None:
        await self.session.execute(nominations.insert().values(nomination_id=n.nomination_id,
                                                               **_nomination_values(n)))
        await self.session.execute(nomination_route.insert(), [
            {"nomination_id": n.nomination_id, "unit_id": u, "round_id": n.round_id} for u in n.route])

    async def save(self, n: Nomination) -> None:
        await self.session.execute(nominations.update().where(nominations.c.nomination_id == n.nomination_id)
                                   .values(**_nomination_values(n)))

    async def quota_counts(self, round_id: str, unit_ids: Iterable[str] | None = None,
                           statuses: Iterable[str] = COUNTS_TO_QUOTA) -> dict[str, int]:
        """Per unit: nominations of the round through it, in the given statuses."""
        q = (sa.select(nomination_route.c.unit_id, sa.func.count())
             .select_from(nomination_route.join(nominations,
                                                nominations.c.nomination_id == nomination_route.c.nomination_id))
             .where(nomination_route.c.round_id == round_id, nominations.c.status.in_(sorted(statuses)))
             .group_by(nomination_route.c.unit_id))
        if unit_ids is not None:
            ids = sorted(set(unit_ids))
            if not ids:
                return {}
            q = q.where(nomination_route.c.unit_id.in_(ids))
        return {r[0]: int(r[1]) for r in (await self.session.execute(q)).all()}

    async def counts_by_status(self, round_id: str) -> dict[str, int]:
        q = (sa.select(nominations.c.status, sa.func.count()).where(nominations.c.round_id == round_id)
             .group_by(nominations.c.status))
        return {r[0]: int(r[1]) for r in (await self.session.execute(q)).all()}

    async def list(self, *, round_id: str, unit_id: str, everything: bool, status: str | None, awaiting_only: bool,
                   after: str | None, limit: int) -> list[Nomination]:
        q = sa.select(nominations).where(nominations.c.round_id == round_id)
        if awaiting_only:
            q = q.where(nominations.c.at_unit_id == unit_id)
        elif not everything:
            through = sa.select(nomination_route.c.nomination_id).where(nomination_route.c.round_id == round_id,
                                                                        nomination_route.c.unit_id == unit_id)
            q = q.where(sa.or_(nominations.c.nomination_id.in_(through), nominations.c.at_unit_id == unit_id))
        if status is not None:
            q = q.where(nominations.c.status == status)
        if after is not None:
            q = q.where(nominations.c.nomination_id > after)
        q = q.order_by(nominations.c.nomination_id).limit(limit)
        return [_nomination(r) for r in (await self.session.execute(q)).all()]


# --- decisions and awards ------------------------------------------------------------------------

_AWARD_FIELDS = tuple(Award.__dataclass_fields__)


def _award(r: Any) -> Award:
    return Award(**{f: getattr(r, f) for f in _AWARD_FIELDS})


class DecisionsRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, decision_id: str) -> Decision | None:
        r = (await self.session.execute(sa.select(decisions).where(decisions.c.decision_id == decision_id))).first()
        return self._decision(r) if r else None

    async def by_number(self, issuer_unit_id: str, number: str) -> Decision | None:
        r = (await self.session.execute(sa.select(decisions).where(decisions.c.issuer_unit_id == issuer_unit_id,
                                                                   decisions.c.number == number))).first()
        return self._decision(r) if r else None

    @staticmethod
    def _decision(r: Any) -> Decision:
        return Decision(r.decision_id, r.round_id, r.issuer_unit_id, r.number, r.decision_date, r.signer,
                        list(r.nomination_ids), r.issued_at, r.issued_by)

    async def add(self, d: Decision) -> None:
        await self.session.execute(decisions.insert().values(
            decision_id=d.decision_id, round_id=d.round_id, issuer_unit_id=d.issuer_unit_id, number=d.number,
            decision_date=d.decision_date, signer=d.signer, nomination_ids=d.nomination_ids, issued_at=d.issued_at,
            issued_by=d.issued_by))

    async def add_awards(self, items: list[Award]) -> None:
        if items:
            await self.session.execute(awards.insert(), [{f: getattr(a, f) for f in _AWARD_FIELDS} for a in items])

    async def awards_of_decision(self, decision_id: str) -> list[Award]:
        return [_award(r) for r in (await self.session.execute(
            sa.select(awards).where(awards.c.decision_id == decision_id).order_by(awards.c.award_id))).all()]

    async def award(self, award_id: str) -> Award | None:
        r = (await self.session.execute(sa.select(awards).where(awards.c.award_id == award_id))).first()
        return _award(r) if r else None

    async def history(self, *, unit_ids: list[str] | None = None, person_id: str | None = None,
                      nominee_kind: str | None = None, from_year: int | None = None,
                      to_year: int | None = None, limit: int = 2000) -> list[Award]:
        q = sa.select(awards)
        if person_id is not None:
            q = q.where(awards.c.nominee_kind == "individual", awards.c.nominee_id == person_id)
        else:
            ids = unit_ids or []
            collective = sa.and_(awards.c.nominee_kind == "collective", awards.c.nominee_id.in_(ids))
            individual = sa.and_(awards.c.nominee_kind == "individual", awards.c.unit_id.in_(ids))
            if nominee_kind == "collective":
                q = q.where(collective)
            elif nominee_kind == "individual":
                q = q.where(individual)
            else:
                q = q.where(sa.or_(collective, individual))
        if from_year is not None:
            q = q.where(awards.c.year >= from_year)
        if to_year is not None:
            q = q.where(awards.c.year <= to_year)
        q = q.order_by(awards.c.decision_date.desc(), awards.c.award_id).limit(limit)
        return [_award(r) for r in (await self.session.execute(q)).all()]


# --- exemplary models ----------------------------------------------------------------------------

class ModelsRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    @staticmethod
    def _model(r: Any) -> ExemplaryModel:
        return ExemplaryModel(r.model_id, r.unit_id, r.person_id, r.title, r.story, r.year, r.award_id,
                              r.registered_at, r.registered_by)

    async def get(self, model_id: str) -> ExemplaryModel | None:
        r = (await self.session.execute(sa.select(exemplary_models)
                                        .where(exemplary_models.c.model_id == model_id))).first()
        return self._model(r) if r else None

    async def add(self, m: ExemplaryModel) -> None:
        await self.session.execute(exemplary_models.insert().values(
            model_id=m.model_id, unit_id=m.unit_id, person_id=m.person_id, title=m.title, story=m.story, year=m.year,
            award_id=m.award_id, registered_at=m.registered_at, registered_by=m.registered_by))

    async def list(self, *, unit_ids: list[str] | None = None, under: tuple[str, date] | None = None,
                   person_id: str | None, from_year: int | None, to_year: int | None, after: tuple[int, str] | None,
                   limit: int) -> list[ExemplaryModel]:
        """Models of these units, or of the units under (root, on) and those merged into them."""
        q = sa.select(exemplary_models)
        if unit_ids is not None:
            q = q.where(exemplary_models.c.unit_id.in_(unit_ids))
        if under is not None:
            q = q.where(exemplary_models.c.unit_id.in_(AwardsDirectory.scope(*under)))
        if person_id is not None:
            q = q.where(exemplary_models.c.person_id == person_id)
        if from_year is not None:
            q = q.where(exemplary_models.c.year >= from_year)
        if to_year is not None:
            q = q.where(exemplary_models.c.year <= to_year)
        if after is not None:
            y, mid = after
            q = q.where(sa.or_(exemplary_models.c.year < y,
                               sa.and_(exemplary_models.c.year == y, exemplary_models.c.model_id > mid)))
        q = q.order_by(exemplary_models.c.year.desc(), exemplary_models.c.model_id).limit(limit)
        return [self._model(r) for r in (await self.session.execute(q)).all()]
