"""awards: eligibility projection; outbox and inbox

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
        "unit_standing",
        sa.Column("unit_id", sa.String(100), primary_key=True),
        sa.Column("period", sa.String(16), primary_key=True),
        sa.Column("report_submitted", sa.Boolean, nullable=False),
        sa.Column("report_on_time", sa.Boolean, nullable=False),
        sa.Column("last_revision", sa.Integer, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("unit_standing")
    op.drop_table("inbox")
    op.drop_table("outbox")
