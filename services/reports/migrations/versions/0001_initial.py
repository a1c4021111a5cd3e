"""reports: directory projection, reports; outbox and inbox

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
        "directory_units",
        sa.Column("unit_id", sa.String(100), primary_key=True),
        sa.Column("name", sa.String(500), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("parent_id", sa.String(100), nullable=True, index=True),
    )
    op.create_table(
        "reports",
        sa.Column("report_id", sa.String(100), primary_key=True),
        sa.Column("requirement_id", sa.String(100), nullable=False),
        sa.Column("period", sa.String(16), nullable=False),
        sa.Column("unit_id", sa.String(100), nullable=False),
        sa.Column("receiving_unit_id", sa.String(100), nullable=True),
        sa.Column("revision", sa.Integer, nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due_date", sa.Date, nullable=True),
        sa.Column("on_time", sa.Boolean, nullable=False),
        sa.Column("values", sa.JSON, nullable=False),
        sa.UniqueConstraint("requirement_id", "period", "unit_id", name="uq_report_per_unit_period"),
    )


def downgrade() -> None:
    op.drop_table("reports")
    op.drop_table("directory_units")
    op.drop_table("inbox")
    op.drop_table("outbox")
