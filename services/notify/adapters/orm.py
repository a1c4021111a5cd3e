"""The notify service's own tables (the directory projection and the reminders are runtime's:
runtime.directory.dir_*, runtime.scheduler.reminders)."""

from __future__ import annotations

import sqlalchemy as sa

from runtime.db import AwareDateTime

metadata = sa.MetaData()

# One row per (event, person): what the person was told, shown in their in-app inbox. `channel` is
# always "inbox" (kept from the first schema, whose unique constraint still holds).
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
    sa.UniqueConstraint("event_id", "recipient_id", "channel", name="uq_notification_once"),
    sa.Index("ix_notifications_inbox", "recipient_id", "notification_id"),
)

# One row per (event, person, external channel): the durable queue of e-mails and webhook calls,
# and their log. Digest e-mails are rows too (event_id "digest:<day>", no notification_id).
deliveries = sa.Table(
    "deliveries", metadata,
    sa.Column("delivery_id", sa.String(128), primary_key=True),
    sa.Column("notification_id", sa.String(100), nullable=True),
    sa.Column("event_id", sa.String(128), nullable=False),
    sa.Column("recipient_id", sa.String(100), nullable=False),
    sa.Column("channel", sa.String(16), nullable=False),
    sa.Column("kind", sa.String(64), nullable=False),
    sa.Column("address", sa.String(1000), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("next_attempt_at", AwareDateTime, nullable=True),
    sa.Column("leased_until", AwareDateTime, nullable=True),
    sa.Column("last_error", sa.Text, nullable=True),
    sa.Column("created_at", AwareDateTime, nullable=False),
    sa.Column("sent_at", AwareDateTime, nullable=True),
    sa.Column("digest_id", sa.String(128), nullable=True),
    sa.UniqueConstraint("event_id", "recipient_id", "channel", name="uq_delivery_once"),
    sa.Index("ix_deliveries_due", "next_attempt_at", sqlite_where=sa.text("status = 'pending'"),
             postgresql_where=sa.text("status = 'pending'")),
    sa.Index("ix_deliveries_queued", "recipient_id", sqlite_where=sa.text("status = 'queued'"),
             postgresql_where=sa.text("status = 'queued'")),
    sa.Index("ix_deliveries_recipient", "recipient_id", "created_at"),
    sa.Index("ix_deliveries_digest", "digest_id"),
)

preferences = sa.Table(
    "preferences", metadata,
    sa.Column("person_id", sa.String(100), primary_key=True),
    sa.Column("email_mode", sa.String(16), nullable=False),
    sa.Column("email_address", sa.String(254), nullable=True),
    sa.Column("email_overrides", sa.JSON, nullable=False),
    sa.Column("muted_kinds", sa.JSON, nullable=False),
    sa.Column("webhook_url", sa.String(1000), nullable=True),
    # The webhook's signing secret, sealed with the service's key (adapters/secret_box.py; migration
    # 0003 sealed what was stored in plain text before), and its fingerprint, shown in reads.
    sa.Column("webhook_secret_enc", sa.Text, nullable=True),
    sa.Column("webhook_secret_fp", sa.String(16), nullable=True),
    sa.Column("updated_at", AwareDateTime, nullable=False),
)

# Events whose recipients the directory could not name yet (unit not projected, nobody with a
# contact role, person unknown): kept per target until the directory can, or until they expire.
held_events = sa.Table(
    "held_events", metadata,
    sa.Column("event_id", sa.String(128), primary_key=True),
    sa.Column("hold_key", sa.String(140), primary_key=True),
    sa.Column("target_kind", sa.String(16), nullable=False),
    sa.Column("target_id", sa.String(100), nullable=False),
    sa.Column("event_type", sa.String(256), nullable=False),
    sa.Column("payload", sa.Text, nullable=False),
    sa.Column("held_at", AwareDateTime, nullable=False),
    sa.Index("ix_held_target", "target_id"),
)

# What templates name: plans (number, title), reporting requirements (name), award rounds (name),
# nominations (the nominating unit) — projected from the events that create them.
refs = sa.Table(
    "refs", metadata,
    sa.Column("ref_type", sa.String(16), primary_key=True),
    sa.Column("ref_id", sa.String(100), primary_key=True),
    sa.Column("number", sa.String(64), nullable=True),
    sa.Column("title", sa.String(500), nullable=True),
    sa.Column("unit_id", sa.String(100), nullable=True),
)
