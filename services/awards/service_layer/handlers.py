"""Use cases of the awards service, as plain functions (command, uow).

Request handlers open the unit of work, authorise the actor against awards' own projection of the
directory, apply the domain rules, record events with `uow.emit()` and commit. Event handlers
(facts from plans and reports) and reminder handlers do not commit: the consumer (or the scheduler)
commits their batch together with its inbox rows (or the reminder's claim).
"""

from __future__ import annotations

import hashlib
import uuid
from collections import Counter
from collections.abc import Iterable
from datetime import date, datetime, time
from typing import Any

import sqlalchemy as sa

from contracts.api import awards as api
from contracts.envelope import CloudEvent
from contracts.events import awards as ev
from contracts.events import plans as plans_ev
from contracts.events import reports as reports_ev
from runtime.access import Action, Actor, decide
from runtime.auth import Principal
from runtime.clock import TZ
from runtime.directory import Retry
from runtime.errors import Forbidden, NotFound, not_found
from runtime.scheduler import cancel, schedule
from services.awards.domain.eligibility import (
    Assessment,
    assessment_version,
    closed_by,
    collective_reasons,
    individual_reasons,
)
from services.awards.domain.model import (
    STATUS_LABELS,
    Award,
    AwardForm,
    Conflict,
    Decision,
    ExemplaryModel,
    Invalid,
    Nomination,
    Round,
    RoundSource,
    check_quotas,
    level_for_kind,
    new_round,
)
from services.awards.domain.windows import Window, first_window, next_opening, planned_round_name, window_for
from services.awards.service_layer.unit_of_work import AwardsUnitOfWork

OPEN_PLANNED_ROUND = "open_planned_round"  # reminder kind

DEFAULT_COLLECTIVE_CATEGORIES = ["Tập thể có thành tích xuất sắc"]
DEFAULT_INDIVIDUAL_CATEGORIES = ["Cá nhân có thành tích xuất sắc"]


# --- helpers ---------------------------------------------------------------------------------

def _mint(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:20]}"


def _digest_id(prefix: str, *parts: str) -> str:
    raw = f"{prefix}-{'-'.join(parts)}"
    if len(raw) <= 100 and all((c.isascii() and c.isalnum()) or c in "_.:-/" for c in raw):
        return raw
    return f"{prefix}-{hashlib.sha1('|'.join(parts).encode()).hexdigest()[:24]}"


def _not_found(what: str, field: str) -> NotFound:
    return not_found(what, field)


def _forbidden(message: str, field: str = "unit_id") -> Forbidden:
    return Forbidden(message, field)


def _today(uow: AwardsUnitOfWork) -> date:
    return uow.now().date()


async def _authorize(uow: AwardsUnitOfWork, who: Principal, action: Action, unit_id: str | None, on: date,
                     field: str = "unit_id") -> Actor:
    """The caller, when the access policy (runtime/access.py) allows `action` on `unit_id`."""
    return await uow.directory.authorize(who, action, unit_id, on, field=field)


async def _council(uow: AwardsUnitOfWork, who: Principal, rnd: Round) -> Actor:
    """The emulation and awards council of the issuing level: its leaders (DECIDE)."""
    return await _authorize(uow, who, Action.DECIDE, rnd.issuer_unit_id, _today(uow), "round_id")


async def _round(uow: AwardsUnitOfWork, round_id: str, *, for_update: bool = False) -> Round:
    rnd = await uow.rounds.get(round_id, for_update=for_update)
    if rnd is None:
        raise _not_found(f"đợt khen thưởng {round_id}", "round_id")
    return rnd


def _cursor(after: str | None, numeric_first: bool = False) -> Any:
    if after is None:
        return None
    if not numeric_first:
        return after
    head, _, tail = after.partition("|")
    if not head.isdigit() or not tail:
        raise Invalid("Con trỏ trang không hợp lệ.", "page.cursor")
    return int(head), tail


def _form_reply(f: AwardForm) -> api.AwardForm:
    return api.AwardForm(code=f.code, name=f.name, rank=f.rank, nominee_kinds=list(f.nominee_kinds),
                         granted_by=list(f.granted_by))


def _form_name(forms: dict[str, AwardForm], code: str) -> str:
    return forms[code].name if code in forms else code


# --- eligibility -----------------------------------------------------------------------------

async def _reasons(uow: AwardsUnitOfWork, rnd: Round, kind: str, ids: Iterable[str]) -> dict[str, list[str]]:
    """Live eligibility of nominees for a round, computed from the facts now (bulk)."""
    ids = sorted(set(ids))
    if not ids:
        return {}
    if kind == "collective":
        units = await uow.directory.units(ids)
        standings = await uow.facts.standings(ids, rnd.report_period)
        merged = await uow.directory.unit_names(u.merged_into for u in units.values() if u.merged_into)
        on = _today(uow)  # as of today: a closure dated later does not count yet
        return {u: collective_reasons(units.get(u), standings[u], require_accepted=rnd.require_report_accepted,
                                      requirement_id=rnd.requirement_id, on=on,
                                      merged_into_name=merged.get(units[u].merged_into or "") if u in units else None)
                for u in ids}
    people = await uow.directory.people(ids)
    assessments = await uow.facts.assessments(ids, rnd.report_year)
    return {p: individual_reasons(people.get(p), assessments[p], rnd.report_year, rnd.min_rating) for p in ids}


async def get_eligibility(q: api.GetEligibility, who: Principal, uow: AwardsUnitOfWork) -> api.Eligibility:
    async with uow:
        await _authorize(uow, who, Action.READ, q.unit_id, _today(uow))
        standing = await uow.facts.standing(q.unit_id, q.period)
        reasons = standing.reasons_not_eligible(require_accepted=q.require_accepted, requirement_id=q.requirement_id)
        return api.Eligibility(unit_id=q.unit_id, period=q.period, eligible=not reasons, reasons=reasons)


async def check_eligibility(q: api.CheckEligibility, who: Principal, uow: AwardsUnitOfWork) -> api.NomineeEligibility:
    async with uow:
        today = _today(uow)
        rnd = await _round(uow, q.round_id)
        kind = str(q.nominee_kind)
        if kind == "collective":
            if await uow.directory.unit(q.nominee_id) is None:
                raise _not_found(f"đơn vị {q.nominee_id}", "nominee_id")
            unit_id = q.nominee_id
        else:
            person = await uow.directory.person(q.nominee_id)
            if person is None:
                raise _not_found(f"cá nhân {q.nominee_id}", "nominee_id")
            unit_id = person.unit_id
        if q.nominee_id != who.person_id:  # one's own eligibility, or that of a unit one may read
            await _authorize(uow, who, Action.READ, unit_id, today, "nominee_id")
        reasons = (await _reasons(uow, rnd, kind, [q.nominee_id]))[q.nominee_id]
        return api.NomineeEligibility(round_id=rnd.round_id, nominee_kind=q.nominee_kind, nominee_id=q.nominee_id,
                                      report_period=rnd.report_period, eligible=not reasons, reasons=reasons)


# --- facts from reports and plans (event handlers: no commit) ---------------------------------

async def on_report_submitted(event: CloudEvent[reports_ev.ReportSubmitted], uow: AwardsUnitOfWork) -> None:
    d = event.data
    standing = await uow.facts.standing(d.unit_id, d.period)
    standing.record_submitted(d.report_id, d.requirement_id, d.revision, d.on_time, d.submitted_at)
    await uow.facts.save_revision(standing, d.report_id, d.revision)


async def on_report_returned(event: CloudEvent[reports_ev.ReportReturned], uow: AwardsUnitOfWork) -> None:
    d = event.data
    standing = await uow.facts.standing(d.unit_id, d.period)
    standing.record_returned(d.report_id, d.requirement_id, d.revision, d.returned_at)
    await uow.facts.save_revision(standing, d.report_id, d.revision)


async def on_report_accepted(event: CloudEvent[reports_ev.ReportAccepted], uow: AwardsUnitOfWork) -> None:
    d = event.data
    standing = await uow.facts.standing(d.unit_id, d.period)
    standing.record_accepted(d.report_id, d.requirement_id, d.revision, d.on_time, d.accepted_at)
    await uow.facts.save_revision(standing, d.report_id, d.revision)


async def on_individual_plan_assessed(event: CloudEvent[plans_ev.IndividualPlanAssessed],
                                      uow: AwardsUnitOfWork) -> None:
    d = event.data
    await uow.facts.record_assessment(
        Assessment(d.individual_plan_id, d.person_id, d.year, str(d.rating), d.assessed_on,
                   assessment_version(d.assessed_on, event.time, event.id)), d.unit_id)


# --- rounds opened by plans --------------------------------------------------------------------

def _reminder_prefix(plan_id: str, item_id: str | None = None) -> str:
    return f"awards:round:{plan_id}:" + (f"{item_id}:" if item_id is not None else "")


async def on_plan_issued(event: CloudEvent[plans_ev.PlanIssued], uow: AwardsUnitOfWork) -> None:
    """Items whose output is an award round open one round per (item, year): the first window not
    yet over now, and each next year's ahead of its window (durable reminder)."""
    d = event.data
    if await uow.sources.plan_closed(d.plan_id):
        return  # an issue arriving after the plan's closure opens nothing
    known = {r.item_id: r for r in await uow.sources.of_plan(d.plan_id)}
    if known and max(r.plan_revision for r in known.values()) > d.revision:
        return  # an older revision arriving late
    items = [i for i in d.items if str(i.output) == "award_round"]
    keep = {i.item_id for i in items}
    gone = [item_id for item_id, r in known.items() if item_id not in keep and r.active]
    if gone:
        await uow.sources.deactivate(d.plan_id, gone)
        for item_id in gone:
            await cancel(uow.session, _reminder_prefix(d.plan_id, item_id))
    today = _today(uow)
    for item in items:
        prior = known.get(item.item_id)
        if prior is not None and prior.active and prior.plan_revision == d.revision:
            continue  # the same revision again: nothing new
        timing = item.timing.model_dump(mode="json", exclude_none=True)
        source = RoundSource(plan_id=d.plan_id, item_id=item.item_id, plan_revision=d.revision, plan_number=d.number,
                             issuer_unit_id=d.issuer_unit_id, issued_on=d.issued_on, content=item.content,
                             timing=timing, active=True)
        await uow.sources.upsert(source)
        await cancel(uow.session, _reminder_prefix(d.plan_id, item.item_id))  # an earlier revision's
        window = first_window(timing, d.issued_on, today)
        if window is None:
            continue
        await _open_planned_round(uow, source, window)
        await _schedule_next(uow, source, window.year)


async def on_plan_closed(event: CloudEvent[plans_ev.PlanClosed], uow: AwardsUnitOfWork) -> None:
    """A closed plan opens no more rounds; rounds already open run to their decisions."""
    await uow.sources.close_plan(event.data.plan_id, event.data.closed_on)
    await cancel(uow.session, _reminder_prefix(event.data.plan_id))


async def open_planned_round(payload: dict[str, Any], uow: AwardsUnitOfWork) -> None:
    """Reminder handler: open the round of `year` for a plan item, and schedule the next year's."""
    source = await uow.sources.get(payload["plan_id"], payload["item_id"])
    if source is None or not source.active:
        return
    year = int(payload["year"])
    window = window_for(dict(source.timing), year, source.issued_on)
    if window is not None:
        await _open_planned_round(uow, source, window)
    await _schedule_next(uow, source, year)


async def _schedule_next(uow: AwardsUnitOfWork, source: RoundSource, after_year: int) -> None:
    nxt = next_opening(dict(source.timing), after_year, source.issued_on)
    if nxt is None:
        return
    due, window = nxt
    key = f"{_reminder_prefix(source.plan_id, source.item_id)}{window.year}:r{source.plan_revision}"
    await schedule(uow.session, key, OPEN_PLANNED_ROUND, datetime.combine(due, time.min, tzinfo=TZ),
                   {"plan_id": source.plan_id, "item_id": source.item_id, "year": window.year})


async def _open_planned_round(uow: AwardsUnitOfWork, source: RoundSource, window: Window) -> Round:
    existing = await uow.rounds.by_source(source.plan_id, source.item_id, window.year)
    if existing is not None:
        return existing
    issuer = await uow.directory.unit(source.issuer_unit_id)
    if issuer is None:  # plans registers its units before it issues their plans: wait for it
        raise Retry(f"issuer {source.issuer_unit_id} of plan {source.plan_id} not known here yet")
    forms = await uow.rounds.forms()
    rnd = new_round(
        round_id=_digest_id("round", source.plan_id, source.item_id, str(window.year)),
        name=planned_round_name(window, source.plan_number), level=level_for_kind(issuer.kind),
        issuer_unit_id=source.issuer_unit_id, opens_on=window.opens_on, closes_on=window.closes_on,
        anchor_on=window.anchor_on, report_period=None, require_report_accepted=True, requirement_id=None,
        min_rating="good", collective_categories=DEFAULT_COLLECTIVE_CATEGORIES,
        individual_categories=DEFAULT_INDIVIDUAL_CATEGORIES, forms=_default_forms(forms, issuer.kind), quotas={},
        opened_at=uow.now(), opened_by=None, source_plan_id=source.plan_id, source_item_id=source.item_id)
    await uow.rounds.add(rnd)
    await _emit_round_opened(uow, rnd, forms)
    return rnd


def _default_forms(forms: dict[str, AwardForm], issuer_kind: str) -> list[str]:
    return [f.code for f in forms.values() if f.active and issuer_kind in f.granted_by]


async def _emit_round_opened(uow: AwardsUnitOfWork, rnd: Round, forms: dict[str, AwardForm]) -> None:
    await uow.emit(ev.RoundOpened(
        round_id=rnd.round_id, name=rnd.name, level=rnd.level, issuer_unit_id=rnd.issuer_unit_id,
        opens_on=rnd.opens_on, closes_on=rnd.closes_on,
        categories=list(dict.fromkeys(rnd.collective_categories + rnd.individual_categories)),
        forms=[_form_name(forms, c) for c in rnd.forms], year=rnd.year, anchor_on=rnd.anchor_on,
        report_period=rnd.report_period, collective_categories=rnd.collective_categories,
        individual_categories=rnd.individual_categories, form_codes=rnd.forms, source_plan_id=rnd.source_plan_id,
        source_item_id=rnd.source_item_id), subject=rnd.round_id)


# --- rounds by command -------------------------------------------------------------------------

async def list_award_forms(q: api.ListAwardForms, who: Principal, uow: AwardsUnitOfWork) -> api.AwardFormList:
    async with uow:
        forms = await uow.rounds.forms()
        return api.AwardFormList(items=[_form_reply(f) for f in forms.values()
                                        if f.active and (q.nominee_kind is None or f.allows(str(q.nominee_kind)))])


async def _round_reply(uow: AwardsUnitOfWork, rnd: Round, duplicate: bool = False) -> api.RoundReply:
    forms = await uow.rounds.forms()
    units = sorted(rnd.quotas)
    used = await uow.nominations.quota_counts(rnd.round_id, units)
    awarded = await uow.nominations.quota_counts(rnd.round_id, units, statuses={"awarded"})
    return api.RoundReply(
        round_id=rnd.round_id, name=rnd.name, level=rnd.level, issuer_unit_id=rnd.issuer_unit_id, year=rnd.year,
        opens_on=rnd.opens_on, closes_on=rnd.closes_on, anchor_on=rnd.anchor_on,
        status=api.RoundStatus(rnd.status(_today(uow))), report_period=rnd.report_period,
        require_report_accepted=rnd.require_report_accepted, requirement_id=rnd.requirement_id,
        min_rating=rnd.min_rating, collective_categories=rnd.collective_categories,
        individual_categories=rnd.individual_categories,
        forms=[_form_reply(forms[c]) for c in rnd.forms if c in forms],
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
            raise _not_found(f"đơn vị {q.unit_id}", f"quotas.{i}.unit_id")
        if not await uow.directory.within(q.unit_id, issuer_unit_id, on):
            raise Invalid(f"Đơn vị {q.unit_id} không thuộc phạm vi của đơn vị ban hành {issuer_unit_id}.",
                                     f"quotas.{i}.unit_id")
        out[q.unit_id] = q.quota
    return out


async def open_round(cmd: api.OpenRound, who: Principal, uow: AwardsUnitOfWork) -> api.RoundReply:
    async with uow:
        today = _today(uow)
        actor = await _authorize(uow, who, Action.ISSUE, cmd.issuer_unit_id, today, "issuer_unit_id")
        issuer = await uow.directory.unit(cmd.issuer_unit_id)
        if issuer is None:  # a machine identity is authorised by its roles, not the unit: check it here
            raise _not_found(f"đơn vị {cmd.issuer_unit_id}", "issuer_unit_id")
        if closed_by(issuer, today):
            raise Conflict(f"Đơn vị {cmd.issuer_unit_id} đã ngừng hoạt động.", "issuer_unit_id")
        round_id = cmd.round_id or _mint("round")
        existing = await uow.rounds.get(round_id)
        if existing is not None:
            if (existing.name, existing.issuer_unit_id, existing.opens_on, existing.closes_on) == (
                    cmd.name, cmd.issuer_unit_id, cmd.opens_on, cmd.closes_on):
                return await _round_reply(uow, existing, duplicate=True)
            raise Conflict(f"Mã đợt {round_id} đã dùng cho đợt “{existing.name}”.", "round_id")
        forms = await uow.rounds.forms()
        codes = list(cmd.forms) or _default_forms(forms, issuer.kind)
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
        await _emit_round_opened(uow, rnd, forms)
        reply = await _round_reply(uow, rnd)
        await uow.commit()
        return reply


async def set_round_quotas(cmd: api.SetRoundQuotas, who: Principal, uow: AwardsUnitOfWork) -> api.RoundReply:
    async with uow:
        today = _today(uow)
        rnd = await _round(uow, cmd.round_id, for_update=True)
        await _council(uow, who, rnd)
        quotas = await _check_quota_units(uow, rnd.issuer_unit_id, cmd.quotas, today)
        new = dict(quotas) if cmd.replace else {**rnd.quotas, **quotas}
        used = await uow.nominations.quota_counts(rnd.round_id, new)
        names = await uow.directory.unit_names(new)
        for unit_id, quota in new.items():
            if used.get(unit_id, 0) > quota:
                raise Conflict(
                    f"Chỉ tiêu mới của {names.get(unit_id, unit_id)} ({quota}) thấp hơn số hồ sơ đã đề nghị "
                    f"({used[unit_id]}).", f"quotas.{unit_id}")
        rnd.quotas = new
        await uow.rounds.save_quotas(rnd)
        reply = await _round_reply(uow, rnd)
        await uow.commit()
        return reply


async def get_round(q: api.GetRound, who: Principal, uow: AwardsUnitOfWork) -> api.RoundReply:
    async with uow:
        rnd = await _round(uow, q.round_id)
        # A round is seen by its issuer, the units below it that nominate, and the levels above.
        await _authorize(uow, who, Action.READ_ISSUED, rnd.issuer_unit_id, _today(uow), "round_id")
        return await _round_reply(uow, rnd)


async def list_rounds(q: api.ListRounds, who: Principal, uow: AwardsUnitOfWork) -> api.RoundPage:
    async with uow:
        today = _today(uow)
        actor = await uow.directory.actor(who, today)
        rows = await uow.rounds.list(issuer_unit_id=q.issuer_unit_id, year=q.year,
                                     status=str(q.status) if q.status else None, today=today,
                                     after=_cursor(q.page.cursor, numeric_first=True), limit=q.page.limit + 1)
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


# --- nominations -------------------------------------------------------------------------------

async def _nomination_replies(uow: AwardsUnitOfWork, noms: list[Nomination], duplicate: bool = False, *,
                              rounds: dict[str, Round] | None = None,
                              known: dict[tuple[str, str, str], list[str]] | None = None
                              ) -> list[api.NominationReply]:
    """Replies with each nominee's eligibility now. `rounds` and `known` (reasons by (round, kind,
    nominee)) spare reading again what the caller has just read."""
    forms = await uow.rounds.forms()
    rounds = dict(rounds or {})
    for rid in sorted({n.round_id for n in noms} - set(rounds)):
        rounds[rid] = await _round(uow, rid)
    reasons: dict[tuple[str, str, str], list[str]] = dict(known or {})
    for rid, rnd in rounds.items():
        for kind in ("collective", "individual"):
            ids = [n.nominee_id for n in noms if n.round_id == rid and n.nominee_kind == kind
                   and (rid, kind, n.nominee_id) not in reasons]
            for nominee, rs in (await _reasons(uow, rnd, kind, ids)).items():
                reasons[(rid, kind, nominee)] = rs
    out = []
    for n in noms:
        rs = reasons[(n.round_id, n.nominee_kind, n.nominee_id)]
        out.append(api.NominationReply(
            nomination_id=n.nomination_id, round_id=n.round_id, by_unit_id=n.by_unit_id, nominee_kind=n.nominee_kind,
            nominee_id=n.nominee_id, nominee_name=n.nominee_name, nominee_unit_id=n.nominee_unit_id,
            category=n.category, form=n.form, form_name=_form_name(forms, n.form), achievements=n.achievements,
            status=api.NominationStatus(n.status), status_label=STATUS_LABELS[n.status], at_unit_id=n.at_unit_id,
            eligible=not rs, reasons=rs, council_result=n.council_result, council_form=n.council_form,
            council_note=n.council_note, decided_on=n.decided_on, decision_id=n.decision_id, award_id=n.award_id,
            submitted_at=n.submitted_at, trail=[api.TrailStep(**s) for s in n.trail], duplicate=duplicate))
    return out


async def submit_nomination(cmd: api.SubmitNomination, who: Principal, uow: AwardsUnitOfWork) -> api.NominationReply:
    async with uow:
        today = _today(uow)
        rnd = await _round(uow, cmd.round_id)
        actor = await _authorize(uow, who, Action.ACT, cmd.by_unit_id, today, "by_unit_id")
        kind = str(cmd.nominee_kind)
        if cmd.nomination_id is not None:
            existing = await uow.nominations.get(cmd.nomination_id)
            if existing is not None:
                if existing.round_id == rnd.round_id and existing.same_request(
                        cmd.by_unit_id, kind, cmd.nominee_id, cmd.form, cmd.category, cmd.achievements):
                    return (await _nomination_replies(uow, [existing], duplicate=True))[0]
                raise Conflict(f"Mã hồ sơ {cmd.nomination_id} đã dùng cho một hồ sơ khác.",
                                          "nomination_id")
        rnd.check_taking_nominations(today)
        by_unit = await uow.directory.unit(cmd.by_unit_id)
        if by_unit is None:
            raise _not_found(f"đơn vị {cmd.by_unit_id}", "by_unit_id")
        if closed_by(by_unit, today):
            raise Conflict(f"Đơn vị {by_unit.name} đã ngừng hoạt động.", "by_unit_id")
        route = await uow.directory.route(cmd.by_unit_id, rnd.issuer_unit_id, today)
        if route is None:
            raise _forbidden(f"{by_unit.name} không thuộc phạm vi đợt khen thưởng “{rnd.name}” "
                             f"(đơn vị ban hành: {rnd.issuer_unit_id}).", "by_unit_id")
        # The nominee: a unit of the nominating unit's subtree, or a person of one.
        if kind == "collective":
            unit = await uow.directory.unit(cmd.nominee_id)
            if unit is None:
                raise _not_found(f"đơn vị {cmd.nominee_id}", "nominee_id")
            nominee_unit_id, nominee_name = unit.unit_id, unit.name
        else:
            person = await uow.directory.person(cmd.nominee_id)
            if person is None:
                raise _not_found(f"cá nhân {cmd.nominee_id}", "nominee_id")
            nominee_unit_id, nominee_name = person.unit_id, person.full_name
        if not await uow.directory.within(nominee_unit_id, cmd.by_unit_id, today):
            raise _forbidden(f"{nominee_name} không thuộc {by_unit.name}: một đơn vị chỉ đề nghị khen thưởng "
                             f"tập thể, cá nhân thuộc đơn vị mình.", "nominee_id")
        forms = await uow.rounds.forms()
        rnd.check_form(kind, forms.get(cmd.form), cmd.form)
        rnd.check_category(kind, cmd.category)
        reasons = (await _reasons(uow, rnd, kind, [cmd.nominee_id]))[cmd.nominee_id]
        if any(u in rnd.quotas for u in route):
            # Counting against quotas: nominations of the round through these units one at a time
            # (the round's row lock, on PostgreSQL; SQLite has one writer anyway).
            rnd = await _round(uow, cmd.round_id, for_update=True)
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
            nomination_id=cmd.nomination_id or _mint("nom"), round_id=rnd.round_id, by_unit_id=cmd.by_unit_id,
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
            nominee_id=nom.nominee_id, form=_form_name(forms, nom.form), eligible=not reasons, reasons=reasons,
            form_code=nom.form, category=nom.category, nominee_unit_id=nominee_unit_id), subject=nom.nomination_id)
        reply = (await _nomination_replies(uow, [nom], rounds={rnd.round_id: rnd},
                                           known={(rnd.round_id, kind, nom.nominee_id): reasons}))[0]
        await uow.commit()
        return reply


async def withdraw_nomination(cmd: api.WithdrawNomination, who: Principal, uow: AwardsUnitOfWork) -> api.NominationReply:
    async with uow:
        nom = await uow.nominations.get(cmd.nomination_id, for_update=True)
        if nom is None:
            raise _not_found(f"hồ sơ đề nghị {cmd.nomination_id}", "nomination_id")
        actor = await _authorize(uow, who, Action.ACT, nom.by_unit_id, _today(uow), "nomination_id")
        nom.withdraw(actor.label, uow.now(), cmd.reason)
        await uow.nominations.save(nom)
        reply = (await _nomination_replies(uow, [nom]))[0]
        await uow.commit()
        return reply


async def forward_nominations(cmd: api.ForwardNominations, who: Principal, uow: AwardsUnitOfWork) -> api.NominationPage:
    async with uow:
        today = _today(uow)
        actor = await _authorize(uow, who, Action.ACT, cmd.unit_id, today)
        if len(set(cmd.nomination_ids)) != len(cmd.nomination_ids):
            raise Invalid("Danh sách hồ sơ có mã trùng nhau.", "nomination_ids")
        noms = await uow.nominations.get_many(cmd.nomination_ids, for_update=True)
        missing = [i for i in cmd.nomination_ids if i not in noms]
        if missing:
            raise _not_found(f"hồ sơ đề nghị {', '.join(missing[:10])}", "nomination_ids")
        now = uow.now()
        rounds: dict[str, Round] = {}
        for nid in cmd.nomination_ids:
            nom = noms[nid]
            rnd = rounds.get(nom.round_id) or await _round(uow, nom.round_id)
            rounds[rnd.round_id] = rnd
            if cmd.endorse:
                route = await uow.directory.route(cmd.unit_id, rnd.issuer_unit_id, today)
                parent = None if route is None else (route[1] if len(route) > 1 else rnd.issuer_unit_id)
                nom.forward(cmd.unit_id, parent, rnd.issuer_unit_id, actor.label, now, cmd.note)
            else:
                nom.return_(cmd.unit_id, actor.label, now, cmd.note)
            await uow.nominations.save(nom)
        ordered = [noms[i] for i in cmd.nomination_ids]
        replies = await _nomination_replies(uow, ordered, rounds=rounds)
        await uow.commit()
        return api.NominationPage(items=replies)


async def list_nominations(q: api.ListNominations, who: Principal, uow: AwardsUnitOfWork) -> api.NominationPage:
    async with uow:
        rnd = await _round(uow, q.round_id)
        await _authorize(uow, who, Action.READ, q.unit_id, _today(uow))
        rows = await uow.nominations.list(round_id=rnd.round_id, unit_id=q.unit_id,
                                          everything=q.unit_id == rnd.issuer_unit_id,
                                          status=str(q.status) if q.status else None, awaiting_only=q.awaiting_only,
                                          after=q.page.cursor, limit=q.page.limit + 1)
        more = len(rows) > q.page.limit
        rows = rows[:q.page.limit]
        return api.NominationPage(items=await _nomination_replies(uow, rows, rounds={rnd.round_id: rnd}),
                                  next_cursor=rows[-1].nomination_id if more else None)


# --- the council and decisions -----------------------------------------------------------------

async def record_council_result(cmd: api.RecordCouncilResult, who: Principal, uow: AwardsUnitOfWork) -> api.NominationReply:
    async with uow:
        nom = await uow.nominations.get(cmd.nomination_id, for_update=True)
        if nom is None:
            raise _not_found(f"hồ sơ đề nghị {cmd.nomination_id}", "nomination_id")
        rnd = await _round(uow, nom.round_id)
        actor = await _council(uow, who, rnd)
        forms = await uow.rounds.forms()
        result = str(cmd.result)
        if cmd.form is not None and cmd.form not in forms:
            raise Invalid(f"Không có hình thức khen thưởng mã “{cmd.form}” trong danh mục.", "form")
        reasons = [] if result == "rejected" else (await _reasons(uow, rnd, nom.nominee_kind, [nom.nominee_id]))[
            nom.nominee_id]
        decided_on = cmd.decided_on or _today(uow)
        changed = nom.record_council(result, form=forms.get(cmd.form) if cmd.form else None,
                                     current=forms[nom.form], note=cmd.note, decided_on=decided_on,
                                     actor_id=actor.label, unit_id=rnd.issuer_unit_id, at=uow.now(),
                                     reasons=reasons)
        if changed:
            await uow.nominations.save(nom)
            await uow.emit(ev.NominationDecided(
                nomination_id=nom.nomination_id, round_id=rnd.round_id, nominee_kind=nom.nominee_kind,
                nominee_id=nom.nominee_id, result=result, form=_form_name(forms, nom.final_form),
                decided_on=decided_on, note=cmd.note, form_code=nom.final_form, by_unit_id=nom.by_unit_id),
                subject=nom.nomination_id)
        known = {} if result == "rejected" else {(rnd.round_id, nom.nominee_kind, nom.nominee_id): reasons}
        reply = (await _nomination_replies(uow, [nom], rounds={rnd.round_id: rnd}, known=known))[0]
        await uow.commit()
        return reply


def _award_item(r: Award) -> api.AwardItem:
    return api.AwardItem(award_id=r.award_id, round_id=r.round_id, round_name=r.round_name, decision_id=r.decision_id,
                         decision_number=r.decision_number, decision_date=r.decision_date, signer=r.signer,
                         nominee_kind=r.nominee_kind, nominee_id=r.nominee_id, nominee_name=r.nominee_name,
                         unit_id=r.unit_id, form=r.form, form_name=r.form_name, category=r.category, year=r.year)


async def _decision_reply(uow: AwardsUnitOfWork, d: Decision, duplicate: bool = False) -> api.DecisionReply:
    rows = await uow.decisions.awards_of_decision(d.decision_id)
    return api.DecisionReply(decision_id=d.decision_id, round_id=d.round_id, number=d.number,
                             decision_date=d.decision_date, signer=d.signer, awards=[_award_item(r) for r in rows],
                             duplicate=duplicate)


async def issue_decision(cmd: api.IssueDecision, who: Principal, uow: AwardsUnitOfWork) -> api.DecisionReply:
    async with uow:
        rnd = await _round(uow, cmd.round_id, for_update=True)  # decisions of a round one at a time
        actor = await _council(uow, who, rnd)
        decision_id = cmd.decision_id or _mint("dec")
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
                raise _not_found(f"hồ sơ đề nghị {nid}", f"nomination_ids.{i}")
            if noms[nid].round_id != rnd.round_id:
                raise Invalid(f"Hồ sơ {nid} thuộc đợt khen thưởng khác.", f"nomination_ids.{i}")
        # The quotas hold at the decision too: what is awarded through a unit stays within its quota.
        adding = Counter(u for n in noms.values() for u in n.route if u in rnd.quotas)
        check_quotas(rnd.quotas, await uow.nominations.quota_counts(rnd.round_id, adding, statuses={"awarded"}),
                     dict(adding), await uow.directory.unit_names(adding), what="khen thưởng đã có quyết định")
        forms = await uow.rounds.forms()
        now = uow.now()
        decision = Decision(decision_id, rnd.round_id, rnd.issuer_unit_id, cmd.number, cmd.decision_date, cmd.signer,
                            list(cmd.nomination_ids), now, actor.label)
        granted = []
        for nid in cmd.nomination_ids:
            nom = noms[nid]
            award_id = _digest_id("aw", decision_id, nid)
            nom.grant(decision_id, award_id, actor.label, rnd.issuer_unit_id, now)
            await uow.nominations.save(nom)
            form = nom.final_form
            granted.append(Award(award_id=award_id, decision_id=decision_id, round_id=rnd.round_id,
                                 round_name=rnd.name, nomination_id=nid, nominee_kind=nom.nominee_kind,
                                 nominee_id=nom.nominee_id, nominee_name=nom.nominee_name, unit_id=nom.nominee_unit_id,
                                 form=form, form_name=_form_name(forms, form), category=nom.category,
                                 decision_number=cmd.number, decision_date=cmd.decision_date, signer=cmd.signer,
                                 year=cmd.decision_date.year))
            await uow.emit(ev.AwardGranted(
                award_id=award_id, round_id=rnd.round_id, decision_number=cmd.number,
                decision_date=cmd.decision_date, signer=cmd.signer, nominee_kind=nom.nominee_kind,
                nominee_id=nom.nominee_id, unit_id=nom.nominee_unit_id, form=_form_name(forms, form), form_code=form,
                decision_id=decision_id, nomination_id=nid, nominee_name=nom.nominee_name), subject=award_id)
        await uow.decisions.add(decision)
        await uow.decisions.add_awards(granted)
        reply = await _decision_reply(uow, decision)
        await uow.commit()
        return reply


# --- exemplary models and history --------------------------------------------------------------

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
        today = _today(uow)
        actor = await _authorize(uow, who, Action.ACT, cmd.unit_id, today)
        model_id = cmd.model_id or _mint("em")
        existing = await uow.models.get(model_id)
        if existing is not None:
            if existing.same_request(cmd.unit_id, cmd.person_id, cmd.title, cmd.story, cmd.year, cmd.award_id):
                return (await _model_replies(uow, [existing], duplicate=True))[0]
            raise Conflict(f"Mã điển hình {model_id} đã dùng cho “{existing.title}”.", "model_id")
        if cmd.person_id is not None:
            person = await uow.directory.person(cmd.person_id)
            if person is None:
                raise _not_found(f"cá nhân {cmd.person_id}", "person_id")
            if not await uow.directory.within(person.unit_id, cmd.unit_id, today):
                raise Invalid(f"{person.full_name} không thuộc đơn vị {cmd.unit_id}.", "person_id")
        if cmd.award_id is not None:
            award = await uow.decisions.award(cmd.award_id)
            if award is None:
                raise _not_found(f"khen thưởng {cmd.award_id}", "award_id")
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
        actor = await uow.directory.actor(who, _today(uow))
        if not actor.is_person or not actor.active:  # machine identities need a reading role
            await _authorize(uow, who, Action.READ, None, _today(uow), "Authorization")
        under = None
        if q.unit_id is not None:
            if await uow.directory.unit(q.unit_id) is None:
                raise _not_found(f"đơn vị {q.unit_id}", "unit_id")
            under = (q.unit_id, _today(uow))
        from_year = q.year if q.year is not None else q.from_year
        to_year = q.year if q.year is not None else q.to_year
        rows = await uow.models.list(under=under, person_id=q.person_id, from_year=from_year, to_year=to_year,
                                     after=_cursor(q.page.cursor, numeric_first=True), limit=q.page.limit + 1)
        more = len(rows) > q.page.limit
        rows = rows[:q.page.limit]
        return api.ExemplaryModelPage(items=await _model_replies(uow, rows),
                                      next_cursor=f"{rows[-1].year}|{rows[-1].model_id}" if more else None)


async def get_award_history(q: api.GetAwardHistory, who: Principal, uow: AwardsUnitOfWork) -> api.AwardHistory:
    if (q.unit_id is None) == (q.person_id is None):
        raise Invalid("Cần ghi đúng một trong hai: unit_id (đơn vị) hoặc person_id (cá nhân).",
                                 "unit_id" if q.unit_id is None else "person_id")
    async with uow:
        today = _today(uow)
        if q.unit_id is not None:
            await _authorize(uow, who, Action.READ, q.unit_id, today)
            successor = await uow.directory.successor(q.unit_id)
            includes = [q.unit_id, *await uow.directory.predecessors(q.unit_id)]
            rows = await uow.decisions.history(unit_ids=includes, nominee_kind=str(q.nominee_kind) if q.nominee_kind
                                               else None, from_year=q.from_year, to_year=q.to_year)
            models = await uow.models.list(unit_ids=includes, person_id=None, from_year=q.from_year, to_year=q.to_year,
                                           after=None, limit=2000)
            return api.AwardHistory(unit_id=q.unit_id, person_id=None,
                                    successor_id=successor if successor != q.unit_id else None,
                                    includes_units=includes, awards=[_award_item(r) for r in rows],
                                    exemplary_models=await _model_replies(uow, models))
        person = await uow.directory.person(q.person_id or "")  # set: exactly one of the two is, checked above
        if person is None:
            raise _not_found(f"cá nhân {q.person_id}", "person_id")
        if who.person_id != q.person_id:
            await _authorize(uow, who, Action.READ, person.unit_id, today, "person_id")
        rows = await uow.decisions.history(person_id=q.person_id, from_year=q.from_year, to_year=q.to_year)
        models = await uow.models.list(person_id=q.person_id, from_year=q.from_year, to_year=q.to_year,
                                       after=None, limit=2000)
        return api.AwardHistory(unit_id=None, person_id=q.person_id, awards=[_award_item(r) for r in rows],
                                exemplary_models=await _model_replies(uow, models))
