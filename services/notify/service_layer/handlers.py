"""Use cases of the notify service. Event handlers do not commit (the consumer does, with the inbox)."""

from __future__ import annotations

import hashlib

from contracts.api import notify as api
from contracts.envelope import CloudEvent
from contracts.events import plans as plans_ev
from contracts.events import reports as reports_ev
from services.notify.domain import templates
from services.notify.domain.model import Contact, KnownUnit, Notification
from services.notify.service_layer.unit_of_work import NotifyUnitOfWork


def notification_id(created_at_us: int, event_id: str, recipient: str, channel: str) -> str:
    """Sortable by time, deterministic per (event, recipient, channel)."""
    digest = hashlib.sha1(f"{event_id}|{recipient}|{channel}".encode()).hexdigest()[:16]
    return f"n-{created_at_us:016d}-{digest}"


async def on_unit_registered(event: CloudEvent[plans_ev.UnitRegistered], uow: NotifyUnitOfWork) -> None:
    d = event.data
    await uow.notify.upsert_unit(KnownUnit(unit_id=d.unit_id, name=d.name, parent_id=d.parent_id))


async def on_person_registered(event: CloudEvent[plans_ev.PersonRegistered], uow: NotifyUnitOfWork) -> None:
    d = event.data
    await uow.notify.upsert_contact(Contact(person_id=d.person_id, unit_id=d.unit_id, full_name=d.full_name,
                                            roles=[r.value for r in d.roles], email=d.email))


async def on_report_submitted(event: CloudEvent[reports_ev.ReportSubmitted], uow: NotifyUnitOfWork) -> None:
    d = event.data
    if not d.receiving_unit_id:
        return
    unit = await uow.notify.unit(d.unit_id)
    title, body = templates.report_submitted(unit.name if unit else d.unit_id, d.period,
                                             d.submitted_at.astimezone(uow.now().tzinfo), d.on_time, d.revision)
    now = uow.now()
    for contact in await uow.notify.contacts_of(d.receiving_unit_id):
        if not contact.receives_reports():
            continue
        uow.notify.add(Notification(
            notification_id=notification_id(int(now.timestamp() * 1e6), event.id, contact.person_id, "inbox"),
            event_id=event.id, recipient_id=contact.person_id, channel="inbox", kind="report_submitted",
            title=title, body=body, link=f"/reports/{d.report_id}", created_at=now))


async def list_inbox(q: api.ListInbox, uow: NotifyUnitOfWork) -> api.InboxPage:
    async with uow:
        items = await uow.notify.inbox(q.person_id, q.unread_only, q.page.limit + 1, q.page.cursor)
        more = len(items) > q.page.limit
        items = items[: q.page.limit]
        return api.InboxPage(
            items=[api.InboxItem(notification_id=n.notification_id, kind=n.kind, title=n.title, body=n.body,
                                 link=n.link, created_at=n.created_at, read=n.read_at is not None) for n in items],
            unread=await uow.notify.unread(q.person_id),
            next_cursor=items[-1].notification_id if more and items else None)
