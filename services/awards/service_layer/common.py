"""What the awards use cases share: ids, the caller's authorisation, a round by id, page cursors,
the forms' names, nominees' live eligibility, and the replies more than one use case gives."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterable
from datetime import date
from typing import Any

from contracts.api import awards as api
from contracts.events import awards as ev
from runtime.access import Action, Actor
from runtime.auth import Principal
from runtime.errors import not_found
from services.awards.domain.eligibility import (
    collective_reasons,
    individual_reasons,
)
from services.awards.domain.model import (
    STATUS_LABELS,
    Award,
    AwardForm,
    Invalid,
    Nomination,
    Round,
)
from services.awards.service_layer.unit_of_work import AwardsUnitOfWork


def mint(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:20]}"


def digest_id(prefix: str, *parts: str) -> str:
    raw = f"{prefix}-{'-'.join(parts)}"
    if len(raw) <= 100 and all((c.isascii() and c.isalnum()) or c in "_.:-/" for c in raw):
        return raw
    return f"{prefix}-{hashlib.sha1('|'.join(parts).encode()).hexdigest()[:24]}"


def today_of(uow: AwardsUnitOfWork) -> date:
    return uow.now().date()


async def authorize(uow: AwardsUnitOfWork, who: Principal, action: Action, unit_id: str | None, on: date,
                     field: str = "unit_id") -> Actor:
    """The caller, when the access policy (runtime/access.py) allows `action` on `unit_id`."""
    return await uow.directory.authorize(who, action, unit_id, on, field=field)


async def council(uow: AwardsUnitOfWork, who: Principal, rnd: Round) -> Actor:
    """The emulation and awards council of the issuing level: its leaders (DECIDE)."""
    return await authorize(uow, who, Action.DECIDE, rnd.issuer_unit_id, today_of(uow), "round_id")


async def load_round(uow: AwardsUnitOfWork, round_id: str, *, for_update: bool = False) -> Round:
    rnd = await uow.rounds.get(round_id, for_update=for_update)
    if rnd is None:
        raise not_found(f"đợt khen thưởng {round_id}", "round_id")
    return rnd


def page_cursor(after: str | None, numeric_first: bool = False) -> Any:
    if after is None:
        return None
    if not numeric_first:
        return after
    head, _, tail = after.partition("|")
    if not head.isdigit() or not tail:
        raise Invalid("Con trỏ trang không hợp lệ.", "page.cursor")
    return int(head), tail


def form_reply(f: AwardForm) -> api.AwardForm:
    return api.AwardForm(code=f.code, name=f.name, rank=f.rank, nominee_kinds=list(f.nominee_kinds),
                         granted_by=list(f.granted_by))


def form_name(forms: dict[str, AwardForm], code: str) -> str:
    return forms[code].name if code in forms else code


async def live_reasons(uow: AwardsUnitOfWork, rnd: Round, kind: str, ids: Iterable[str]) -> dict[str, list[str]]:
    """Live eligibility of nominees for a round, computed from the facts now (bulk)."""
    ids = sorted(set(ids))
    if not ids:
        return {}
    if kind == "collective":
        units = await uow.directory.units(ids)
        standings = await uow.facts.standings(ids, rnd.report_period)
        merged = await uow.directory.unit_names(u.merged_into for u in units.values() if u.merged_into)
        on = today_of(uow)  # as of today: a closure dated later does not count yet
        return {u: collective_reasons(units.get(u), standings[u], require_accepted=rnd.require_report_accepted,
                                      requirement_id=rnd.requirement_id, on=on,
                                      merged_into_name=merged.get(units[u].merged_into or "") if u in units else None)
                for u in ids}
    people = await uow.directory.people(ids)
    assessments = await uow.facts.assessments(ids, rnd.report_year)
    return {p: individual_reasons(people.get(p), assessments[p], rnd.report_year, rnd.min_rating) for p in ids}


def default_forms(forms: dict[str, AwardForm], issuer_kind: str) -> list[str]:
    return [f.code for f in forms.values() if f.active and issuer_kind in f.granted_by]


async def emit_round_opened(uow: AwardsUnitOfWork, rnd: Round, forms: dict[str, AwardForm]) -> None:
    await uow.emit(ev.RoundOpened(
        round_id=rnd.round_id, name=rnd.name, level=rnd.level, issuer_unit_id=rnd.issuer_unit_id,
        opens_on=rnd.opens_on, closes_on=rnd.closes_on,
        categories=list(dict.fromkeys(rnd.collective_categories + rnd.individual_categories)),
        forms=[form_name(forms, c) for c in rnd.forms], year=rnd.year, anchor_on=rnd.anchor_on,
        report_period=rnd.report_period, collective_categories=rnd.collective_categories,
        individual_categories=rnd.individual_categories, form_codes=rnd.forms, source_plan_id=rnd.source_plan_id,
        source_item_id=rnd.source_item_id), subject=rnd.round_id)


async def nomination_replies(uow: AwardsUnitOfWork, noms: list[Nomination], duplicate: bool = False, *,
                              rounds: dict[str, Round] | None = None,
                              known: dict[tuple[str, str, str], list[str]] | None = None
                              ) -> list[api.NominationReply]:
    """Replies with each nominee's eligibility now. `rounds` and `known` (reasons by (round, kind,
    nominee)) spare reading again what the caller has just read."""
    forms = await uow.rounds.forms()
    rounds = dict(rounds or {})
    for rid in sorted({n.round_id for n in noms} - set(rounds)):
        rounds[rid] = await load_round(uow, rid)
    reasons: dict[tuple[str, str, str], list[str]] = dict(known or {})
    for rid, rnd in rounds.items():
        for kind in ("collective", "individual"):
            ids = [n.nominee_id for n in noms if n.round_id == rid and n.nominee_kind == kind
                   and (rid, kind, n.nominee_id) not in reasons]
            for nominee, rs in (await live_reasons(uow, rnd, kind, ids)).items():
                reasons[(rid, kind, nominee)] = rs
    out = []
    for n in noms:
        rs = reasons[(n.round_id, n.nominee_kind, n.nominee_id)]
        out.append(api.NominationReply(
            nomination_id=n.nomination_id, round_id=n.round_id, by_unit_id=n.by_unit_id, nominee_kind=n.nominee_kind,
            nominee_id=n.nominee_id, nominee_name=n.nominee_name, nominee_unit_id=n.nominee_unit_id,
            category=n.category, form=n.form, form_name=form_name(forms, n.form), achievements=n.achievements,
            status=api.NominationStatus(n.status),
            status_label=STATUS_LABELS[n.status] + ("; đã trình Hội đồng cấp trên" if n.escalated_to else ""),
            at_unit_id=n.at_unit_id,
            eligible=not rs, reasons=rs, council_result=n.council_result, council_form=n.council_form,
            council_note=n.council_note, decided_on=n.decided_on, decision_id=n.decision_id, award_id=n.award_id,
            submitted_at=n.submitted_at, trail=[api.TrailStep(**s) for s in n.trail],
            escalated_from=n.escalated_from, escalated_to=n.escalated_to, duplicate=duplicate))
    return out


def award_item(r: Award) -> api.AwardItem:
    return api.AwardItem(award_id=r.award_id, round_id=r.round_id, round_name=r.round_name, decision_id=r.decision_id,
                         decision_number=r.decision_number, decision_date=r.decision_date, signer=r.signer,
                         nominee_kind=r.nominee_kind, nominee_id=r.nominee_id, nominee_name=r.nominee_name,
                         unit_id=r.unit_id, form=r.form, form_name=r.form_name, category=r.category, year=r.year)
