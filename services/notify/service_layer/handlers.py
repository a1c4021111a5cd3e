"""Use cases of the notify service.

Event handlers take (event, uow, policy), turn the event into a notice — who should hear of it, and
what — and stage it; they do not commit (the consumer commits the batch, with its inbox rows, and
the unit of work records the batch's notices just before). Recipients per kind, decided here:

| event                                   | kind                         | told                                            |
|-----------------------------------------|------------------------------|-------------------------------------------------|
| plans.plan.issued                       | plan_issued                  | the people of the roles it names, in the units  |
|                                         |                              | plans resolved (the event's `role_holders`)     |
| plans.tasks.assigned                    | tasks_assigned               | contacts of the unit                            |
| plans.deadline.approaching              | deadline_approaching         | contacts of the unit                            |
| plans.deadline.missed                   | deadline_missed              | contacts of the unit; of its parent (oversight) |
| plans.implementation_plan.registered    | implementation_plan_registered | contacts of the unit's parent (oversight)     |
| reports.report.submitted                | report_submitted             | contacts of the receiving unit (oversight)      |
| reports.report.returned / accepted      | report_returned / _accepted  | contacts of the submitting unit                 |
| reports.report.reopened                 | report_reopened              | contacts of the submitting unit                 |
| reports.report.deadline_approaching     | report_deadline_approaching  | contacts of the unit that must report           |
| reports.report.overdue                  | report_overdue               | that unit; the receiving unit (oversight)       |
| awards.round.opened                     | award_round_opened           | contacts of the issuer's child units            |
| awards.nomination.submitted             | nomination_submitted         | contacts of the round's issuer (oversight)      |
| awards.nomination.decided               | nomination_decided           | the nominating unit; the nominee (person or unit) |
| awards.award.granted                    | award_granted                | the nominee (person or unit); an individual's unit |
| awards.nomination.forwarded             | nomination_forwarded         | contacts of the level it waits at now           |
| awards.nomination.returned              | nomination_returned          | contacts of the nominating unit                 |
| awards.nomination.withdrawn             | nomination_withdrawn         | the level it was waiting at (oversight)         |
| awards.decision.issued                  | decision_issued              | the units that nominated the awardees           |
| awards.quotas.changed                   | quotas_changed               | the units whose quota was set or changed        |

A unit's contacts are its active people with a chairperson, head-of-unit or cadre role (its
executive members when it has none of those). "Oversight" notices go to the daily digest by default.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any

from contracts.api import notify as api
from contracts.envelope import CloudEvent
from contracts.events import awards as awards_ev
from contracts.events import notify as notify_ev
from contracts.events import plans as plans_ev
from contracts.events import reports as reports_ev
from contracts.types import NomineeKind
from runtime.access import Action
from runtime.auth import Principal
from runtime.directory import Retry
from runtime.errors import Invalid, NotFound, not_found
from services.notify.domain.model import (
    Audience,
    EmailMode,
    Kind,
    Notice,
    Preferences,
    Target,
)
from services.notify.service_layer.delivery import wall_now
from services.notify.service_layer.fanout import EventHandler, stage
from services.notify.service_layer.policy import Policy
from services.notify.service_layer.unit_of_work import NotifyUnitOfWork
from services.notify.service_layer.webhooks import Webhooks

OWN, OVERSIGHT = Audience.OWN, Audience.OVERSIGHT
MAX_LISTED_TASKS = 20


def _notice(event: CloudEvent[Any], kind: Kind, link: str, targets: list[Target], **kw: Any) -> Notice:
    return Notice(event_id=event.id, event_type=event.type, occurred_at=event.time, kind=kind, link=link,
                  targets=targets, source=event, **kw)


# --- plans -------------------------------------------------------------------------------------
async def on_plan_issued(event: CloudEvent[plans_ev.PlanIssued], uow: NotifyUnitOfWork, policy: Policy) -> None:
    """The plan itself goes to the people it names by role (individual plans of executive members…),
    in the units plans resolved (`role_holders`). The units it gives work to are told by plans' own
    answer too — one `tasks.assigned` per unit, with its occurrences. Nothing here reads the plan's
    parties: "who gets this plan's work" is one rule, in plans."""
    d = event.data
    await uow.notify.upsert_ref("plan", d.plan_id, number=d.number, title=d.title, unit_id=d.issuer_unit_id)
    targets = [Target("unit", h.unit_id, OWN, frozenset(str(r) for r in h.roles), fallback=False)
               for h in d.role_holders]
    if not targets:
        return
    stage(uow, _notice(event, Kind.PLAN_ISSUED, f"/plans/{d.plan_id}", targets,
                       context={"plan": {"number": d.number, "title": d.title, "issued_on": d.issued_on,
                                         "revision": d.revision, "item_count": len(d.items)}},
                       units={"issuer": d.issuer_unit_id}), policy)


async def on_tasks_assigned(event: CloudEvent[plans_ev.TasksAssigned], uow: NotifyUnitOfWork, policy: Policy) -> None:
    d = event.data
    if not d.occurrences:
        return
    occ = sorted(d.occurrences, key=lambda o: (o.due_date is None, o.due_date or date.max, o.occurrence_id))
    dues = [o.due_date for o in occ if o.due_date]
    stage(uow, _notice(event, Kind.TASKS_ASSIGNED, f"/plans/{d.plan_id}", [Target("unit", d.unit_id)],
                       context={"plan_number": d.plan_number, "count": len(occ), "nearest_due": min(dues) if dues else None,
                                "occurrences": [{"content": o.content, "due_date": o.due_date, "period": o.period}
                                                for o in occ[:MAX_LISTED_TASKS]],
                                "more": max(0, len(occ) - MAX_LISTED_TASKS)},
                       units={"unit": d.unit_id}, refs={"plan": ("plan", d.plan_id)}), policy)


async def on_deadline_approaching(event: CloudEvent[plans_ev.DeadlineApproaching], uow: NotifyUnitOfWork,
                                  policy: Policy) -> None:
    d = event.data
    stage(uow, _notice(event, Kind.DEADLINE_APPROACHING, f"/plans/{d.plan_id}/tasks/{d.occurrence_id}",
                       [Target("unit", d.unit_id)],
                       context={"content": d.content, "period": d.period, "due_date": d.due_date,
                                "days_before": d.days_before},
                       units={"unit": d.unit_id}, refs={"plan": ("plan", d.plan_id)}), policy)


async def on_deadline_missed(event: CloudEvent[plans_ev.DeadlineMissed], uow: NotifyUnitOfWork, policy: Policy) -> None:
    d = event.data
    stage(uow, _notice(event, Kind.DEADLINE_MISSED, f"/plans/{d.plan_id}/tasks/{d.occurrence_id}",
                       [Target("unit", d.unit_id), Target("parent", d.unit_id, OVERSIGHT)],
                       context={"content": d.content, "period": d.period, "due_date": d.due_date},
                       units={"unit": d.unit_id}, refs={"plan": ("plan", d.plan_id)}), policy)


async def on_implementation_plan_registered(event: CloudEvent[plans_ev.ImplementationPlanRegistered],
                                            uow: NotifyUnitOfWork, policy: Policy) -> None:
    d = event.data
    stage(uow, _notice(event, Kind.IMPLEMENTATION_PLAN_REGISTERED, f"/plans/{d.plan_id}",
                       [Target("parent", d.unit_id, OVERSIGHT)],
                       context={"number": d.number, "registered_on": d.registered_on, "on_time": d.on_time},
                       units={"unit": d.unit_id}, refs={"plan": ("plan", d.parent_plan_id)}), policy)


# --- reports -----------------------------------------------------------------------------------
async def on_requirement_opened(event: CloudEvent[reports_ev.RequirementOpened], uow: NotifyUnitOfWork,
                                policy: Policy) -> None:
    d = event.data  # named in later notices; the units that must report hear of it through reminders
    await uow.notify.upsert_ref("requirement", d.requirement_id, title=d.name, unit_id=d.receiving_unit_id)


async def on_report_submitted(event: CloudEvent[reports_ev.ReportSubmitted], uow: NotifyUnitOfWork,
                              policy: Policy) -> None:
    d = event.data
    if not d.receiving_unit_id:
        return
    stage(uow, _notice(event, Kind.REPORT_SUBMITTED, f"/reports/{d.report_id}",
                       [Target("unit", d.receiving_unit_id, OVERSIGHT)],
                       context={"period": d.period, "submitted_at": d.submitted_at, "on_time": d.on_time,
                                "revision": d.revision, "due_date": d.due_date},
                       units={"unit": d.unit_id}, refs={"requirement": ("requirement", d.requirement_id)}), policy)


async def on_report_returned(event: CloudEvent[reports_ev.ReportReturned], uow: NotifyUnitOfWork,
                             policy: Policy) -> None:
    d = event.data
    stage(uow, _notice(event, Kind.REPORT_RETURNED, f"/reports/{d.report_id}", [Target("unit", d.unit_id)],
                       context={"period": d.period, "comment": d.comment, "returned_at": d.returned_at,
                                "revision": d.revision},
                       units={"unit": d.unit_id, "by_unit": d.by_unit_id},
                       refs={"requirement": ("requirement", d.requirement_id)}), policy)


async def on_report_accepted(event: CloudEvent[reports_ev.ReportAccepted], uow: NotifyUnitOfWork,
                             policy: Policy) -> None:
    d = event.data
    stage(uow, _notice(event, Kind.REPORT_ACCEPTED, f"/reports/{d.report_id}", [Target("unit", d.unit_id)],
                       context={"period": d.period, "accepted_at": d.accepted_at, "on_time": d.on_time},
                       units={"unit": d.unit_id, "by_unit": d.by_unit_id},
                       refs={"requirement": ("requirement", d.requirement_id)}), policy)


async def on_report_reopened(event: CloudEvent[reports_ev.ReportReopened], uow: NotifyUnitOfWork,
                             policy: Policy) -> None:
    d = event.data
    stage(uow, _notice(event, Kind.REPORT_REOPENED, f"/reports/{d.report_id}", [Target("unit", d.unit_id)],
                       context={"period": d.period, "comment": d.comment, "reopened_at": d.reopened_at,
                                "revision": d.revision},
                       units={"unit": d.unit_id, "by_unit": d.by_unit_id},
                       refs={"requirement": ("requirement", d.requirement_id)}), policy)


def _requirement_link(requirement_id: str, period: str, unit_id: str) -> str:
    return f"/reports/requirements/{requirement_id}/{period}/{unit_id}"


async def on_report_deadline_approaching(event: CloudEvent[reports_ev.ReportDeadlineApproaching],
                                         uow: NotifyUnitOfWork, policy: Policy) -> None:
    d = event.data
    stage(uow, _notice(event, Kind.REPORT_DEADLINE_APPROACHING, _requirement_link(d.requirement_id, d.period, d.unit_id),
                       [Target("unit", d.unit_id)],
                       context={"name": d.name, "period": d.period, "due_date": d.due_date,
                                "days_before": d.days_before},
                       units={"unit": d.unit_id, "receiving_unit": d.receiving_unit_id}), policy)


async def on_report_overdue(event: CloudEvent[reports_ev.ReportOverdue], uow: NotifyUnitOfWork,
                            policy: Policy) -> None:
    d = event.data
    stage(uow, _notice(event, Kind.REPORT_OVERDUE, _requirement_link(d.requirement_id, d.period, d.unit_id),
                       [Target("unit", d.unit_id), Target("unit", d.receiving_unit_id, OVERSIGHT)],
                       context={"name": d.name, "period": d.period, "due_date": d.due_date},
                       units={"unit": d.unit_id, "receiving_unit": d.receiving_unit_id}), policy)


# --- awards ------------------------------------------------------------------------------------
async def on_round_opened(event: CloudEvent[awards_ev.RoundOpened], uow: NotifyUnitOfWork, policy: Policy) -> None:
    d = event.data
    await uow.notify.upsert_ref("round", d.round_id, title=d.name, unit_id=d.issuer_unit_id)
    if await uow.notify.units([d.issuer_unit_id]) == {}:
        raise Retry(f"award round {d.round_id} opened by unit {d.issuer_unit_id}, unknown here yet")
    children = await uow.notify.children(d.issuer_unit_id, uow.now().date())
    if not children:
        return
    stage(uow, _notice(event, Kind.AWARD_ROUND_OPENED, f"/awards/rounds/{d.round_id}",
                       [Target("unit", c) for c in children],
                       context={"name": d.name, "level": d.level, "opens_on": d.opens_on, "closes_on": d.closes_on,
                                "categories": list(d.categories), "forms": list(d.forms)},
                       units={"issuer": d.issuer_unit_id}), policy)


def _nominee(kind: NomineeKind, nominee_id: str) -> tuple[dict[str, str], dict[str, str]]:
    """(units, people) context entries naming the nominee."""
    return ({}, {"nominee": nominee_id}) if kind == NomineeKind.INDIVIDUAL else ({"nominee": nominee_id}, {})


async def on_nomination_submitted(event: CloudEvent[awards_ev.NominationSubmitted], uow: NotifyUnitOfWork,
                                  policy: Policy) -> None:
    d = event.data
    await uow.notify.upsert_ref("nomination", d.nomination_id, title=None, unit_id=d.by_unit_id)
    round_ = (await uow.notify.refs([("round", d.round_id)])).get(("round", d.round_id))
    if round_ is None or not round_.unit_id:
        return  # a round this service never heard opened: nobody known to review it
    units, people = _nominee(d.nominee_kind, d.nominee_id)
    stage(uow, _notice(event, Kind.NOMINATION_SUBMITTED, f"/awards/nominations/{d.nomination_id}",
                       [Target("unit", round_.unit_id, OVERSIGHT)],
                       context={"form": d.form, "eligible": d.eligible, "reasons": list(d.reasons),
                                "nominee_kind": d.nominee_kind.value},
                       units={"by_unit": d.by_unit_id, **units}, people=people,
                       refs={"round": ("round", d.round_id)}), policy)


async def on_nomination_decided(event: CloudEvent[awards_ev.NominationDecided], uow: NotifyUnitOfWork,
                                policy: Policy) -> None:
    d = event.data
    by_unit = getattr(d, "by_unit_id", None)
    if not by_unit:
        nomination = (await uow.notify.refs([("nomination", d.nomination_id)])).get(("nomination", d.nomination_id))
        by_unit = nomination.unit_id if nomination is not None else None
    targets = [Target("person", d.nominee_id) if d.nominee_kind == NomineeKind.INDIVIDUAL
               else Target("unit", d.nominee_id)]
    if by_unit:
        targets.append(Target("unit", by_unit))
    units, people = _nominee(d.nominee_kind, d.nominee_id)
    stage(uow, _notice(event, Kind.NOMINATION_DECIDED, f"/awards/nominations/{d.nomination_id}", targets,
                       context={"result": d.result, "form": d.form, "decided_on": d.decided_on, "note": d.note,
                                "nominee_kind": d.nominee_kind.value},
                       units=units, people=people, refs={"round": ("round", d.round_id)}), policy)


async def on_award_granted(event: CloudEvent[awards_ev.AwardGranted], uow: NotifyUnitOfWork, policy: Policy) -> None:
    d = event.data
    targets = [Target("unit", d.unit_id)]
    if d.nominee_kind == NomineeKind.INDIVIDUAL:
        targets.insert(0, Target("person", d.nominee_id))
    units, people = _nominee(d.nominee_kind, d.nominee_id)
    if getattr(d, "nominee_name", None):  # named by awards: no need to look the nominee up
        units, people = {}, {}
    stage(uow, _notice(event, Kind.AWARD_GRANTED, f"/awards/{d.award_id}", targets,
                       context={**({"nominee": {"id": d.nominee_id, "name": d.nominee_name}}
                                   if getattr(d, "nominee_name", None) else {}),
                                "form": d.form, "decision_number": d.decision_number,
                                "decision_date": d.decision_date, "signer": d.signer,
                                "nominee_kind": d.nominee_kind.value},
                       units={"unit": d.unit_id, **units}, people=people, refs={"round": ("round", d.round_id)}),
          policy)


def _nominee_named(kind: NomineeKind, nominee_id: str, name: str | None) -> tuple[dict[str, Any], dict[str, str],
                                                                            dict[str, str]]:
    """(context, units, people) naming the nominee: by the name awards gave, else looked up."""
    if name:
        return {"nominee": {"id": nominee_id, "name": name}}, {}, {}
    units, people = _nominee(kind, nominee_id)
    return {}, units, people


async def on_nomination_forwarded(event: CloudEvent[awards_ev.NominationForwarded], uow: NotifyUnitOfWork,
                                  policy: Policy) -> None:
    d = event.data
    ctx, units, people = _nominee_named(d.nominee_kind, d.nominee_id, d.nominee_name)
    stage(uow, _notice(event, Kind.NOMINATION_FORWARDED, f"/awards/nominations/{d.nomination_id}",
                       [Target("unit", d.to_unit_id)],
                       context={**ctx, "note": d.note, "to_council": d.to_council,
                                "nominee_kind": d.nominee_kind.value,
                                "escalated": bool(getattr(d, "escalated_from", None)),
                                "form": getattr(d, "form", None)},
                       units={"by_unit": d.by_unit_id, "from_unit": d.from_unit_id, "to_unit": d.to_unit_id, **units},
                       people=people, refs={"round": ("round", d.round_id)}), policy)


async def on_nomination_returned(event: CloudEvent[awards_ev.NominationReturned], uow: NotifyUnitOfWork,
                                 policy: Policy) -> None:
    d = event.data
    ctx, units, people = _nominee_named(d.nominee_kind, d.nominee_id, d.nominee_name)
    stage(uow, _notice(event, Kind.NOMINATION_RETURNED, f"/awards/nominations/{d.nomination_id}",
                       [Target("unit", d.by_unit_id)],
                       context={**ctx, "note": d.note, "nominee_kind": d.nominee_kind.value},
                       units={"by_unit": d.by_unit_id, "returned_by": d.returned_by_unit_id, **units},
                       people=people, refs={"round": ("round", d.round_id)}), policy)


async def on_nomination_withdrawn(event: CloudEvent[awards_ev.NominationWithdrawn], uow: NotifyUnitOfWork,
                                  policy: Policy) -> None:
    d = event.data
    if not d.waited_at_unit_id or d.waited_at_unit_id == d.by_unit_id:
        return  # it waited nowhere else: the unit that withdrew it knows
    ctx, units, people = _nominee_named(d.nominee_kind, d.nominee_id, d.nominee_name)
    stage(uow, _notice(event, Kind.NOMINATION_WITHDRAWN, f"/awards/nominations/{d.nomination_id}",
                       [Target("unit", d.waited_at_unit_id, OVERSIGHT)],
                       context={**ctx, "reason": d.reason, "nominee_kind": d.nominee_kind.value},
                       units={"by_unit": d.by_unit_id, **units}, people=people,
                       refs={"round": ("round", d.round_id)}), policy)


async def on_decision_issued(event: CloudEvent[awards_ev.DecisionIssued], uow: NotifyUnitOfWork,
                             policy: Policy) -> None:
    d = event.data
    targets = [Target("unit", u) for u in d.by_unit_ids if u != d.issuer_unit_id]
    if not targets:
        return
    stage(uow, _notice(event, Kind.DECISION_ISSUED, f"/awards/decisions/{d.decision_id}", targets,
                       context={"number": d.number, "decision_date": d.decision_date, "signer": d.signer,
                                "awards": d.awards},
                       units={"issuer": d.issuer_unit_id}, refs={"round": ("round", d.round_id)}), policy)


MAX_LISTED_QUOTAS = 20


async def on_quotas_changed(event: CloudEvent[awards_ev.QuotasChanged], uow: NotifyUnitOfWork,
                            policy: Policy) -> None:
    d = event.data
    if not d.changed:
        return
    names = await uow.notify.units([q.unit_id for q in d.changed])
    missing = [q.unit_id for q in d.changed if q.unit_id not in names]
    if missing:
        raise Retry(f"quotas of round {d.round_id} for units unknown here yet: {missing[:5]}")
    listed = [{"name": names[q.unit_id].name, "quota": q.quota} for q in d.changed[:MAX_LISTED_QUOTAS]]
    stage(uow, _notice(event, Kind.QUOTAS_CHANGED, f"/awards/rounds/{d.round_id}",
                       [Target("unit", q.unit_id) for q in d.changed],
                       context={"quotas": listed, "more": max(0, len(d.changed) - MAX_LISTED_QUOTAS)},
                       units={"issuer": d.issuer_unit_id}, refs={"round": ("round", d.round_id)}), policy)


HANDLERS: dict[type, EventHandler] = {  # the event's data model → its handler
    plans_ev.PlanIssued: on_plan_issued,
    plans_ev.TasksAssigned: on_tasks_assigned,
    plans_ev.DeadlineApproaching: on_deadline_approaching,
    plans_ev.DeadlineMissed: on_deadline_missed,
    plans_ev.ImplementationPlanRegistered: on_implementation_plan_registered,
    reports_ev.RequirementOpened: on_requirement_opened,
    reports_ev.ReportSubmitted: on_report_submitted,
    reports_ev.ReportReturned: on_report_returned,
    reports_ev.ReportAccepted: on_report_accepted,
    reports_ev.ReportReopened: on_report_reopened,
    reports_ev.ReportDeadlineApproaching: on_report_deadline_approaching,
    reports_ev.ReportOverdue: on_report_overdue,
    awards_ev.RoundOpened: on_round_opened,
    awards_ev.NominationSubmitted: on_nomination_submitted,
    awards_ev.NominationDecided: on_nomination_decided,
    awards_ev.AwardGranted: on_award_granted,
    awards_ev.NominationForwarded: on_nomination_forwarded,
    awards_ev.NominationReturned: on_nomination_returned,
    awards_ev.NominationWithdrawn: on_nomination_withdrawn,
    awards_ev.DecisionIssued: on_decision_issued,
    awards_ev.QuotasChanged: on_quotas_changed,
}


# --- requests ----------------------------------------------------------------------------------
async def _me(uow: NotifyUnitOfWork, who: Principal) -> str:
    """The person whose inbox and preferences these are: the caller, and nobody else (OWN)."""
    await uow.directory.authorize(who, Action.OWN, None, uow.now().date(), owner=who.id,
                                           field="Authorization")
    return who.id


async def list_inbox(q: api.ListInbox, who: Principal, uow: NotifyUnitOfWork) -> api.InboxPage:
    async with uow:
        person_id = await _me(uow, who)
        rows = await uow.notify.inbox(person_id, q.unread_only, q.page.limit + 1, q.page.cursor)
        more = len(rows) > q.page.limit
        rows = rows[: q.page.limit]
        return api.InboxPage(
            items=[api.InboxItem(notification_id=n.notification_id, kind=n.kind, title=n.title, body=n.body,
                                 link=n.link, created_at=n.created_at, read=n.read_at is not None) for n in rows],
            unread=await uow.notify.unread(person_id),
            next_cursor=rows[-1].notification_id if more and rows else None)


async def unread_count(q: api.UnreadCount, who: Principal, uow: NotifyUnitOfWork) -> api.UnreadCountReply:
    async with uow:
        person_id = await _me(uow, who)
        return api.UnreadCountReply(person_id=person_id, unread=await uow.notify.unread(person_id))


async def mark_read(cmd: api.MarkRead, who: Principal, uow: NotifyUnitOfWork) -> api.MarkReadReply:
    if not cmd.all and not cmd.notification_ids:
        raise Invalid("Cần ghi các thông báo cần đánh dấu đã đọc (notification_ids), hoặc chọn tất cả (all: true).",
                      "notification_ids")
    async with uow:
        person_id = await _me(uow, who)
        ids = None if cmd.all else list(dict.fromkeys(cmd.notification_ids))
        if ids is not None:
            owned = await uow.notify.owned(person_id, ids)
            unknown = [i for i, n in enumerate(ids) if n not in owned]
            if unknown:
                raise NotFound(f"{len(unknown)} thông báo không có trong hộp thư của {person_id}.", "notification_ids",
                               [{"field": f"notification_ids.{cmd.notification_ids.index(ids[i])}",
                                 "message": f"Không có thông báo {ids[i]} trong hộp thư của {person_id}."}
                                for i in unknown[:50]])
        marked = await uow.notify.mark_read(person_id, ids, uow.now())
        await uow.commit()
        return api.MarkReadReply(marked=marked, unread=await uow.notify.unread(person_id))


async def _known_person(uow: NotifyUnitOfWork, person_id: str) -> Any:
    person = await uow.directory.person(person_id)
    if person is None:
        raise not_found(f"cá nhân {person_id}", "person_id")
    return person


def _prefs_reply(p: Preferences, directory_email: str | None, policy: Policy, secret: str | None = None) -> api.Preferences:
    return api.Preferences(person_id=p.person_id, email=api.EmailMode(p.email_mode.value), email_address=p.email_address,
                           directory_email=directory_email,
                           email_overrides={api.NotificationKind(k): api.EmailMode(v) for k, v in p.email_overrides.items()},
                           muted_kinds=[api.NotificationKind(k) for k in p.muted_kinds], webhook_url=p.webhook_url,
                           webhook_secret_set=bool(p.webhook_secret_sealed), webhook_secret=secret,
                           webhook_secret_fingerprint=p.webhook_secret_fingerprint,
                           digest_hour=policy.digest_hour, updated_at=p.updated_at)


async def get_preferences(q: api.GetPreferences, who: Principal, uow: NotifyUnitOfWork,
                          policy: Policy) -> api.Preferences:
    async with uow:
        person_id = await _me(uow, who)
        person = await _known_person(uow, person_id)
        prefs = (await uow.notify.preferences([person_id])).get(person_id) or Preferences(person_id=person_id)
        return _prefs_reply(prefs, person.email, policy)


async def set_preferences(cmd: api.SetPreferences, who: Principal, uow: NotifyUnitOfWork, policy: Policy,
                          webhooks: Webhooks) -> api.Preferences:
    given = cmd.model_fields_set
    if cmd.webhook_url is not None:  # who asks first; then the target, resolved outside any transaction
        async with uow:
            await _me(uow, who)
        await webhooks.vet(cmd.webhook_url)
    async with uow:
        person_id = await _me(uow, who)
        person = await _known_person(uow, person_id)
        prefs = (await uow.notify.preferences([person_id])).get(person_id) or Preferences(person_id=person_id)
        before = replace(prefs, email_overrides=dict(prefs.email_overrides), muted_kinds=list(prefs.muted_kinds))
        if "email" in given:
            if cmd.email is None:
                raise Invalid("Cần chọn cách nhận thư điện tử, một trong: auto (tự động), immediate (gửi ngay), "
                              "digest (gộp theo ngày), off (không nhận).", "email")
            prefs.email_mode = EmailMode(cmd.email.value)
        if "email_address" in given:
            prefs.email_address = cmd.email_address
        if "email_overrides" in given:
            prefs.email_overrides = {k.value: v.value for k, v in (cmd.email_overrides or {}).items()}
        if "muted_kinds" in given:
            prefs.muted_kinds = sorted({k.value for k in cmd.muted_kinds or []})
        secret = None
        if "webhook_url" in given:
            if cmd.webhook_url is None:
                prefs.webhook_url = prefs.webhook_secret_sealed = prefs.webhook_secret_fingerprint = None
            else:
                if cmd.webhook_url != prefs.webhook_url or not prefs.webhook_secret_sealed:
                    secret = webhooks.new_secret_for(prefs)
                prefs.webhook_url = cmd.webhook_url
        if cmd.rotate_webhook_secret:
            if not prefs.webhook_url:
                raise Invalid("Chưa có webhook nên không có khóa bí mật để đổi; hãy đặt địa chỉ webhook (webhook_url) "
                              "trước.", "rotate_webhook_secret")
            secret = webhooks.new_secret_for(prefs)
        changed = _changed_settings(before, prefs, secret is not None)
        prefs.updated_at = uow.now()
        await uow.notify.save_preferences(prefs)
        if changed:
            await uow.emit(notify_ev.PreferencesChanged(
                person_id=person_id, changed=changed, email=str(prefs.email_mode.value),
                muted_kinds=list(prefs.muted_kinds or []), webhook=bool(prefs.webhook_url)), subject=person_id)
        await uow.commit()
        return _prefs_reply(prefs, person.email, policy, secret)


def _changed_settings(before: Preferences, after: Preferences, new_secret: bool) -> list[str]:
    """The names of the settings a set_preferences call changed (what the event says, no values)."""
    pairs = {"email": (before.email_mode, after.email_mode),
             "email_address": (before.email_address, after.email_address),
             "email_overrides": (before.email_overrides or {}, after.email_overrides or {}),
             "muted_kinds": (sorted(before.muted_kinds or []), sorted(after.muted_kinds or [])),
             "webhook_url": (before.webhook_url, after.webhook_url)}
    return [k for k, (a, b) in pairs.items() if a != b] + (["webhook_secret"] if new_secret else [])


async def delivery_log(q: api.DeliveryLog, who: Principal, uow: NotifyUnitOfWork) -> api.DeliveryLogPage:
    async with uow:
        person_id = q.person_id or who.id
        if person_id != who.id or who.kind != "person":
            # besides the person, the administrators of their unit (did the e-mail go out?)
            person = await _known_person(uow, person_id)
            await uow.directory.authorize(who, Action.ADMINISTER, person.unit_id, uow.now().date(),
                                                   field="person_id")
        else:
            await _me(uow, who)
        before = None
        if q.page.cursor:
            try:
                at_us, did = q.page.cursor.split("|", 1)
                before = (datetime.fromtimestamp(int(at_us) / 1_000_000, UTC), did)
            except ValueError:
                raise Invalid("Con trỏ trang không hợp lệ: hãy dùng next_cursor của trang trước.", "page.cursor") from None
        rows = await uow.notify.delivery_log(person_id, q.channel.value if q.channel else None,
                                             q.status.value if q.status else None, q.page.limit + 1, before)
        more = len(rows) > q.page.limit
        rows = rows[: q.page.limit]
        # When a retry is due is kept in real time (the mail server's, see delivery.wall_now); the
        # person reads it on the one clock, as the rest of the log (created_at, sent_at).
        shift = uow.now() - wall_now()
        items = [api.DeliveryItem(delivery_id=r.delivery_id, notification_id=r.notification_id, event_id=r.event_id,
                                  channel=r.channel, kind=r.kind, address=r.address, status=r.status,
                                  attempts=r.attempts, last_error=r.last_error, created_at=r.created_at,
                                  next_attempt_at=r.next_attempt_at + shift if r.next_attempt_at else None,
                                  sent_at=r.sent_at, digest_id=r.digest_id)
                 for r in rows]
        cursor = None
        if more and rows:
            last = rows[-1]
            cursor = f"{int(last.created_at.timestamp() * 1_000_000)}|{last.delivery_id}"
        return api.DeliveryLogPage(items=items, next_cursor=cursor)

