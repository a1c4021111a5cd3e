from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from services.notify.adapters.orm import notifications
from services.notify.domain.model import Contact, KnownUnit, Notification


class NotifyRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def unit(self, unit_id: str) -> KnownUnit | None:
        return await self.session.get(KnownUnit, unit_id)

    async def upsert_unit(self, unit: KnownUnit) -> None:
        await self.session.merge(unit)

    async def upsert_contact(self, contact: Contact) -> None:
        await self.session.merge(contact)

    async def contacts_of(self, unit_id: str) -> list[Contact]:
        q = sa.select(Contact).where(Contact.unit_id == unit_id).order_by(Contact.person_id)  # type: ignore[arg-type]
        return list((await self.session.execute(q)).scalars())

    def add(self, n: Notification) -> None:
        self.session.add(n)

    async def inbox(self, person_id: str, unread_only: bool, limit: int, after: str | None) -> list[Notification]:
        q = sa.select(Notification).where(Notification.recipient_id == person_id, Notification.channel == "inbox")  # type: ignore[arg-type]
        if unread_only:
            q = q.where(Notification.read_at.is_(None))  # type: ignore[union-attr]
        if after:
            q = q.where(Notification.notification_id < after)  # type: ignore[arg-type,operator]
        q = q.order_by(Notification.notification_id.desc()).limit(limit)  # type: ignore[union-attr]
        return list((await self.session.execute(q)).scalars())

    async def unread(self, person_id: str) -> int:
        q = sa.select(sa.func.count()).select_from(notifications).where(
            notifications.c.recipient_id == person_id, notifications.c.channel == "inbox", notifications.c.read_at.is_(None))
        return int((await self.session.execute(q)).scalar_one())
