"""directory: units and people; outbox and inbox

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
        "units",
        sa.Column("unit_id", sa.String(100), primary_key=True),
        sa.Column("code", sa.String(64), nullable=False, unique=True),
        sa.Column("name", sa.String(500), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("parent_id", sa.String(100), nullable=True, index=True),
        sa.Column("effective_from", sa.Date, nullable=False),
    )
    op.create_table(
        "people",
        sa.Column("person_id", sa.String(100), primary_key=True),
        sa.Column("unit_id", sa.String(100), nullable=False, index=True),
        sa.Column("full_name", sa.String(500), nullable=False),
        sa.Column("roles", sa.JSON, nullable=False),
        sa.Column("email", sa.String(254), nullable=True),
        sa.Column("phone", sa.String(32), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("people")
    op.drop_table("units")
    op.drop_table("inbox")
    op.drop_table("outbox")
