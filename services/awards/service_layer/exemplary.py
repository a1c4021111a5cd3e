"""Exemplary models (điển hình tiên tiến) and the award history of a unit or a person."""

from __future__ import annotations

from contracts.api import awards as api
from contracts.events import awards as ev
from runtime.access import Action
from runtime.auth import Principal
from runtime.errors import not_found
from services.awards.domain.model import (
    Conflict,
    ExemplaryModel,
    Invalid,
)
from services.awards.service_layer.common import (
    authorize,
    award_item,
    mint,
    page_cursor,
    today_of,
)
from services.awards.service_layer.unit_of_work import AwardsUnitOfWork


async def _model_replies(uow: AwardsUnitOfWork, models: list[ExemplaryModel], duplicate: bool = False
                         ) -> list[api.ExemplaryModelReply]:
    units = await uow.directory.unit_names(m.unit_id for m in models)
    people = await uow.directory.people(m.person_id for m in models if m.person_id)
    return [api.ExemplaryModelReply(
        model_id=m.model_id, unit_id=m.unit_id, unit_name=units.get(m.unit_id), person_id=m.person_id,
        person_name=people[m.person_id].full_name if m.person_id in people else None, title=m.title, story=m.story,
        year=m.year, award_id=m.award_id, registered_at=m.registered_at, duplicate=duplicate) for m in models]


async def register_exemplary_model(cmd: api.RegisterExemplaryModel, who: Principal, uow: AwardsUnitOfWork
                                   ) -> api.ExemplaryModelReply:
    async with uow:
        today = today_of(uow)
        actor = await authorize(uow, who, Action.ACT, cmd.unit_id, today)
        model_id = cmd.model_id or mint("em")
        existing = await uow.models.get(model_id)
        if existing is not None:
            if existing.same_request(cmd.unit_id, cmd.person_id, cmd.title, cmd.story, cmd.year, cmd.award_id):
                return (await _model_replies(uow, [existing], duplicate=True))[0]
            raise Conflict(f"Mã điển hình {model_id} đã dùng cho “{existing.title}”.", "model_id")
        if cmd.person_id is not None:
            person = await uow.directory.person(cmd.person_id)
            if person is None:
                raise not_found(f"cá nhân {cmd.person_id}", "person_id")
            if not await uow.directory.within(person.unit_id, cmd.unit_id, today):
                raise Invalid(f"{person.full_name} không thuộc đơn vị {cmd.unit_id}.", "person_id")
        if cmd.award_id is not None:
            award = await uow.decisions.award(cmd.award_id)
            if award is None:
                raise not_found(f"khen thưởng {cmd.award_id}", "award_id")
            subject = cmd.person_id if award.nominee_kind == "individual" else cmd.unit_id
            if award.nominee_id != subject:
                raise Invalid(f"Khen thưởng {cmd.award_id} không phải của đối tượng này.", "award_id")
        model = ExemplaryModel(model_id, cmd.unit_id, cmd.person_id, cmd.title, cmd.story, cmd.year, cmd.award_id,
                               uow.now(), actor.label)
        await uow.models.add(model)
        await uow.emit(ev.ExemplaryModelRegistered(
            model_id=model_id, unit_id=cmd.unit_id, person_id=cmd.person_id, title=cmd.title, story=cmd.story,
            year=cmd.year), subject=model_id)
        reply = (await _model_replies(uow, [model]))[0]
        await uow.commit()
        return reply


async def list_exemplary_models(q: api.ListExemplaryModels, who: Principal, uow: AwardsUnitOfWork) -> api.ExemplaryModelPage:
    """The published register: readable by every person of the federation."""
    async with uow:
        actor = await uow.directory.actor(who, today_of(uow))
        if not actor.is_person or not actor.active:  # machine identities need a reading role
            await authorize(uow, who, Action.READ, None, today_of(uow), "Authorization")
        under = None
        if q.unit_id is not None:
            if await uow.directory.unit(q.unit_id) is None:
                raise not_found(f"đơn vị {q.unit_id}", "unit_id")
            under = (q.unit_id, today_of(uow))
        from_year = q.year if q.year is not None else q.from_year
        to_year = q.year if q.year is not None else q.to_year
        rows = await uow.models.list(under=under, person_id=q.person_id, from_year=from_year, to_year=to_year,
                                     after=page_cursor(q.page.cursor, numeric_first=True), limit=q.page.limit + 1)
        more = len(rows) > q.page.limit
        rows = rows[:q.page.limit]
        return api.ExemplaryModelPage(items=await _model_replies(uow, rows),
                                      next_cursor=f"{rows[-1].year}|{rows[-1].model_id}" if more else None)


async def get_award_history(q: api.GetAwardHistory, who: Principal, uow: AwardsUnitOfWork) -> api.AwardHistory:
    if (q.unit_id is None) == (q.person_id is None):
        raise Invalid("Cần ghi đúng một trong hai: unit_id (đơn vị) hoặc person_id (cá nhân).",
                                 "unit_id" if q.unit_id is None else "person_id")
    async with uow:
        today = today_of(uow)
        if q.unit_id is not None:
            await authorize(uow, who, Action.READ, q.unit_id, today)
            successor = await uow.directory.successor(q.unit_id)
            includes = [q.unit_id, *await uow.directory.predecessors(q.unit_id)]
            rows = await uow.decisions.history(unit_ids=includes, nominee_kind=str(q.nominee_kind) if q.nominee_kind
                                               else None, from_year=q.from_year, to_year=q.to_year)
            models = await uow.models.list(unit_ids=includes, person_id=None, from_year=q.from_year, to_year=q.to_year,
                                           after=None, limit=2000)
            return api.AwardHistory(unit_id=q.unit_id, person_id=None,
                                    successor_id=successor if successor != q.unit_id else None,
                                    includes_units=includes, awards=[award_item(r) for r in rows],
                                    exemplary_models=await _model_replies(uow, models))
        person = await uow.directory.person(q.person_id or "")  # set: exactly one of the two is, checked above
        if person is None:
            raise not_found(f"cá nhân {q.person_id}", "person_id")
        if who.person_id != q.person_id:
            await authorize(uow, who, Action.READ, person.unit_id, today, "person_id")
        rows = await uow.decisions.history(person_id=q.person_id, from_year=q.from_year, to_year=q.to_year)
        models = await uow.models.list(person_id=q.person_id, from_year=q.from_year, to_year=q.to_year,
                                       after=None, limit=2000)
        return api.AwardHistory(unit_id=None, person_id=q.person_id, awards=[award_item(r) for r in rows],
                                exemplary_models=await _model_replies(uow, models))
