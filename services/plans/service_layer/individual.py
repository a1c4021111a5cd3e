"""Use cases of individual plans: write, self-assess (with the supplement for next year), read,
coverage per unit of who must keep one, and the results export for the annual cadre evaluation."""

from __future__ import annotations

import base64
from typing import Any

from contracts.api import plans as api
from contracts.events import plans as ev
from runtime.access import Action
from runtime.auth import Principal
from runtime.errors import not_found
from services.plans.adapters.export import xlsx_bytes
from services.plans.domain.individual import (
    ExportRow,
    check_assess,
    check_submit,
    individual_plan_id,
    must_keep_one,
    table,
    to_csv,
)
from services.plans.service_layer.common import (
    DEFAULT_CONFIG,
    PlansConfig,
    authorize,
    next_cursor,
    offset_of,
    refused,
    today,
)
from services.plans.service_layer.unit_of_work import PlansUnitOfWork


async def _person_for(uow: PlansUnitOfWork, who: Principal, person_id: str) -> Any:
    """The person, when the caller may write, assess or read their individual plan: the person
    themself, or a leader of their unit or a unit above (runtime/access.py ASSESS) — a colleague
    does not read or write someone else's commitments."""
    person = await uow.directory.person(person_id)
    if person is None:
        raise not_found(f"cá nhân {person_id}", "person_id")
    await authorize(uow, who, Action.ASSESS, person.unit_id, owner=person_id, field="person_id")
    return person


def _view(person: Any, row: Any, previous: Any, year: int) -> api.IndividualPlanView:
    carried = list(previous.supplement) if previous is not None else []
    if row is None:
        return api.IndividualPlanView(individual_plan_id=None, person_id=person.person_id, unit_id=person.unit_id,
                                      year=year, status="missing", required=must_keep_one(person.roles), commitments=[],
                                      carried_over=carried, submitted_on=None, results=None, rating=None,
                                      assessed_on=None, supplement=[])
    return api.IndividualPlanView(
        individual_plan_id=row.individual_plan_id, person_id=row.person_id, unit_id=row.unit_id, year=row.year,
        status="assessed" if row.assessed_on else "submitted", required=must_keep_one(person.roles),
        commitments=list(row.commitments), carried_over=carried, submitted_on=row.submitted_on, results=row.results,
        rating=row.rating, assessed_on=row.assessed_on, supplement=list(row.supplement))


async def submit_individual_plan(cmd: api.SubmitIndividualPlan, who: Principal, uow: PlansUnitOfWork,
                                 cfg: PlansConfig = DEFAULT_CONFIG) -> api.IndividualPlanView:
    async with uow:
        person = await _person_for(uow, who, cmd.person_id)
        if not person.active:
            raise refused(f"{person.full_name} ({cmd.person_id}) đã ngừng hoạt động.", "person_id")
        if cmd.parent_plan_id and await uow.plans.get(cmd.parent_plan_id) is None:
            raise not_found(f"kế hoạch {cmd.parent_plan_id}", "parent_plan_id")
        row = await uow.individual.get(cmd.person_id, cmd.year)
        on = today(uow)
        check_submit(("assessed" if row.assessed_on else "submitted") if row else None, cmd.year, on)
        commitments = list(cmd.commitments)
        if row is None:
            ident = individual_plan_id(cmd.person_id, cmd.year)
            await uow.individual.add(individual_plan_id=ident, person_id=cmd.person_id, year=cmd.year,
                                     unit_id=person.unit_id, parent_plan_id=cmd.parent_plan_id,
                                     commitments=commitments, submitted_on=on, results=None, rating=None,
                                     assessed_on=None, supplement=[], updated_at=uow.now())
            await uow.emit(ev.IndividualPlanSubmitted(
                individual_plan_id=ident, person_id=cmd.person_id, unit_id=person.unit_id, year=cmd.year,
                submitted_on=on), subject=ident)
            await uow.commit()
        elif list(row.commitments) != commitments:
            # Amending before the year-end assessment: the plan stays submitted (no second event).
            await uow.individual.update(row.individual_plan_id, commitments=commitments, updated_at=uow.now())
            await uow.commit()
        return _view(person, await uow.individual.get(cmd.person_id, cmd.year),
                     await uow.individual.get(cmd.person_id, cmd.year - 1), cmd.year)


async def assess_individual_plan(cmd: api.AssessIndividualPlan, who: Principal, uow: PlansUnitOfWork,
                                 cfg: PlansConfig = DEFAULT_CONFIG) -> api.IndividualPlanView:
    async with uow:
        person = await _person_for(uow, who, cmd.person_id)
        row = await uow.individual.get(cmd.person_id, cmd.year)
        on = today(uow)
        if row is not None and row.assessed_on and (row.results, row.rating, list(row.supplement)) == (
                cmd.results, cmd.rating.value, list(cmd.supplement)):
            return _view(person, row, await uow.individual.get(cmd.person_id, cmd.year - 1), cmd.year)  # a retry
        check_assess(("assessed" if row.assessed_on else "submitted") if row else None, cmd.year, on)
        await uow.individual.update(row.individual_plan_id, results=cmd.results, rating=cmd.rating.value,
                                    assessed_on=on, supplement=list(cmd.supplement), updated_at=uow.now())
        await uow.emit(ev.IndividualPlanAssessed(
            individual_plan_id=row.individual_plan_id, person_id=cmd.person_id, unit_id=row.unit_id, year=cmd.year,
            rating=cmd.rating, assessed_on=on), subject=row.individual_plan_id)
        await uow.commit()
        return _view(person, await uow.individual.get(cmd.person_id, cmd.year),
                     await uow.individual.get(cmd.person_id, cmd.year - 1), cmd.year)


async def get_individual_plan(cmd: api.GetIndividualPlan, who: Principal, uow: PlansUnitOfWork,
                              cfg: PlansConfig = DEFAULT_CONFIG) -> api.IndividualPlanView:
    async with uow:
        person = await _person_for(uow, who, cmd.person_id)
        return _view(person, await uow.individual.get(cmd.person_id, cmd.year),
                     await uow.individual.get(cmd.person_id, cmd.year - 1), cmd.year)


async def _units_and_people(uow: PlansUnitOfWork, unit_id: str, subtree: bool) -> tuple[list[str], dict[str, Any], list[Any]]:
    snap = await uow.directory.shared.snapshot(today(uow))
    if subtree and unit_id in snap.parent:
        below = sorted(snap.subtree(unit_id, include_root=False), key=lambda u: snap.units[u]["code"])
        units = [unit_id, *below]
    else:
        units = [unit_id]
    info = await uow.directory.units_info(units)
    people = await uow.directory.people_in(units)
    return units, info, people


async def get_individual_plan_coverage(cmd: api.GetCoverage, who: Principal, uow: PlansUnitOfWork,
                                       cfg: PlansConfig = DEFAULT_CONFIG) -> api.CoverageReply:
    async with uow:
        await authorize(uow, who, Action.READ, cmd.unit_id)
        units, info, people = await _units_and_people(uow, cmd.unit_id, cmd.subtree)
        required = [p for p in people if must_keep_one(p.roles)]
        plans = await uow.individual.of_people([p.person_id for p in required], cmd.year)
        per_unit: dict[str, list[Any]] = {}
        for p in required:
            per_unit.setdefault(p.unit_id, []).append(p)
        rows: list[api.UnitCoverage] = []
        for u in units:
            ps = per_unit.get(u, [])
            rows.append(api.UnitCoverage(
                unit_id=u, name=info[u].name, required=len(ps),
                submitted=sum(1 for p in ps if p.person_id in plans),
                assessed=sum(1 for p in ps if p.person_id in plans and plans[p.person_id].assessed_on),
                missing=[api.PersonRef(person_id=p.person_id, full_name=p.full_name, roles=list(p.roles))
                         for p in ps if p.person_id not in plans]))
        offset = offset_of(cmd.page.cursor)
        return api.CoverageReply(unit_id=cmd.unit_id, year=cmd.year, required=len(required),
                                 submitted=sum(r.submitted for r in rows), assessed=sum(r.assessed for r in rows),
                                 units=rows[offset:offset + cmd.page.limit],
                                 next_cursor=next_cursor(offset, cmd.page.limit, len(rows)))


async def export_individual_plans(cmd: api.ExportIndividualPlans, who: Principal, uow: PlansUnitOfWork,
                                  cfg: PlansConfig = DEFAULT_CONFIG) -> api.ExportReply:
    async with uow:
        # Everyone's results and ratings: for the leaders who assess them (of the unit or above).
        await authorize(uow, who, Action.ASSESS, cmd.unit_id)
        units, info, people = await _units_and_people(uow, cmd.unit_id, True)
        plans = await uow.individual.of_people([p.person_id for p in people], cmd.year)
        order = {u: i for i, u in enumerate(units)}
        chosen = sorted((p for p in people if must_keep_one(p.roles) or p.person_id in plans),
                        key=lambda p: (order.get(p.unit_id, 1 << 30), p.full_name, p.person_id))
        rows = []
        for p in chosen:
            ip = plans.get(p.person_id)
            rows.append(ExportRow(full_name=p.full_name, unit_name=info[p.unit_id].name, roles=list(p.roles),
                                  required=must_keep_one(p.roles),
                                  status="missing" if ip is None else ("assessed" if ip.assessed_on else "submitted"),
                                  commitments=len(ip.commitments) if ip else 0,
                                  submitted_on=ip.submitted_on if ip else None, rating=ip.rating if ip else None,
                                  assessed_on=ip.assessed_on if ip else None, results=ip.results if ip else None,
                                  supplement=len(ip.supplement) if ip else 0))
        data = table(rows, cmd.year)
        code = info[cmd.unit_id].code
        safe = "".join(c if c.isascii() and (c.isalnum() or c in "-_") else "_" for c in code)
        stem = f"ke-hoach-ca-nhan-{safe}-{cmd.year}"
        if cmd.format == "xlsx":
            content = xlsx_bytes(data, sheet=f"Năm {cmd.year}",
                                 title=f"Kết quả thực hiện kế hoạch cá nhân năm {cmd.year} — {info[cmd.unit_id].name}")
            ctype = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        else:
            content, ctype = to_csv(data), "text/csv; charset=utf-8"
        return api.ExportReply(filename=f"{stem}.{cmd.format}", content_type=ctype,
                               content_base64=base64.b64encode(content).decode("ascii"), rows=len(rows))
