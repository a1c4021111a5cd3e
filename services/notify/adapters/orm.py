from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import registry

from runtime.db import AwareDateTime
from services.notify.domain.model import Contact, KnownUnit, Notification

metadata = sa.MetaData()
mapper_registry = registry(metadata=metadata)

known_units = sa.Table(
    "known_units", metadata,
    sa.Column("unit_id", sa.String(100), primary_key=True),
    sa.Column("name", sa.String(500), nullable=False),
    sa.Column("parent_id", sa.String(100), nullable=True),
)

contacts = sa.Table(
    "contacts", metadata,
    sa.Column("person_id", sa.String(100), primary_key=True),
    sa.Column("unit_id", sa.String(100), nullable=False, index=True),
    sa.Column("full_name", sa.String(500), nullable=False),
    sa.Column("roles", sa.JSON, nullable=False),
    sa.Column("email", sa.String(254), nullable=True),
)

notifications = sa.Table(
    "notifications", metadata,
    sa.Column("notification_id", sa.String(100), primary_key=True),
    sa.Column("event_id", sa.String(128), nullable=False),
    sa.Column("recipient_id", sa.String(100), nullable=False),
    sa.Column("channel", sa.String(16), nullable=False),
    sa.Column("kind", sa.String(64), nullable=False),
    sa.Column("title", sa.String(500), nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("link", sa.String(500), nullable=True),
    sa.Column("created_at", AwareDateTime, nullable=False),
    sa.Column("read_at", AwareDateTime, nullable=True),
    # Exactly once per (event, recipient, channel), enforced by the database too.
    sa.UniqueConstraint("event_id", "recipient_id", "channel", name="uq_notification_once"),
    sa.Index("ix_notifications_recipient", "recipient_id", "created_at"),
)

_mapped = False


def start_mappers() -> None:
    global _mapped
    if not _mapped:
        mapper_registry.map_imperatively(KnownUnit, known_units)
        mapper_registry.map_imperatively(Contact, contacts)
        mapper_registry.map_imperatively(Notification, notifications)
        _mapped = True
