"""notify: directory projection, notifications; outbox and inbox

Revision ID: 0001
Revises:
"""
import sqlalchemy as sa
from alembic import op

from runtime.db import create_plumbing_tables

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_plumbing_tables(op)
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
    op.create_table(
        "notifications",
        sa.Column("notification_id", sa.String(100), primary_key=True),
        sa.Column("event_id", sa.String(128), nullable=False),
        sa.Column("recipient_id", sa.String(100), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("title", sa.String(500), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("link", sa.String(500), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=True),
        sa.UniqueConstraint("event_id", "recipient_id", "channel", name="uq_notification_once"),
    )
    op.create_index("ix_notifications_recipient", "notifications", ["recipient_id", "created_at"])


def downgrade() -> None:
    op.drop_table("notifications")
    op.drop_table("contacts")
    op.drop_table("known_units")
    op.drop_table("inbox")
    op.drop_table("outbox")
