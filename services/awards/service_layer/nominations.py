"""Nominations: a unit nominates collectives and individuals of its subtree; each level above
endorses (sends up) or returns them; the nominating unit may withdraw; who sees which."""

from __future__ import annotations

import sqlalchemy as sa

from contracts.api import awards as api
from contracts.events import awards as ev
from runtime.access import Action
from runtime.auth import Principal
from runtime.errors import Forbidden, not_found
from services.awards.domain.eligibility import (
    closed_by,
)
from services.awards.domain.model import (
    STATUS_LABELS,
    Conflict,
    Invalid,
    Nomination,
    Round,
    check_quotas,
)
from services.awards.service_layer.common import (
    authorize,
    form_name,
    live_reasons,
    load_round,
    mint,
    nomination_replies,
    today_of,
)
from services.awards.service_layer.unit_of_work import AwardsUnitOfWork


async def submit_nomination(cmd: api.SubmitNomination, who: Principal, uow: AwardsUnitOfWork) -> api.NominationReply:
    async with uow:
        today = today_of(uow)
        rnd = await load_round(uow, cmd.round_id)
        actor = await authorize(uow, who, Action.ACT, cmd.by_unit_id, today, "by_unit_id")
        kind = str(cmd.nominee_kind)
        if cmd.nomination_id is not None:
            existing = await uow.nominations.get(cmd.nomination_id)
            if existing is not None:
                if existing.round_id == rnd.round_id and existing.same_request(
                        cmd.by_unit_id, kind, cmd.nominee_id, cmd.form, cmd.category, cmd.achievements):
                    return (await nomination_replies(uow, [existing], duplicate=True))[0]
                raise Conflict(f"Mã hồ sơ {cmd.nomination_id} đã dùng cho một hồ sơ khác.",
                                          "nomination_id")
        rnd.check_taking_nominations(today)
        by_unit = await uow.directory.unit(cmd.by_unit_id)
        if by_unit is None:
            raise not_found(f"đơn vị {cmd.by_unit_id}", "by_unit_id")
        if closed_by(by_unit, today):
            raise Conflict(f"Đơn vị {by_unit.name} đã ngừng hoạt động.", "by_unit_id")
        route = await uow.directory.route(cmd.by_unit_id, rnd.issuer_unit_id, today)
        if route is None:
            raise Forbidden(f"{by_unit.name} không thuộc phạm vi đợt khen thưởng “{rnd.name}” "
                             f"(đơn vị ban hành: {rnd.issuer_unit_id}).", "by_unit_id")
        # The nominee: a unit of the nominating unit's subtree, or a person of one.
        if kind == "collective":
            unit = await uow.directory.unit(cmd.nominee_id)
            if unit is None:
                raise not_found(f"đơn vị {cmd.nominee_id}", "nominee_id")
            nominee_unit_id, nominee_name = unit.unit_id, unit.name
        else:
            person = await uow.directory.person(cmd.nominee_id)
            if person is None:
                raise not_found(f"cá nhân {cmd.nominee_id}", "nominee_id")
            nominee_unit_id, nominee_name = person.unit_id, person.full_name
        if not await uow.directory.within(nominee_unit_id, cmd.by_unit_id, today):
            raise Forbidden(f"{nominee_name} không thuộc {by_unit.name}: một đơn vị chỉ đề nghị khen thưởng "
                             f"tập thể, cá nhân thuộc đơn vị mình.", "nominee_id")
        forms = await uow.rounds.forms()
        rnd.check_form(kind, forms.get(cmd.form), cmd.form)
        rnd.check_category(kind, cmd.category)
        reasons = (await live_reasons(uow, rnd, kind, [cmd.nominee_id]))[cmd.nominee_id]
        if any(u in rnd.quotas for u in route):
            # Counting against quotas: nominations of the round through these units one at a time
            # (the round's row lock, on PostgreSQL; SQLite has one writer anyway).
            rnd = await load_round(uow, cmd.round_id, for_update=True)
        place_key = f"{rnd.round_id}|{kind}|{cmd.nominee_id}"
        holder = await uow.nominations.holding_place(place_key)
        if holder is not None:
            holder_unit = (await uow.directory.unit_names([holder.by_unit_id])).get(holder.by_unit_id,
                                                                                    holder.by_unit_id)
            raise Conflict(
                f"{nominee_name} đã được đề nghị trong đợt “{rnd.name}” (hồ sơ {holder.nomination_id} của "
                f"{holder_unit}, trạng thái: {STATUS_LABELS[holder.status]}); mỗi đối tượng chỉ được đề nghị "
                f"một lần trong một đợt.", "nominee_id")
        quota_units = [u for u in route if u in rnd.quotas]
        check_quotas(rnd.quotas, await uow.nominations.quota_counts(rnd.round_id, quota_units),
                     {u: 1 for u in quota_units}, await uow.directory.unit_names(quota_units))
        if cmd.by_unit_id == rnd.issuer_unit_id:
            at_unit, status = rnd.issuer_unit_id, "under_review"
        else:
            at_unit = route[1] if len(route) > 1 else rnd.issuer_unit_id
            status = "under_review" if at_unit == rnd.issuer_unit_id else "submitted"
        now = uow.now()
        nom = Nomination(
            nomination_id=cmd.nomination_id or mint("nom"), round_id=rnd.round_id, by_unit_id=cmd.by_unit_id,
            nominee_kind=kind, nominee_id=cmd.nominee_id, nominee_name=nominee_name, nominee_unit_id=nominee_unit_id,
            category=cmd.category, form=cmd.form, achievements=cmd.achievements, status=status, at_unit_id=at_unit,
            route=route, eligible_at_submission=not reasons, reasons_at_submission=reasons, submitted_at=now,
            submitted_by=actor.label)
        nom.step(now, "submitted", actor.label, cmd.by_unit_id, None)
        try:
            await uow.nominations.add(nom)
        except sa.exc.IntegrityError:  # a concurrent nomination of the same nominee got in first
            raise Conflict(f"{nominee_name} đã được đề nghị trong đợt “{rnd.name}”.", "nominee_id") from None
        await uow.emit(ev.NominationSubmitted(
            nomination_id=nom.nomination_id, round_id=rnd.round_id, by_unit_id=nom.by_unit_id, nominee_kind=kind,
            nominee_id=nom.nominee_id, form=form_name(forms, nom.form), eligible=not reasons, reasons=reasons,
            form_code=nom.form, category=nom.category, nominee_unit_id=nominee_unit_id), subject=nom.nomination_id)
        reply = (await nomination_replies(uow, [nom], rounds={rnd.round_id: rnd},
                                           known={(rnd.round_id, kind, nom.nominee_id): reasons}))[0]
        await uow.commit()
        return reply


async def withdraw_nomination(cmd: api.WithdrawNomination, who: Principal, uow: AwardsUnitOfWork) -> api.NominationReply:
    async with uow:
        nom = await uow.nominations.get(cmd.nomination_id, for_update=True)
        if nom is None:
            raise not_found(f"hồ sơ đề nghị {cmd.nomination_id}", "nomination_id")
        actor = await authorize(uow, who, Action.ACT, nom.by_unit_id, today_of(uow), "nomination_id")
        waited_at = nom.at_unit_id
        nom.withdraw(actor.label, uow.now(), cmd.reason)
        await uow.nominations.save(nom)
        await uow.emit(ev.NominationWithdrawn(
            nomination_id=nom.nomination_id, round_id=nom.round_id, by_unit_id=nom.by_unit_id,
            nominee_kind=nom.nominee_kind, nominee_id=nom.nominee_id, nominee_name=nom.nominee_name or None,
            waited_at_unit_id=waited_at, reason=cmd.reason), subject=nom.nomination_id)
        reply = (await nomination_replies(uow, [nom]))[0]
        await uow.commit()
        return reply


async def forward_nominations(cmd: api.ForwardNominations, who: Principal, uow: AwardsUnitOfWork) -> api.NominationPage:
    async with uow:
        today = today_of(uow)
        actor = await authorize(uow, who, Action.ACT, cmd.unit_id, today)
        if len(set(cmd.nomination_ids)) != len(cmd.nomination_ids):
            raise Invalid("Danh sách hồ sơ có mã trùng nhau.", "nomination_ids")
        noms = await uow.nominations.get_many(cmd.nomination_ids, for_update=True)
        missing = [i for i in cmd.nomination_ids if i not in noms]
        if missing:
            raise not_found(f"hồ sơ đề nghị {', '.join(missing[:10])}", "nomination_ids")
        now = uow.now()
        rounds: dict[str, Round] = {}
        for nid in cmd.nomination_ids:
            nom = noms[nid]
            rnd = rounds.get(nom.round_id) or await load_round(uow, nom.round_id)
            rounds[rnd.round_id] = rnd
            if cmd.endorse:
                route = await uow.directory.route(cmd.unit_id, rnd.issuer_unit_id, today)
                parent = None if route is None else (route[1] if len(route) > 1 else rnd.issuer_unit_id)
                nom.forward(cmd.unit_id, parent, rnd.issuer_unit_id, actor.label, now, cmd.note)
                await uow.emit(ev.NominationForwarded(
                    nomination_id=nom.nomination_id, round_id=rnd.round_id, by_unit_id=nom.by_unit_id,
                    nominee_kind=nom.nominee_kind, nominee_id=nom.nominee_id, nominee_name=nom.nominee_name or None,
                    from_unit_id=cmd.unit_id, to_unit_id=nom.at_unit_id or rnd.issuer_unit_id,
                    to_council=nom.at_unit_id == rnd.issuer_unit_id, note=cmd.note), subject=nom.nomination_id)
            else:
                nom.return_(cmd.unit_id, actor.label, now, cmd.note)
                await uow.emit(ev.NominationReturned(
                    nomination_id=nom.nomination_id, round_id=rnd.round_id, by_unit_id=nom.by_unit_id,
                    nominee_kind=nom.nominee_kind, nominee_id=nom.nominee_id, nominee_name=nom.nominee_name or None,
                    returned_by_unit_id=cmd.unit_id, note=cmd.note), subject=nom.nomination_id)
            await uow.nominations.save(nom)
        ordered = [noms[i] for i in cmd.nomination_ids]
        replies = await nomination_replies(uow, ordered, rounds=rounds)
        await uow.commit()
        return api.NominationPage(items=replies)


async def list_nominations(q: api.ListNominations, who: Principal, uow: AwardsUnitOfWork) -> api.NominationPage:
    async with uow:
        rnd = await load_round(uow, q.round_id)
        await authorize(uow, who, Action.READ, q.unit_id, today_of(uow))
        rows = await uow.nominations.list(round_id=rnd.round_id, unit_id=q.unit_id,
                                          everything=q.unit_id == rnd.issuer_unit_id,
                                          status=str(q.status) if q.status else None, awaiting_only=q.awaiting_only,
                                          after=q.page.cursor, limit=q.page.limit + 1)
        more = len(rows) > q.page.limit
        rows = rows[:q.page.limit]
        return api.NominationPage(items=await nomination_replies(uow, rows, rounds={rnd.round_id: rnd}),
                                  next_cursor=rows[-1].nomination_id if more else None)
