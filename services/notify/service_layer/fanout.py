"""Notices → notifications (the inbox) and deliveries (e-mail, webhook), for a whole consumer batch
at once, inside the consumer's transaction.

Exactly once per (event, recipient, channel): every row's key is derived from the event id and the
recipient, the tables carry unique constraints on (event_id, recipient_id, channel), and rows are
inserted "on conflict do nothing". Handling an event again — a redelivery the inbox already knows,
a replay beyond it, a held event released later — therefore adds nothing that exists.

Events may name units or people the directory projection does not know yet (the directory comes
from plans' stream, the event perhaps from reports' or awards'), or a unit with nobody to tell yet.
Such targets are *held* (table held_events, with the whole event) rather than dropped or bounced:
`sweep_held` releases them as soon as the directory can resolve them. Nobody is left untold: a unit
the directory knows but that has nobody to tell (no chairperson, head, cadre nor executive member)
for `Policy.escalate_after_h` has its notice sent up — to the contacts of the nearest unit above
that has some, or at the top to its departments (the receiving department) — with a line saying
for whom it is (`escalate_held`, metric congdoan_notify_escalated_total). Only targets nobody can
place at all (a unit or a person the directory never heard of) are dropped after
`Policy.hold_days`, counted on congdoan_notify_expired_total, with a warning.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from contracts.catalogue import EVENTS_BY_TYPE
from contracts.envelope import CloudEvent, RawCloudEvent
from contracts.events.notify import CreatedNotification, NotificationsCreated
from runtime.clock import TZ
from runtime.logging import get_logger
from services.notify.adapters.orm import deliveries, notifications
from services.notify.adapters.repository import dumps
from services.notify.domain import render
from services.notify.domain.model import (
    Audience,
    Channel,
    Notice,
    Person,
    Status,
    Target,
    contacts,
    delivery_id,
    notification_hash,
    notification_id_prefix,
    routes,
)
from services.notify.service_layer.metrics import ESCALATED, EXPIRED, HELD, NOTIFICATIONS, RELEASED
from services.notify.service_layer.policy import Policy
from services.notify.service_layer.unit_of_work import NotifyUnitOfWork

log = get_logger("notify.fanout")

CREATED_CHUNK = 200  # notifications per notifications.created event

EventHandler = Callable[[CloudEvent[Any], NotifyUnitOfWork, Policy], Awaitable[None]]


def stage(uow: NotifyUnitOfWork, notice: Notice, policy: Policy) -> None:
    """Called by event handlers: the notice is resolved and recorded with the rest of the batch."""
    uow.staged.append(notice)
    uow.before_commit("fanout", lambda u: flush(u, policy))


@dataclass
class Flushed:
    notifications: int = 0
    held: set[tuple[str, str]] = field(default_factory=set)  # (event id, hold key)


async def flush(uow: NotifyUnitOfWork, policy: Policy,
                targets_of: dict[str, list[Target]] | None = None,
                forwarded_for: dict[str, list[str]] | None = None) -> Flushed:
    """Record the staged notices. `targets_of` (event id → targets) replaces the notices' own
    targets: a release reaches only those that were held. `forwarded_for` (event id → names of
    units with nobody to tell) adds the line saying for whom an escalated notice is."""
    notices, uow.staged = uow.staged, []
    if not notices:
        return Flushed()
    repo = uow.notify
    now = uow.now()
    wall = datetime.now(TZ)  # when the delivery is due: real time (see delivery.wall_now)
    today = now.date()
    for n in notices:
        if targets_of is not None:
            n.targets = targets_of.get(n.event_id, [])

    all_targets = [t for n in notices for t in n.targets]
    parent_of = await repo.parents({t.id for t in all_targets if t.kind == "parent"}, today)
    unit_ids = ({t.id for t in all_targets if t.kind in ("unit", "parent")}
                | {p for p in parent_of.values() if p} | {u for n in notices for u in n.units.values()})
    units = await repo.units(unit_ids)
    missing = {u.merged_into for u in units.values() if u.merged_into and u.merged_into not in units}
    while missing:  # merged units: their successors speak for them
        more = await repo.units(missing)
        units.update(more)
        missing = {u.merged_into for u in more.values() if u.merged_into and u.merged_into not in units}

    def successor(uid: str) -> str:
        seen = {uid}
        while (u := units.get(uid)) is not None and u.merged_into and u.merged_into not in seen:
            uid = u.merged_into
            seen.add(uid)
        return uid

    def target_unit(t: Target) -> str | None:
        if t.kind == "unit":
            return successor(t.id) if t.id in units else None
        parent = parent_of.get(t.id)
        return successor(parent) if parent and parent in units else None

    prefs: dict[str, Any] = {}
    people_by_unit = await repo.people_of_units({u for t in all_targets if (u := target_unit(t))}, prefs)
    people = await repo.people({t.id for t in all_targets if t.kind == "person"}
                               | {p for n in notices for p in n.people.values()}, prefs)
    refs = await repo.refs({r for n in notices for r in n.refs.values()})

    held: list[dict[str, Any]] = []
    plans: list[tuple[Notice, dict[str, tuple[Person, Audience]]]] = []
    for n in notices:
        reach: dict[str, tuple[Person, Audience]] = {}
        for t in n.targets:
            found: list[Person] | None
            if t.kind == "person":
                p = people.get(t.id)
                found = [p] if p is not None and p.active else None
            elif t.kind == "parent" and t.id in units and parent_of.get(t.id) is None:
                found = []  # a top-level unit: nobody above it to tell
            else:
                uid = target_unit(t)
                found = (contacts(people_by_unit.get(uid, []), t) or None) if uid else None
                if found is None and t.kind == "parent" and uid:
                    # the parent is known but has nobody to tell yet: wait for the parent's people
                    t = Target("unit", uid, t.audience, t.roles, t.fallback)
            if found is None:
                held.append(_held_row(n, t, now))
                continue
            for p in found:
                prev = reach.get(p.person_id)
                if prev is None or (prev[1] is Audience.OVERSIGHT and t.audience is Audience.OWN):
                    reach[p.person_id] = (p, t.audience)
        if reach:
            plans.append((n, reach))

    n_rows: dict[str, dict[str, Any]] = {}
    d_rows: dict[str, dict[str, Any]] = {}
    for n, reach in plans:
        title, body = render.render_notice(n.kind.value, _context(n, units, people, refs))
        if forwarded_for and forwarded_for.get(n.event_id):
            body = f"{body}\n{render.forwarded_note(forwarded_for[n.event_id])}"
        prefix = notification_id_prefix(n.occurred_at)
        for pid, (person, audience) in reach.items():
            nid = prefix + notification_hash(n.event_id, pid)
            n_rows[nid] = dict(notification_id=nid, event_id=n.event_id, recipient_id=pid, channel=Channel.INBOX.value,
                               kind=n.kind.value, title=title, body=body, link=n.link, created_at=now, read_at=None)
            for route in routes(n.kind.value, audience, prefs.get(pid), person.email,
                                email_enabled=policy.email_enabled):
                did = delivery_id(nid, route.channel)
                d_rows[did] = dict(delivery_id=did, notification_id=nid, event_id=n.event_id, recipient_id=pid,
                                   channel=route.channel.value, kind=n.kind.value, address=route.address,
                                   status=(Status.QUEUED if route.digest else Status.PENDING).value, attempts=0,
                                   next_attempt_at=None if route.digest else wall, leased_until=None,
                                   last_error=None, created_at=now, sent_at=None, digest_id=None)
    await repo.insert_ignore_many(notifications, list(n_rows.values()))
    await repo.insert_ignore_many(deliveries, list(d_rows.values()))
    if n_rows:
        # Who has something new in their inbox, for live front-ends (a re-handled event may name
        # notifications already there: a front-end only re-reads the inbox).
        created = [CreatedNotification(notification_id=r["notification_id"], recipient_id=r["recipient_id"],
                                       kind=r["kind"]) for r in n_rows.values()]
        await uow.emit_many([(NotificationsCreated(items=created[i:i + CREATED_CHUNK]), None)
                             for i in range(0, len(created), CREATED_CHUNK)])
    if held:
        await repo.hold(held)
        HELD.inc(len(held))
    for n, reach in plans:
        NOTIFICATIONS.labels(n.kind.value).inc(len(reach))
    return Flushed(len(n_rows), {(h["event_id"], h["hold_key"]) for h in held})


def _held_row(n: Notice, t: Target, now: Any) -> dict[str, Any]:
    event = n.source.model_dump(mode="json") if n.source is not None else {}
    return dict(event_id=n.event_id, hold_key=t.hold_key, target_kind=t.kind, target_id=t.id,
                event_type=n.event_type, payload=dumps({"event": event, "target": t.to_json()}), held_at=now)


def _context(n: Notice, units: dict[str, Any], people: dict[str, Person], refs: dict[Any, Any]) -> dict[str, Any]:
    ctx = dict(n.context)
    for key, uid in n.units.items():
        u = units.get(uid)
        ctx[key] = {"id": uid, "name": u.name if u is not None else uid}
    for key, pid in n.people.items():
        p = people.get(pid)
        ctx[key] = {"id": pid, "name": p.full_name if p is not None else pid}
    for key, ref in n.refs.items():
        r = refs.get(ref)
        ctx[key] = {"id": ref[1], "number": (r.number if r is not None and r.number else ref[1]),
                    "title": (r.title or "") if r is not None else "", "name": (r.title or "") if r is not None else "",
                    "unit_id": r.unit_id if r is not None else None}
    return ctx


def parse_event(obj: dict[str, Any]) -> CloudEvent[Any]:
    raw = RawCloudEvent.model_validate(obj)
    return raw.model_copy(update={"data": EVENTS_BY_TYPE[raw.type].model.model_validate(raw.data)})


async def sweep_held(uow: NotifyUnitOfWork, policy: Policy, handlers: dict[str, EventHandler],
                     limit: int = 2000) -> tuple[int, int]:
    """One pass: release held events whose targets the directory can now resolve; drop those held
    longer than `policy.hold_days`. Returns (released targets, expired)."""
    now = uow.now()
    await escalate_held(uow, policy, handlers, limit)
    expired = await uow.notify.expire_held(now - timedelta(days=policy.hold_days))
    if expired:
        EXPIRED.inc(expired)
        log.warning("held notifications expired: nobody to tell was found in time", count=expired,
                    hold_days=policy.hold_days)
    rows = await uow.notify.releasable(limit)
    targets_of: dict[str, list[Target]] = defaultdict(list)
    events: dict[str, dict[str, Any]] = {}
    keys: dict[str, list[str]] = defaultdict(list)
    for r in rows:
        payload = json.loads(r.payload)
        events[r.event_id] = payload["event"]
        targets_of[r.event_id].append(Target.from_json(payload["target"]))
        keys[r.event_id].append(r.hold_key)
    tried: set[tuple[str, str]] = set()
    for event_id, obj in events.items():
        try:
            await handlers[obj["type"]](parse_event(obj), uow, policy)
        except Exception as exc:  # stays held; tried again next pass, until it expires
            log.warning("held event could not be handled yet", event_id=event_id, error=repr(exc))
            uow.staged = [n for n in uow.staged if n.event_id != event_id]
            continue
        tried |= {(event_id, k) for k in keys[event_id]}
    result = await flush(uow, policy, targets_of=targets_of)
    released = tried - result.held
    await uow.notify.unhold(released)
    await uow.commit()
    if released:
        RELEASED.inc(len(released))
        log.info("held notifications released", targets=len(released), notifications=result.notifications)
    return len(released), expired


async def _nearest_told(uow: NotifyUnitOfWork, unit_id: str, on: Any) -> list[str]:
    """Who speaks for a unit that has nobody to tell: the nearest unit above with contacts, or, at
    the top, its departments with contacts (the receiving department). Empty: nobody either."""
    repo = uow.notify
    seen, top, u = {unit_id}, unit_id, (await repo.parents([unit_id], on)).get(unit_id)
    while u is not None and u not in seen:
        if contacts((await repo.people_of_units([u])).get(u, []), Target("unit", u)):
            return [u]
        seen.add(u)
        top = u
        u = (await repo.parents([u], on)).get(u)
    below = [c for c in await repo.children(top, on) if c not in seen]
    kinds = await repo.units(below)
    people = await repo.people_of_units([c for c in below if getattr(kinds.get(c), "kind", None) == "department"])
    return [d for d, ps in sorted(people.items()) if contacts(ps, Target("unit", d))]


async def escalate_held(uow: NotifyUnitOfWork, policy: Policy, handlers: dict[str, EventHandler],
                        limit: int = 500) -> int:
    """Notices held for a known unit with nobody to tell for longer than `policy.escalate_after_h`
    go up a level (`_nearest_told`), with a line saying for whom they are; their hold ends. Returns
    the targets escalated. Runs inside the sweep's unit of work (the caller commits)."""
    now = uow.now()
    rows = await uow.notify.escalatable(now - timedelta(hours=policy.escalate_after_h), limit)
    if not rows:
        return 0
    targets_of: dict[str, list[Target]] = defaultdict(list)
    forwarded: dict[str, list[str]] = defaultdict(list)
    events: dict[str, dict[str, Any]] = {}
    keys: dict[str, list[str]] = defaultdict(list)
    for r in rows:
        payload = json.loads(r.payload)
        held = Target.from_json(payload["target"])
        up = await _nearest_told(uow, r.target_id, now.date())
        if not up:
            continue  # nobody above either: it waits (and is counted) like any held target
        events[r.event_id] = payload["event"]
        targets_of[r.event_id].extend(Target("unit", u, held.audience) for u in up)
        forwarded[r.event_id].append(r.target_id)
        keys[r.event_id].append(r.hold_key)
    done: set[tuple[str, str]] = set()
    for event_id, obj in events.items():
        try:
            await handlers[obj["type"]](parse_event(obj), uow, policy)
        except Exception as exc:  # stays held; tried again next pass
            log.warning("held event could not be escalated yet", event_id=event_id, error=repr(exc))
            uow.staged = [n for n in uow.staged if n.event_id != event_id]
            continue
        done |= {(event_id, k) for k in keys[event_id]}
    if not done:
        return 0
    names = await uow.notify.units({u for us in forwarded.values() for u in us})
    await flush(uow, policy, targets_of={e: t for e, t in targets_of.items() if any(d[0] == e for d in done)},
                forwarded_for={e: [names[u].name if u in names else u for u in us] for e, us in forwarded.items()})
    await uow.notify.unhold(done)
    ESCALATED.inc(len(done))
    log.info("notices for units with nobody to tell sent up a level", targets=len(done),
             units=sorted({u for us in forwarded.values() for u in us})[:20])
    return len(done)
