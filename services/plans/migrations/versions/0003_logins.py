"""logins of people and their refresh tokens

Revision ID: 0003
Revises: 0002
"""
import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def _ts() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "logins",
        sa.Column("person_id", sa.String(100), primary_key=True),
        sa.Column("username", sa.String(100), nullable=False, unique=True),
        sa.Column("password_hash", sa.Text, nullable=False),
        sa.Column("must_change", sa.Boolean, nullable=False),
        sa.Column("failed_attempts", sa.Integer, nullable=False),
        sa.Column("locked_until", _ts(), nullable=True),
        sa.Column("last_login_at", _ts(), nullable=True),
        sa.Column("password_changed_at", _ts(), nullable=False),
        sa.Column("updated_by", sa.String(100), nullable=True),
    )
    op.create_table(
        "refresh_tokens",
        sa.Column("token_hash", sa.String(64), primary_key=True),
        sa.Column("family_id", sa.String(40), nullable=False),
        sa.Column("person_id", sa.String(100), nullable=False),
        sa.Column("issued_at", _ts(), nullable=False),
        sa.Column("expires_at", _ts(), nullable=False),
        sa.Column("used_at", _ts(), nullable=True),
        sa.Column("revoked_at", _ts(), nullable=True),
    )
    op.create_index("ix_refresh_tokens_family_id", "refresh_tokens", ["family_id"])
    op.create_index("ix_refresh_tokens_person_id", "refresh_tokens", ["person_id"])


def downgrade() -> None:
    op.drop_table("refresh_tokens")
    op.drop_table("logins")
