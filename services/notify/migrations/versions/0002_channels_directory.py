"""notify: the shared directory projection (replacing known_units/contacts, rows carried over),
reminders (daily digest), deliveries (e-mail, webhook), preferences, held events, references

Revision ID: 0002
Revises: 0001
"""
from datetime import date

import sqlalchemy as sa
from alembic import op

from runtime.db import AwareDateTime
from runtime.directory import create_directory_tables, dir_parents, dir_people, dir_units
from runtime.scheduler import create_scheduler_tables

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# Units projected by the first schema carried no kind and no date: they keep their name and
# parent, with kind "unknown" and a registration date before any plan, until plans says more.
LEGACY_SINCE = date(2000, 1, 1)


def upgrade() -> None:
    create_directory_tables(op)
    create_scheduler_tables(op)
    bind = op.get_bind()
    units = bind.execute(sa.text("SELECT unit_id, name, parent_id FROM known_units")).all()
    if units:
        op.bulk_insert(dir_units, [{"unit_id": u.unit_id, "code": u.unit_id[:64], "name": u.name, "kind": "unknown",
                                    "registered_on": LEGACY_SINCE, "closed_on": None, "merged_into": None}
                                   for u in units])
        op.bulk_insert(dir_parents, [{"unit_id": u.unit_id, "valid_from": LEGACY_SINCE, "valid_to": None,
                                      "parent_id": u.parent_id} for u in units])
    people = bind.execute(sa.select(sa.column("person_id"), sa.column("unit_id"), sa.column("full_name"),
                                    sa.column("roles", sa.JSON), sa.column("email"))
                          .select_from(sa.table("contacts"))).all()
    if people:
        op.bulk_insert(dir_people, [{"person_id": p.person_id, "unit_id": p.unit_id, "full_name": p.full_name,
                                     "roles": list(p.roles or []), "email": p.email, "phone": None, "active": True}
                                    for p in people])
    op.drop_table("contacts")
    op.drop_table("known_units")

    op.drop_index("ix_notifications_recipient", table_name="notifications")
    op.create_index("ix_notifications_inbox", "notifications", ["recipient_id", "notification_id"])

    op.create_table(
        "deliveries",
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
    )
    op.create_index("ix_deliveries_due", "deliveries", ["next_attempt_at"],
                    sqlite_where=sa.text("status = 'pending'"), postgresql_where=sa.text("status = 'pending'"))
    op.create_index("ix_deliveries_queued", "deliveries", ["recipient_id"],
                    sqlite_where=sa.text("status = 'queued'"), postgresql_where=sa.text("status = 'queued'"))
    op.create_index("ix_deliveries_recipient", "deliveries", ["recipient_id", "created_at"])
    op.create_index("ix_deliveries_digest", "deliveries", ["digest_id"])

    op.create_table(
        "preferences",
        sa.Column("person_id", sa.String(100), primary_key=True),
        sa.Column("email_mode", sa.String(16), nullable=False),
        sa.Column("email_address", sa.String(254), nullable=True),
        sa.Column("email_overrides", sa.JSON, nullable=False),
        sa.Column("muted_kinds", sa.JSON, nullable=False),
        sa.Column("webhook_url", sa.String(1000), nullable=True),
        sa.Column("webhook_secret", sa.String(200), nullable=True),
        sa.Column("updated_at", AwareDateTime, nullable=False),
    )
    op.create_table(
        "held_events",
        sa.Column("event_id", sa.String(128), primary_key=True),
        sa.Column("hold_key", sa.String(140), primary_key=True),
        sa.Column("target_kind", sa.String(16), nullable=False),
        sa.Column("target_id", sa.String(100), nullable=False),
        sa.Column("event_type", sa.String(256), nullable=False),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("held_at", AwareDateTime, nullable=False),
    )
    op.create_index("ix_held_target", "held_events", ["target_id"])
    op.create_table(
        "refs",
        sa.Column("ref_type", sa.String(16), primary_key=True),
        sa.Column("ref_id", sa.String(100), primary_key=True),
        sa.Column("number", sa.String(64), nullable=True),
        sa.Column("title", sa.String(500), nullable=True),
        sa.Column("unit_id", sa.String(100), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("refs")
    op.drop_table("held_events")
    op.drop_table("preferences")
    op.drop_table("deliveries")
    op.drop_index("ix_notifications_inbox", table_name="notifications")
    op.create_index("ix_notifications_recipient", "notifications", ["recipient_id", "created_at"])
    op.create_table(
        "known_units",
        sa.Column("unit_id", sa.String(100), primary_key=True),
        sa.Column("name", sa.String(500), nullable=False),
        sa.Column("parent_id", sa.String(100), nullable=True),
    )
    op.create_table(
        "contacts",
        sa.Column("person_id", sa.String(100), primary_key=True),
        sa.Column("unit_id", sa.String(100), nullable=False, index=True),
        sa.Column("full_name", sa.String(500), nullable=False),
        sa.Column("roles", sa.JSON, nullable=False),
        sa.Column("email", sa.String(254), nullable=True),
    )
    op.execute("INSERT INTO known_units (unit_id, name, parent_id) SELECT u.unit_id, u.name, p.parent_id "
               "FROM dir_units u LEFT JOIN dir_parents p ON p.unit_id = u.unit_id AND p.valid_to IS NULL")
    op.execute("INSERT INTO contacts (person_id, unit_id, full_name, roles, email) "
               "SELECT person_id, unit_id, full_name, roles, email FROM dir_people")
    op.drop_table("reminders")
    for name in ("dir_people", "dir_parents", "dir_units"):
        op.drop_table(name)
