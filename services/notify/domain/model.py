"""Notifications: who is told what. Plain Python, no I/O."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

# Roles whose holders are a unit's contacts for incoming reports.
REPORT_CONTACT_ROLES = {"chairperson", "cadre", "head_of_unit"}


@dataclass
class KnownUnit:
    unit_id: str
    name: str
    parent_id: str | None


@dataclass
class Contact:
    person_id: str
    unit_id: str
    full_name: str
    roles: list[str] = field(default_factory=list)
    email: str | None = None

    def receives_reports(self) -> bool:
        return bool(REPORT_CONTACT_ROLES & set(self.roles))


@dataclass
class Notification:
    notification_id: str
    event_id: str
    recipient_id: str
    channel: str
    kind: str
    title: str
    body: str
    link: str | None
    created_at: datetime
    read_at: datetime | None = None
