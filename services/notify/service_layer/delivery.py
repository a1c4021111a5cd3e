"""The delivery step, apart from the consumer: claim due deliveries, and record what happened to them.

A delivery is claimed with a lease (`leased_until`), sent outside any transaction, and marked sent
only after the server accepted it — in the same transaction as its "notification sent" event. A
process that dies in between leaves the delivery pending: after the lease it is sent again, with the
same Message-ID / Idempotency-Key, so the receiving side can drop the repeat.

Failures:
* the channel is down (SMTP server unreachable, 421): the delivery waits for the channel, without
  using up an attempt — an outage does not park anybody's mail;
* this message failed (4xx, webhook 5xx, timeouts): the attempt counts, the next one comes after an
  exponential backoff; after `max_attempts` it is parked as failed with the last reason;
* this address refuses it for good (SMTP 5xx, webhook 4xx): parked at once, with the reason.
"Notification failed" goes out on the first failed attempt (permanent=false) and when parked
(permanent=true); "notification sent" when the server accepted it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from typing import Any

from contracts.events.notify import NotificationFailed, NotificationSent
from runtime.clock import TZ
from runtime.logging import get_logger
from runtime.scheduler import schedule
from services.notify.adapters.orm import deliveries
from services.notify.domain.model import (
    DIGEST_KIND,
    Channel,
    DigestItem,
    Outcome,
    Outgoing,
    Result,
    Status,
    backoff_s,
    digest_event_id,
    digest_id,
)
from services.notify.service_layer.metrics import DELIVERIES, DIGESTS
from services.notify.service_layer.policy import Policy
from services.notify.service_layer.unit_of_work import NotifyUnitOfWork

log = get_logger("notify.delivery")

DIGEST_REMINDER = "digest"


def wall_now() -> datetime:
    """Real time, for leases, backoff and pauses (`next_attempt_at`, `leased_until`): a delivery is
    due when the mail server can take it, whatever the shared clock of a demo says — a clock moved
    forward and back again must not leave mail waiting for months. Everything a person reads
    (created_at, sent_at, the digest's day) follows the shared clock."""
    return datetime.now(TZ)


async def claim(uow: NotifyUnitOfWork, policy: Policy, channels: Sequence[str], limit: int) -> list[Outgoing]:
    """Lease up to `limit` due deliveries of the given channels, with what they carry; commits."""
    repo = uow.notify
    now = wall_now()
    rows = await repo.claim(now, now + timedelta(seconds=policy.lease_s), channels, limit)
    if not rows:
        await uow.rollback()
        return []
    notes = await repo.notifications_by_id(r.notification_id for r in rows if r.notification_id)
    people = await repo.people(r.recipient_id for r in rows)
    prefs = await repo.preferences(r.recipient_id for r in rows if r.channel == Channel.WEBHOOK.value)
    jobs: list[Outgoing] = []
    for r in rows:
        p = people.get(r.recipient_id)
        job = Outgoing(delivery_id=r.delivery_id, notification_id=r.notification_id, event_id=r.event_id,
                       recipient_id=r.recipient_id, recipient_name=p.full_name if p else "", channel=Channel(r.channel),
                       kind=r.kind, address=r.address, attempts=r.attempts)
        if n := notes.get(r.notification_id or ""):
            job.title, job.body, job.link, job.created_at = n.title, n.body, n.link, n.created_at
        if r.kind == DIGEST_KIND:
            items, total = await repo.digest_items(r.delivery_id, policy.digest_max_items)
            job.digest_items = [DigestItem(i.notification_id, i.kind, i.title, i.link, i.created_at) for i in items]
            job.digest_total = total
            job.digest_by_kind = sorted(await repo.digest_counts(r.delivery_id), key=lambda kv: (-kv[1], kv[0]))
            job.created_at = r.created_at
        if job.channel is Channel.WEBHOOK:
            pref = prefs.get(r.recipient_id)
            job.address = pref.webhook_url if pref and pref.webhook_url else ""
            job.secret = pref.webhook_secret_sealed if pref else None  # opened by the sender, not here
        jobs.append(job)
    await uow.commit()
    return jobs


async def record(uow: NotifyUnitOfWork, policy: Policy, results: Sequence[tuple[Outgoing, Result]],
                 pause_until: dict[str, datetime] | None = None) -> None:
    """Write down the outcome of sent deliveries, with their events; commits."""
    repo = uow.notify
    now = uow.now()  # the shared clock: what the rest of the system calls now
    wall = wall_now()  # retries and pauses are about the servers, which live in real time
    sent_events: list[tuple[NotificationSent, str | None]] = []
    failed_events: list[tuple[NotificationFailed, str | None]] = []
    by_id = {job.delivery_id: job for job, _ in results}

    sent = [job.delivery_id for job, r in results if r.outcome is Outcome.SENT]
    for did in await repo.mark_sent(sent, now):
        job = by_id[did]
        sent_events.append((NotificationSent(notification_id=job.reported_id, event_id=job.event_id,
                                             recipient_id=job.recipient_id, channel=job.channel.value, kind=job.kind,
                                             sent_at=now), job.reported_id))

    down: dict[str, list[tuple[Outgoing, Result]]] = {}
    for job, r in results:
        DELIVERIES.labels(job.channel.value, r.outcome.value).inc()
        if r.outcome is Outcome.CHANNEL_DOWN:
            down.setdefault(job.channel.value, []).append((job, r))
        elif r.outcome in (Outcome.TRANSIENT, Outcome.PERMANENT):
            attempts = job.attempts + 1
            parked = r.outcome is Outcome.PERMANENT or attempts >= policy.max_attempts
            reason = r.detail if r.outcome is Outcome.PERMANENT or not parked else \
                f"gave up after {attempts} attempts; last: {r.detail}"
            if parked:
                changed = await repo.update_delivery(job.delivery_id, status=Status.FAILED.value, attempts=attempts,
                                                     last_error=reason[:2000], leased_until=None, next_attempt_at=None)
            else:
                retry_at = wall + timedelta(seconds=backoff_s(attempts, base_s=policy.backoff_base_s,
                                                             cap_s=policy.backoff_cap_s))
                changed = await repo.update_delivery(job.delivery_id, attempts=attempts, last_error=reason[:2000],
                                                     leased_until=None, next_attempt_at=retry_at)
            if changed and (parked or attempts == 1):
                failed_events.append((NotificationFailed(
                    notification_id=job.reported_id, event_id=job.event_id, recipient_id=job.recipient_id,
                    channel=job.channel.value, kind=job.kind, reason=reason[:1000], attempts=attempts,
                    permanent=parked, failed_at=now), job.reported_id))
            if parked:
                log.warning("delivery parked", delivery_id=job.delivery_id, channel=job.channel.value,
                            reason=reason[:300])
    for channel, items in down.items():
        until = (pause_until or {}).get(channel) or wall + timedelta(seconds=policy.channel_pause_s)
        await repo.postpone([j.delivery_id for j, _ in items], until, items[-1][1].detail[:2000])
    await uow.emit_many(sent_events)
    await uow.emit_many(failed_events)
    await uow.commit()


# --- the daily digest ---------------------------------------------------------------------------
def next_digest_day(now: datetime, hour: int) -> date:
    local = now.astimezone(TZ)
    return local.date() if local.hour < hour else local.date() + timedelta(days=1)


def digest_due(day: date, hour: int) -> datetime:
    return datetime.combine(day, time(hour), TZ)


async def ensure_digest_scheduled(uow: NotifyUnitOfWork, policy: Policy) -> None:
    day = next_digest_day(uow.now(), policy.digest_hour)
    await schedule(uow.session, f"digest:{day.isoformat()}", DIGEST_REMINDER, digest_due(day, policy.digest_hour),
                   {"day": day.isoformat()})
    await uow.commit()


async def build_digests(payload: dict[str, Any], uow: NotifyUnitOfWork, policy: Policy) -> int:
    """The reminder of one day fired (exactly once): gather every recipient's queued e-mail into one
    digest e-mail each, and schedule the next day's. Does not commit (the scheduler does)."""
    day = date.fromisoformat(payload["day"])
    now = uow.now()
    repo = uow.notify
    recipients = await repo.queued_recipients(now)
    rows = [dict(delivery_id=digest_id(r, day), notification_id=None, event_id=digest_event_id(day), recipient_id=r,
                 channel=Channel.EMAIL.value, kind=DIGEST_KIND, address=address, status=Status.PENDING.value,
                 attempts=0, next_attempt_at=wall_now(), leased_until=None, last_error=None, created_at=now,
                 sent_at=None,
                 digest_id=None) for r, address in recipients]
    await repo.insert_ignore(deliveries, rows)
    await repo.fold_into_digests([{"r": r, "dg": digest_id(r, day)} for r, _ in recipients], now)
    nxt = max(day + timedelta(days=1), next_digest_day(now, policy.digest_hour))
    await schedule(uow.session, f"digest:{nxt.isoformat()}", DIGEST_REMINDER, digest_due(nxt, policy.digest_hour),
                   {"day": nxt.isoformat()})
    if recipients:
        DIGESTS.inc(len(recipients))
        log.info("daily digests built", day=day.isoformat(), recipients=len(recipients))
    return len(recipients)
