"""Rounds by command: the forms' catalogue, opening a round, its quotas, reading rounds."""

from __future__ import annotations

from datetime import date

from contracts.api import awards as api
from contracts.events import awards as ev
from runtime.access import Action, decide
from runtime.auth import Principal
from runtime.errors import not_found
from services.awards.domain.eligibility import (
    closed_by,
)
from services.awards.domain.model import (
    Conflict,
    Invalid,
    Round,
    level_for_kind,
    new_round,
)
from services.awards.service_layer.common import (
    authorize,
    council,
    default_forms,
    emit_round_opened,
    form_reply,
    load_round,
    mint,
    page_cursor,
    today_of,
)
from services.awards.service_layer.unit_of_work import AwardsUnitOfWork


async def list_award_forms(q: api.ListAwardForms, who: Principal, uow: AwardsUnitOfWork) -> api.AwardFormList:
    async with uow:
        forms = await uow.rounds.forms()
        return api.AwardFormList(items=[form_reply(f) for f in forms.values()
                                        if f.active and (q.nominee_kind is None or f.allows(str(q.nominee_kind)))])


async def _round_reply(uow: AwardsUnitOfWork, rnd: Round, duplicate: bool = False) -> api.RoundReply:
    forms = await uow.rounds.forms()
    units = sorted(rnd.quotas)
    used = await uow.nominations.quota_counts(rnd.round_id, units)
    awarded = await uow.nominations.quota_counts(rnd.round_id, units, statuses={"awarded"})
    return api.RoundReply(
        round_id=rnd.round_id, name=rnd.name, level=rnd.level, issuer_unit_id=rnd.issuer_unit_id, year=rnd.year,
        opens_on=rnd.opens_on, closes_on=rnd.closes_on, anchor_on=rnd.anchor_on,
        status=api.RoundStatus(rnd.status(today_of(uow))), report_period=rnd.report_period,
        require_report_accepted=rnd.require_report_accepted, requirement_id=rnd.requirement_id,
        min_rating=rnd.min_rating, collective_categories=rnd.collective_categories,
        individual_categories=rnd.individual_categories,
        forms=[form_reply(forms[c]) for c in rnd.forms if c in forms],
        quotas=[api.QuotaUse(unit_id=u, quota=rnd.quotas[u], used=used.get(u, 0), awarded=awarded.get(u, 0))
                for u in units],
        nominations=await uow.nominations.counts_by_status(rnd.round_id), source_plan_id=rnd.source_plan_id,
        source_item_id=rnd.source_item_id, duplicate=duplicate)


async def _check_quota_units(uow: AwardsUnitOfWork, issuer_unit_id: str, quotas: list[api.QuotaSetting],
                             on: date) -> dict[str, int]:
    out: dict[str, int] = {}
    for i, q in enumerate(quotas):
        if q.unit_id in out:
            raise Invalid(f"Đơn vị {q.unit_id} được giao chỉ tiêu hai lần.", f"quotas.{i}.unit_id")
        if await uow.directory.unit(q.unit_id) is None:
            raise not_found(f"đơn vị {q.unit_id}", f"quotas.{i}.unit_id")
        if not await uow.directory.within(q.unit_id, issuer_unit_id, on):
            raise Invalid(f"Đơn vị {q.unit_id} không thuộc phạm vi của đơn vị ban hành {issuer_unit_id}.",
                                     f"quotas.{i}.unit_id")
        out[q.unit_id] = q.quota
    return out


async def open_round(cmd: api.OpenRound, who: Principal, uow: AwardsUnitOfWork) -> api.RoundReply:
    async with uow:
        today = today_of(uow)
        actor = await authorize(uow, who, Action.ISSUE, cmd.issuer_unit_id, today, "issuer_unit_id")
        issuer = await uow.directory.unit(cmd.issuer_unit_id)
        if issuer is None:  # a machine identity is authorised by its roles, not the unit: check it here
            raise not_found(f"đơn vị {cmd.issuer_unit_id}", "issuer_unit_id")
        if closed_by(issuer, today):
            raise Conflict(f"Đơn vị {cmd.issuer_unit_id} đã ngừng hoạt động.", "issuer_unit_id")
        round_id = cmd.round_id or mint("round")
        existing = await uow.rounds.get(round_id)
        if existing is not None:
            if (existing.name, existing.issuer_unit_id, existing.opens_on, existing.closes_on) == (
                    cmd.name, cmd.issuer_unit_id, cmd.opens_on, cmd.closes_on):
                return await _round_reply(uow, existing, duplicate=True)
            raise Conflict(f"Mã đợt {round_id} đã dùng cho đợt “{existing.name}”.", "round_id")
        forms = await uow.rounds.forms()
        codes = list(cmd.forms) or default_forms(forms, issuer.kind)
        for i, code in enumerate(codes):
            if code not in forms or not forms[code].active:
                raise Invalid(f"Không có hình thức khen thưởng mã “{code}” trong danh mục.", f"forms.{i}")
        quotas = await _check_quota_units(uow, cmd.issuer_unit_id, cmd.quotas, today)
        rnd = new_round(
            round_id=round_id, name=cmd.name, level=cmd.level or level_for_kind(issuer.kind),
            issuer_unit_id=cmd.issuer_unit_id, opens_on=cmd.opens_on, closes_on=cmd.closes_on,
            anchor_on=cmd.anchor_on, report_period=cmd.report_period,
            require_report_accepted=cmd.require_report_accepted, requirement_id=cmd.requirement_id,
            min_rating=str(cmd.min_rating), collective_categories=list(cmd.collective_categories),
            individual_categories=list(cmd.individual_categories), forms=codes, quotas=quotas,
            opened_at=uow.now(), opened_by=actor.label)
        await uow.rounds.add(rnd)
        await emit_round_opened(uow, rnd, forms)
        reply = await _round_reply(uow, rnd)
        await uow.commit()
        return reply


async def set_round_quotas(cmd: api.SetRoundQuotas, who: Principal, uow: AwardsUnitOfWork) -> api.RoundReply:
    async with uow:
        today = today_of(uow)
        rnd = await load_round(uow, cmd.round_id, for_update=True)
        await council(uow, who, rnd)
        quotas = await _check_quota_units(uow, rnd.issuer_unit_id, cmd.quotas, today)
        new = dict(quotas) if cmd.replace else {**rnd.quotas, **quotas}
        used = await uow.nominations.quota_counts(rnd.round_id, new)
        names = await uow.directory.unit_names(new)
        for unit_id, quota in new.items():
            if used.get(unit_id, 0) > quota:
                raise Conflict(
                    f"Chỉ tiêu mới của {names.get(unit_id, unit_id)} ({quota}) thấp hơn số hồ sơ đã đề nghị "
                    f"({used[unit_id]}).", f"quotas.{unit_id}")
        changed = [ev.QuotaEntry(unit_id=u, quota=q) for u, q in sorted(new.items()) if rnd.quotas.get(u) != q]
        removed = sorted(set(rnd.quotas) - set(new))
        rnd.quotas = new
        await uow.rounds.save_quotas(rnd)
        if changed or removed:
            await uow.emit(ev.QuotasChanged(round_id=rnd.round_id, issuer_unit_id=rnd.issuer_unit_id,
                                            changed=changed, removed=removed), subject=rnd.round_id)
        reply = await _round_reply(uow, rnd)
        await uow.commit()
        return reply


async def get_round(q: api.GetRound, who: Principal, uow: AwardsUnitOfWork) -> api.RoundReply:
    async with uow:
        rnd = await load_round(uow, q.round_id)
        # A round is seen by its issuer, the units below it that nominate, and the levels above.
        await authorize(uow, who, Action.READ_ISSUED, rnd.issuer_unit_id, today_of(uow), "round_id")
        return await _round_reply(uow, rnd)


async def list_rounds(q: api.ListRounds, who: Principal, uow: AwardsUnitOfWork) -> api.RoundPage:
    async with uow:
        today = today_of(uow)
        actor = await uow.directory.actor(who, today)
        rows = await uow.rounds.list(issuer_unit_id=q.issuer_unit_id, year=q.year,
                                     status=str(q.status) if q.status else None, today=today,
                                     after=page_cursor(q.page.cursor, numeric_first=True), limit=q.page.limit + 1)
        more = len(rows) > q.page.limit
        rows = rows[:q.page.limit]
        seen: dict[str, bool] = {}  # the rounds the caller may see (READ_ISSUED of the issuer)
        for r in rows:
            if r.issuer_unit_id not in seen:
                seen[r.issuer_unit_id] = bool(decide(actor, Action.READ_ISSUED,
                                                     await uow.directory.target(r.issuer_unit_id, today)))
        visible = [r for r in rows if seen[r.issuer_unit_id]]
        items = [api.RoundSummary(round_id=r.round_id, name=r.name, level=r.level, issuer_unit_id=r.issuer_unit_id,
                                  year=r.year, opens_on=r.opens_on, closes_on=r.closes_on, anchor_on=r.anchor_on,
                                  status=api.RoundStatus(r.status(today)), source_plan_id=r.source_plan_id,
                                  source_item_id=r.source_item_id) for r in visible]
        return api.RoundPage(items=items, next_cursor=f"{rows[-1].year}|{rows[-1].round_id}" if more else None)
