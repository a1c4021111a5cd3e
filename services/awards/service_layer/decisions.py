"""The council's result on a nomination, and the decision that grants the awards."""

from __future__ import annotations

from collections import Counter

import sqlalchemy as sa

from contracts.api import awards as api
from contracts.events import awards as ev
from runtime.access import Actor
from runtime.auth import Principal
from runtime.errors import not_found
from services.awards.domain.eligibility import closed_by
from services.awards.domain.model import (
    STATUS_LABELS,
    Award,
    AwardForm,
    Conflict,
    Decision,
    Invalid,
    Nomination,
    Round,
    check_quotas,
)
from services.awards.service_layer.common import (
    award_item,
    council,
    digest_id,
    form_name,
    live_reasons,
    load_round,
    mint,
    nomination_replies,
    today_of,
)
from services.awards.service_layer.unit_of_work import AwardsUnitOfWork


async def record_council_result(cmd: api.RecordCouncilResult, who: Principal, uow: AwardsUnitOfWork) -> api.NominationReply:
    async with uow:
        nom = await uow.nominations.get(cmd.nomination_id, for_update=True)
        if nom is None:
            raise not_found(f"hồ sơ đề nghị {cmd.nomination_id}", "nomination_id")
        rnd = await load_round(uow, nom.round_id)
        actor = await council(uow, who, rnd)
        forms = await uow.rounds.forms()
        result = str(cmd.result)
        if cmd.form is not None and cmd.form not in forms:
            raise Invalid(f"Không có hình thức khen thưởng mã “{cmd.form}” trong danh mục.", "form")
        reasons = [] if result == "rejected" else (await live_reasons(uow, rnd, nom.nominee_kind, [nom.nominee_id]))[
            nom.nominee_id]
        decided_on = cmd.decided_on or today_of(uow)
        changed = nom.record_council(result, form=forms.get(cmd.form) if cmd.form else None,
                                     current=forms[nom.form], note=cmd.note, decided_on=decided_on,
                                     actor_id=actor.label, unit_id=rnd.issuer_unit_id, at=uow.now(),
                                     reasons=reasons)
        if changed:
            up = None
            if result == "escalated":
                up = await _send_up(uow, nom, rnd, forms[nom.final_form], cmd, actor)
            await uow.nominations.save(nom)
            await uow.emit(ev.NominationDecided(
                nomination_id=nom.nomination_id, round_id=rnd.round_id, nominee_kind=nom.nominee_kind,
                nominee_id=nom.nominee_id, result=result, form=form_name(forms, nom.final_form),
                decided_on=decided_on, note=cmd.note, form_code=nom.final_form, by_unit_id=nom.by_unit_id,
                to_round_id=up.round_id if up else None, to_nomination_id=up.nomination_id if up else None,
                to_unit_id=up.at_unit_id if up else None), subject=nom.nomination_id)
        known = {} if result == "rejected" else {(rnd.round_id, nom.nominee_kind, nom.nominee_id): reasons}
        reply = (await nomination_replies(uow, [nom], rounds={rnd.round_id: rnd}, known=known))[0]
        await uow.commit()
        return reply


async def _send_up(uow: AwardsUnitOfWork, nom: Nomination, rnd: Round, form: AwardForm,
                   cmd: api.RecordCouncilResult, actor: Actor) -> Nomination | None:
    """An escalation to a form the level above grants reaches that level's council: a nomination
    in its round, proposed by this level, waiting at its council (counted against the quota that
    round gives this level, one place per nominee there too). None when this level grants the
    form itself (its own decision may), or when the level that grants it is not in the system
    (the dossier goes up on paper; this level's decision cannot grant it)."""
    today = today_of(uow)
    issuer = await uow.directory.unit(rnd.issuer_unit_id)
    if issuer is not None and issuer.kind in form.granted_by:
        return None
    granting = None
    for unit_id in await uow.directory.ancestors(rnd.issuer_unit_id, today):
        unit = await uow.directory.unit(unit_id)
        if unit is not None and unit.kind in form.granted_by and not closed_by(unit, today):
            granting = unit
            break
    if granting is None:
        return None
    if cmd.to_round_id is not None:
        up = await load_round(uow, cmd.to_round_id, for_update=True)
        if up.issuer_unit_id != granting.unit_id:
            raise Invalid(f"Đợt “{up.name}” không phải của {granting.name}, cấp tặng “{form.name}”.", "to_round_id")
        if form.code not in up.forms:
            raise Invalid(f"Đợt “{up.name}” của {granting.name} không có hình thức “{form.name}”.", "to_round_id")
        up.check_taking_nominations(today)
    else:
        open_ = [r for r in await uow.rounds.list(issuer_unit_id=granting.unit_id, year=None, status="open",
                                                  today=today, after=None, limit=50) if form.code in r.forms]
        if not open_:
            raise Conflict(f"“{form.name}” do {granting.name} quyết định tặng, nhưng {granting.name} chưa có đợt "
                           f"khen thưởng nào đang nhận hồ sơ với hình thức này; chỉ trình lên được khi cấp trên "
                           f"mở đợt.", "form")
        if len(open_) > 1:
            names = "; ".join(f"“{r.name}” (mã {r.round_id})" for r in open_)
            raise Invalid(f"{granting.name} có {len(open_)} đợt khen thưởng đang nhận hồ sơ với hình thức "
                          f"“{form.name}”: {names}. Cần chọn đợt để trình lên.", "to_round_id")
        up = await load_round(uow, open_[0].round_id, for_update=True)
    route = await uow.directory.route(rnd.issuer_unit_id, up.issuer_unit_id, today) or [rnd.issuer_unit_id]
    kind = nom.nominee_kind
    holder = await uow.nominations.holding_place(f"{up.round_id}|{kind}|{nom.nominee_id}")
    if holder is not None:
        raise Conflict(f"{nom.nominee_name} đã có hồ sơ trong đợt “{up.name}” của {granting.name} (hồ sơ "
                       f"{holder.nomination_id}, trạng thái: {STATUS_LABELS[holder.status]}).", "nomination_id")
    quota_units = [u for u in route if u in up.quotas]
    check_quotas(up.quotas, await uow.nominations.quota_counts(up.round_id, quota_units),
                 {u: 1 for u in quota_units}, await uow.directory.unit_names(quota_units))
    reasons = (await live_reasons(uow, up, kind, [nom.nominee_id]))[nom.nominee_id]
    now = uow.now()
    new = Nomination(
        nomination_id=digest_id("nom", nom.nomination_id, "up"), round_id=up.round_id, by_unit_id=rnd.issuer_unit_id,
        nominee_kind=kind, nominee_id=nom.nominee_id, nominee_name=nom.nominee_name,
        nominee_unit_id=nom.nominee_unit_id,
        category=nom.category if nom.category in up.categories_for(kind) else None, form=form.code,
        achievements=nom.achievements, status="under_review", at_unit_id=up.issuer_unit_id, route=route,
        eligible_at_submission=not reasons, reasons_at_submission=reasons, submitted_at=now,
        submitted_by=actor.label, escalated_from=nom.nomination_id)
    new.step(now, "submitted", actor.label, rnd.issuer_unit_id, cmd.note)
    try:
        await uow.nominations.add(new)
    except sa.exc.IntegrityError:  # a concurrent nomination of the same nominee got in first
        raise Conflict(f"{nom.nominee_name} đã có hồ sơ trong đợt “{up.name}”.", "nomination_id") from None
    nom.send_up(new.nomination_id, granting.name, actor.label, rnd.issuer_unit_id, now)
    await uow.emit(ev.NominationForwarded(
        nomination_id=new.nomination_id, round_id=up.round_id, by_unit_id=rnd.issuer_unit_id, nominee_kind=kind,
        nominee_id=nom.nominee_id, nominee_name=nom.nominee_name or None, from_unit_id=rnd.issuer_unit_id,
        to_unit_id=up.issuer_unit_id, to_council=True, note=cmd.note, escalated_from=nom.nomination_id,
        form=form.name), subject=new.nomination_id)
    return new


async def _decision_reply(uow: AwardsUnitOfWork, d: Decision, duplicate: bool = False) -> api.DecisionReply:
    rows = await uow.decisions.awards_of_decision(d.decision_id)
    return api.DecisionReply(decision_id=d.decision_id, round_id=d.round_id, number=d.number,
                             decision_date=d.decision_date, signer=d.signer, awards=[award_item(r) for r in rows],
                             duplicate=duplicate)


async def issue_decision(cmd: api.IssueDecision, who: Principal, uow: AwardsUnitOfWork) -> api.DecisionReply:
    async with uow:
        rnd = await load_round(uow, cmd.round_id, for_update=True)  # decisions of a round one at a time
        actor = await council(uow, who, rnd)
        decision_id = cmd.decision_id or mint("dec")
        existing = await uow.decisions.get(decision_id)
        if existing is not None:
            if existing.same_request(cmd.round_id, cmd.number, cmd.decision_date, cmd.signer, cmd.nomination_ids):
                return await _decision_reply(uow, existing, duplicate=True)
            raise Conflict(f"Mã quyết định {decision_id} đã dùng cho quyết định số {existing.number}.",
                                      "decision_id")
        other = await uow.decisions.by_number(rnd.issuer_unit_id, cmd.number)
        if other is not None:
            raise Conflict(f"Số quyết định {cmd.number} đã được dùng (quyết định {other.decision_id}).",
                                      "number")
        if len(set(cmd.nomination_ids)) != len(cmd.nomination_ids):
            raise Invalid("Danh sách khen thưởng có hồ sơ trùng nhau.", "nomination_ids")
        noms = await uow.nominations.get_many(cmd.nomination_ids, for_update=True)
        for i, nid in enumerate(cmd.nomination_ids):
            if nid not in noms:
                raise not_found(f"hồ sơ đề nghị {nid}", f"nomination_ids.{i}")
            if noms[nid].round_id != rnd.round_id:
                raise Invalid(f"Hồ sơ {nid} thuộc đợt khen thưởng khác.", f"nomination_ids.{i}")
        # The quotas hold at the decision too: what is awarded through a unit stays within its quota.
        adding = Counter(u for n in noms.values() for u in n.route if u in rnd.quotas)
        check_quotas(rnd.quotas, await uow.nominations.quota_counts(rnd.round_id, adding, statuses={"awarded"}),
                     dict(adding), await uow.directory.unit_names(adding), what="khen thưởng đã có quyết định")
        forms = await uow.rounds.forms()
        issuer = await uow.directory.unit(rnd.issuer_unit_id)
        now = uow.now()
        decision = Decision(decision_id, rnd.round_id, rnd.issuer_unit_id, cmd.number, cmd.decision_date, cmd.signer,
                            list(cmd.nomination_ids), now, actor.label)
        granted = []
        for nid in cmd.nomination_ids:
            nom = noms[nid]
            award_id = digest_id("aw", decision_id, nid)
            nom.grant(decision_id, award_id, actor.label, rnd.issuer_unit_id, now, form=forms.get(nom.final_form),
                      issuer_kind=issuer.kind if issuer is not None else None)
            await uow.nominations.save(nom)
            form = nom.final_form
            granted.append(Award(award_id=award_id, decision_id=decision_id, round_id=rnd.round_id,
                                 round_name=rnd.name, nomination_id=nid, nominee_kind=nom.nominee_kind,
                                 nominee_id=nom.nominee_id, nominee_name=nom.nominee_name, unit_id=nom.nominee_unit_id,
                                 form=form, form_name=form_name(forms, form), category=nom.category,
                                 decision_number=cmd.number, decision_date=cmd.decision_date, signer=cmd.signer,
                                 year=cmd.decision_date.year))
            await uow.emit(ev.AwardGranted(
                award_id=award_id, round_id=rnd.round_id, decision_number=cmd.number,
                decision_date=cmd.decision_date, signer=cmd.signer, nominee_kind=nom.nominee_kind,
                nominee_id=nom.nominee_id, unit_id=nom.nominee_unit_id, form=form_name(forms, form), form_code=form,
                decision_id=decision_id, nomination_id=nid, nominee_name=nom.nominee_name), subject=award_id)
        await uow.decisions.add(decision)
        await uow.decisions.add_awards(granted)
        await uow.emit(ev.DecisionIssued(
            decision_id=decision_id, round_id=rnd.round_id, issuer_unit_id=rnd.issuer_unit_id, number=cmd.number,
            decision_date=cmd.decision_date, signer=cmd.signer, awards=len(granted),
            nomination_ids=list(cmd.nomination_ids),
            by_unit_ids=sorted({noms[n].by_unit_id for n in cmd.nomination_ids})), subject=decision_id)
        reply = await _decision_reply(uow, decision)
        await uow.commit()
        return reply
