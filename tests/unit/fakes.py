"""Fake units of work for the use cases (cosmicpython's FakeUnitOfWork): in-memory repositories
with the behaviour the use cases rely on, no database, no NATS. A test builds an organisation,
calls a use case with a fake unit of work and looks at what it answered, what it stored and
which events it emitted.

The directory fakes subclass the real directory classes and replace only their reads: the access
rule (runtime.access.decide) and the walks built on those reads (actor, target, route) are the
real ones.
"""

from __future__ import annotations

import copy
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel

from runtime.auth import Principal
from runtime.directory import Directory, DirPerson, DirUnit
from services.awards.adapters.repository import AwardsDirectory
from services.awards.domain.eligibility import Assessment, UnitStanding
from services.awards.domain.model import (
    COUNTS_TO_QUOTA,
    Award,
    AwardForm,
    Decision,
    ExemplaryModel,
    Nomination,
    Round,
)
from services.reports.domain.model import (
    Department,
    Link,
    Report,
    ReportRevision,
    Requirement,
    ReviewEntry,
    Standing,
)

FAR_PAST = date(2000, 1, 1)


# --- the organisation ------------------------------------------------------------------------------

@dataclass
class Org:
    """Units with effective-dated parents, and people: what the directory projection holds."""

    units: dict[str, DirUnit] = field(default_factory=dict)
    parents: dict[str, list[tuple[str | None, date, date | None]]] = field(default_factory=dict)
    people: dict[str, DirPerson] = field(default_factory=dict)

    def unit(self, unit_id: str, kind: str, parent: str | None = None, *, name: str | None = None,
             since: date = FAR_PAST, code: str | None = None) -> Org:
        self.units[unit_id] = DirUnit(unit_id, code or unit_id.upper(), name or f"Đơn vị {unit_id}", kind, since)
        self.parents[unit_id] = [(parent, since, None)]
        return self

    def move(self, unit_id: str, parent: str | None, on: date) -> Org:
        rows = self.parents[unit_id]
        last_parent, since, _ = rows[-1]
        rows[-1] = (last_parent, since, on)
        rows.append((parent, on, None))
        return self

    def close(self, unit_id: str, on: date, merged_into: str | None = None) -> Org:
        self.units[unit_id] = replace(self.units[unit_id], closed_on=on, merged_into=merged_into)
        rows = self.parents[unit_id]
        p, since, _ = rows[-1]
        rows[-1] = (p, since, on)
        return self

    def person(self, person_id: str, unit_id: str, *roles: str, name: str | None = None,
               active: bool = True) -> Org:
        self.people[person_id] = DirPerson(person_id, unit_id, name or f"Người {person_id}", tuple(roles),
                                           f"{person_id}@congdoan.vn", None, active)
        return self

    def parent_on(self, unit_id: str, on: date) -> tuple[bool, str | None]:
        """(whether the unit is in the hierarchy that day, its parent then)."""
        for parent, start, end in self.parents.get(unit_id, ()):
            if start <= on and (end is None or end > on):
                return True, parent
        return False, None


def person(person_id: str) -> Principal:
    return Principal("person", person_id)


# --- the base unit of work ---------------------------------------------------------------------------

class FakeUnitOfWork:
    """runtime.db.UnitOfWork's interface: `emit` records, `commit` counts; nothing else happens."""

    def __init__(self, now: datetime) -> None:
        self.clock = now
        self.events: list[tuple[BaseModel, str | None]] = []  # committed
        self._staged: list[tuple[BaseModel, str | None]] = []
        self.commits = 0
        self.session: Any = None  # the use cases tested here never reach the session

    async def __aenter__(self) -> FakeUnitOfWork:
        self._staged = []
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._staged = []  # what was not committed is gone, as in a rolled-back transaction

    def now(self) -> datetime:
        return self.clock

    async def emit(self, data: BaseModel, *, subject: str | None = None, event_id: str | None = None) -> str:
        self._staged.append((data, subject))
        return event_id or f"ev-{len(self.events) + len(self._staged)}"

    async def commit(self) -> None:
        self.events.extend(self._staged)
        self._staged = []
        self.commits += 1

    async def rollback(self) -> None:
        self._staged = []

    def emitted(self, model: type[BaseModel]) -> list[Any]:
        return [d for d, _ in self.events if isinstance(d, model)]


class _OrgReads:
    """The directory's reads, from an Org (mixed into the real directory classes)."""

    org: Org

    async def unit(self, unit_id: str) -> DirUnit | None:
        return self.org.units.get(unit_id)

    async def person(self, person_id: str) -> DirPerson | None:
        return self.org.people.get(person_id)

    async def parent_as_of(self, unit_id: str, on: date) -> str | None:
        return self.org.parent_on(unit_id, on)[1]


class FakeDirectory(_OrgReads, Directory):
    def __init__(self, org: Org) -> None:
        super().__init__(None)  # type: ignore[arg-type]
        self.org = org


# --- awards ----------------------------------------------------------------------------------------------

class FakeAwardsDirectory(_OrgReads, AwardsDirectory):
    def __init__(self, org: Org) -> None:
        super().__init__(None)  # type: ignore[arg-type]
        self.org = org

    async def predecessors(self, unit_id: str) -> list[str]:
        out, frontier = [], [unit_id]
        while frontier:
            frontier = [u.unit_id for u in self.org.units.values() if u.merged_into in frontier]
            out.extend(frontier)
        return sorted(out)

    async def unit_names(self, unit_ids: Iterable[str]) -> dict[str, str]:
        return {u: self.org.units[u].name for u in set(unit_ids) if u in self.org.units}

    async def units(self, unit_ids: Iterable[str]) -> dict[str, DirUnit]:
        return {u: self.org.units[u] for u in set(unit_ids) if u in self.org.units}

    async def people(self, person_ids: Iterable[str]) -> dict[str, DirPerson]:  # type: ignore[override]
        return {p: self.org.people[p] for p in set(person_ids) if p in self.org.people}


class FakeFacts:
    def __init__(self) -> None:
        self.by_unit: dict[tuple[str, str], UnitStanding] = {}
        self.assessed: dict[str, tuple[Assessment, str]] = {}

    async def standings(self, unit_ids: Iterable[str], period: str) -> dict[str, UnitStanding]:
        return {u: copy.deepcopy(self.by_unit.get((u, period), UnitStanding(unit_id=u, period=period)))
                for u in set(unit_ids)}

    async def standing(self, unit_id: str, period: str) -> UnitStanding:
        return (await self.standings([unit_id], period))[unit_id]

    async def save_revision(self, standing: UnitStanding, report_id: str, revision: int) -> None:
        self.by_unit[(standing.unit_id, standing.period)] = copy.deepcopy(standing)

    async def assessments(self, person_ids: Iterable[str], year: int) -> dict[str, list[Assessment]]:
        out: dict[str, list[Assessment]] = {p: [] for p in person_ids}
        for a, _ in self.assessed.values():
            if a.person_id in out and a.year == year:
                out[a.person_id].append(a)
        return out

    async def record_assessment(self, a: Assessment, unit_id: str) -> bool:
        known = self.assessed.get(a.individual_plan_id)
        if known is not None and a.version <= known[0].version:
            return False
        self.assessed[a.individual_plan_id] = (a, unit_id)
        return True


class FakeRounds:
    def __init__(self, forms: Iterable[AwardForm]) -> None:
        self.catalogue = {f.code: f for f in forms}
        self.rows: dict[str, Round] = {}

    async def forms(self) -> dict[str, AwardForm]:
        return dict(self.catalogue)

    async def get(self, round_id: str, *, for_update: bool = False) -> Round | None:
        r = self.rows.get(round_id)
        return copy.deepcopy(r) if r else None

    async def by_source(self, plan_id: str, item_id: str, year: int) -> Round | None:
        return next((copy.deepcopy(r) for r in self.rows.values()
                     if (r.source_plan_id, r.source_item_id, r.year) == (plan_id, item_id, year)), None)

    async def add(self, r: Round) -> None:
        self.rows[r.round_id] = copy.deepcopy(r)

    async def save_quotas(self, r: Round) -> None:
        self.rows[r.round_id].quotas = dict(r.quotas)

    async def list(self, *, issuer_unit_id: str | None, year: int | None, status: str | None, today: date,
                   after: tuple[int, str] | None, limit: int) -> list[Round]:
        rows = [r for r in self.rows.values() if (issuer_unit_id is None or r.issuer_unit_id == issuer_unit_id)
                and (year is None or r.year == year) and (status is None or r.status(today) == status)]
        rows.sort(key=lambda r: (-r.year, r.round_id))
        return [copy.deepcopy(r) for r in rows][:limit]


class FakeNominations:
    def __init__(self) -> None:
        self.rows: dict[str, Nomination] = {}

    async def get(self, nomination_id: str, *, for_update: bool = False) -> Nomination | None:
        n = self.rows.get(nomination_id)
        return copy.deepcopy(n) if n else None

    async def get_many(self, ids: Iterable[str], *, for_update: bool = False) -> dict[str, Nomination]:
        return {i: copy.deepcopy(self.rows[i]) for i in set(ids) if i in self.rows}

    async def holding_place(self, place_key: str) -> Nomination | None:
        return next((copy.deepcopy(n) for n in self.rows.values() if n.place_key == place_key), None)

    async def add(self, n: Nomination) -> None:
        if n.place_key is not None and any(o.place_key == n.place_key for o in self.rows.values()):
            raise sa.exc.IntegrityError("INSERT nominations", {}, Exception("place_key taken"))
        self.rows[n.nomination_id] = copy.deepcopy(n)

    async def save(self, n: Nomination) -> None:
        self.rows[n.nomination_id] = copy.deepcopy(n)

    async def quota_counts(self, round_id: str, unit_ids: Iterable[str] | None = None,
                           statuses: Iterable[str] = COUNTS_TO_QUOTA) -> dict[str, int]:
        wanted = None if unit_ids is None else set(unit_ids)
        counts: Counter[str] = Counter()
        for n in self.rows.values():
            if n.round_id == round_id and n.status in set(statuses):
                counts.update(u for u in n.route if wanted is None or u in wanted)
        return dict(counts)

    async def counts_by_status(self, round_id: str) -> dict[str, int]:
        return dict(Counter(n.status for n in self.rows.values() if n.round_id == round_id))

    async def list(self, *, round_id: str, unit_id: str, everything: bool, status: str | None, awaiting_only: bool,
                   after: str | None, limit: int) -> list[Nomination]:
        def seen(n: Nomination) -> bool:
            if awaiting_only:
                return n.at_unit_id == unit_id
            return everything or unit_id in n.route or n.at_unit_id == unit_id
        rows = sorted((n for n in self.rows.values() if n.round_id == round_id and seen(n)
                       and (status is None or n.status == status) and (after is None or n.nomination_id > after)),
                      key=lambda n: n.nomination_id)
        return [copy.deepcopy(n) for n in rows[:limit]]


class FakeDecisions:
    def __init__(self) -> None:
        self.rows: dict[str, Decision] = {}
        self.awards: dict[str, Award] = {}

    async def get(self, decision_id: str) -> Decision | None:
        return self.rows.get(decision_id)

    async def by_number(self, issuer_unit_id: str, number: str) -> Decision | None:
        return next((d for d in self.rows.values() if (d.issuer_unit_id, d.number) == (issuer_unit_id, number)), None)

    async def add(self, d: Decision) -> None:
        self.rows[d.decision_id] = d

    async def add_awards(self, items: list[Award]) -> None:
        self.awards.update({a.award_id: a for a in items})

    async def awards_of_decision(self, decision_id: str) -> list[Award]:
        return sorted((a for a in self.awards.values() if a.decision_id == decision_id), key=lambda a: a.award_id)

    async def award(self, award_id: str) -> Award | None:
        return self.awards.get(award_id)

    async def history(self, *, unit_ids: list[str] | None = None, person_id: str | None = None,
                      nominee_kind: str | None = None, from_year: int | None = None,
                      to_year: int | None = None, limit: int = 2000) -> list[Award]:
        def wanted(a: Award) -> bool:
            if person_id is not None:
                return a.nominee_kind == "individual" and a.nominee_id == person_id
            ids = unit_ids or []
            collective = a.nominee_kind == "collective" and a.nominee_id in ids
            individual = a.nominee_kind == "individual" and a.unit_id in ids
            return {"collective": collective, "individual": individual}.get(nominee_kind or "", collective or individual)
        rows = [a for a in self.awards.values() if wanted(a) and (from_year is None or a.year >= from_year)
                and (to_year is None or a.year <= to_year)]
        return sorted(rows, key=lambda a: (-a.decision_date.toordinal(), a.award_id))[:limit]


class FakeModels:
    def __init__(self) -> None:
        self.rows: dict[str, ExemplaryModel] = {}

    async def get(self, model_id: str) -> ExemplaryModel | None:
        return self.rows.get(model_id)

    async def add(self, m: ExemplaryModel) -> None:
        self.rows[m.model_id] = m


class FakeAwardsUnitOfWork(FakeUnitOfWork):
    def __init__(self, org: Org, now: datetime, forms: Iterable[AwardForm]) -> None:
        super().__init__(now)
        self.directory = FakeAwardsDirectory(org)
        self.facts = FakeFacts()
        self.rounds = FakeRounds(forms)
        self.nominations = FakeNominations()
        self.decisions = FakeDecisions()
        self.models = FakeModels()


# --- reports ---------------------------------------------------------------------------------------------

class FakeReports:
    def __init__(self, org: Org, requirements: FakeRequirements) -> None:
        self.org = org
        self.requirements = requirements
        self.rows: dict[str, Report] = {}
        self.reviews: list[tuple[str, ReviewEntry]] = []
        self.kept: list[ReportRevision] = []

    def _of(self, requirement_id: str, period: str, unit_id: str) -> Report | None:
        return next((copy.deepcopy(r) for r in self.rows.values()
                     if (r.requirement_id, r.period, r.unit_id) == (requirement_id, period, unit_id)), None)

    async def standing(self, unit_id: str, requirement_id: str, period: str, today: date) -> Standing | None:
        if unit_id not in self.org.units:
            return None
        return Standing(self.requirements.rows.get(requirement_id), self._of(requirement_id, period, unit_id))

    async def chain(self, unit_id: str, on: date) -> list[Link]:
        out: list[Link] = []
        current: str | None = unit_id
        while current is not None and len(out) < 64:
            present, parent = self.org.parent_on(current, on)
            if not present:
                break
            u = self.org.units[current]
            out.append(Link(current, parent, len(out), u.kind, u.name, u.closed_on, u.merged_into))
            current = parent
        return out

    async def chain_and_report(self, unit_id: str, on: date, requirement_id: str,
                               period: str) -> tuple[list[Link], Report | None]:
        chain = await self.chain(unit_id, on)
        return chain, (self._of(requirement_id, period, unit_id) if chain else None)

    async def get(self, report_id: str) -> Report | None:
        r = self.rows.get(report_id)
        return copy.deepcopy(r) if r else None

    async def insert(self, r: Report, submitted_by: str | None = None, draft_saved_at: datetime | None = None) -> None:
        if r.report_id in self.rows or self._of(r.requirement_id, r.period, r.unit_id) is not None:
            raise sa.exc.IntegrityError("INSERT reports", {}, Exception("duplicate"))
        self.rows[r.report_id] = copy.deepcopy(r)

    async def update_submission(self, r: Report, before_revision: int, before_status: str,
                                submitted_by: str | None) -> bool:
        stored = self.rows[r.report_id]
        if (stored.revision, stored.status) != (before_revision, before_status):
            return False
        self.rows[r.report_id] = copy.deepcopy(r)
        return True

    async def save_draft(self, report_id: str, values: dict[str, Any], at: datetime) -> None:
        self.rows[report_id].draft_values = dict(values)

    async def update_review(self, r: Report, before_status: str, at: datetime, actor_id: str,
                            by_unit_id: str | None) -> bool:
        stored = self.rows[r.report_id]
        if (stored.revision, stored.status) != (r.revision, before_status):
            return False
        self.rows[r.report_id] = copy.deepcopy(r)
        return True

    async def add_review(self, r: Report, action: str, at: datetime, actor_id: str | None, by_unit_id: str | None,
                         comment: str | None) -> None:
        self.reviews.append((r.report_id, ReviewEntry(action, r.revision, by_unit_id, actor_id, comment, at)))

    async def add_revision(self, r: Report, submitted_by: str | None) -> None:
        self.kept.append(ReportRevision(r.report_id, r.revision, dict(r.values), r.submitted_at,  # type: ignore[arg-type]
                                        submitted_by, r.on_time, r.form_id, r.form_version))

    async def revisions(self, report_id: str) -> list[ReportRevision]:
        return [k for k in self.kept if k.report_id == report_id]

    async def history(self, report_id: str) -> list[ReviewEntry]:
        return [e for rid, e in self.reviews if rid == report_id]

    async def page(self, requirement_id: str, receiving_unit_id: str | None, status: str | None, limit: int,
                   cursor: str | None, unit_id: str | None = None) -> list[Report]:
        rows = sorted((r for r in self.rows.values() if r.requirement_id == requirement_id
                       and (unit_id is None or r.unit_id == unit_id)
                       and (receiving_unit_id is None or r.receiving_unit_id == receiving_unit_id)
                       and (status is None or r.status == status) and (cursor is None or r.report_id > cursor)),
                      key=lambda r: r.report_id)
        return [copy.deepcopy(r) for r in rows[:limit]]


class FakeRequirements:
    def __init__(self) -> None:
        self.rows: dict[str, Requirement] = {}

    async def get(self, requirement_id: str) -> Requirement | None:
        return self.rows.get(requirement_id)

    async def add(self, q: Requirement, opened_by: str | None) -> None:
        self.rows[q.requirement_id] = q


class FakeForms:
    async def get(self, form_id: str, version: int | None) -> dict[str, Any] | None:
        return None  # only the forms the context knows


class FakeHierarchy:
    def __init__(self, org: Org) -> None:
        self.org = org

    async def has_unit(self, unit_id: str) -> bool:
        return unit_id in self.org.units

    async def departments(self, unit_id: str, on: date) -> list[Department]:
        return [Department(u.unit_id, u.name, u.code) for u in self.org.units.values()
                if u.kind == "department" and self.org.parent_on(u.unit_id, on) == (True, unit_id)]

    async def people(self, unit_id: str, roles: Iterable[str]) -> list[DirPerson]:
        wanted = set(roles)
        return sorted((p for p in self.org.people.values() if p.unit_id == unit_id and p.active
                       and wanted & set(p.roles)), key=lambda p: p.person_id)


class FakeReportsUnitOfWork(FakeUnitOfWork):
    def __init__(self, org: Org, now: datetime) -> None:
        super().__init__(now)
        self.requirements = FakeRequirements()
        self.reports = FakeReports(org, self.requirements)
        self.forms = FakeForms()
        self.hierarchy = FakeHierarchy(org)
        self.directory = FakeDirectory(org)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]
