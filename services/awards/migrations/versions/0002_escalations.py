"""awards: an escalation reaches the higher level's council — a nomination escalated to a form the
level above grants makes a nomination in that level's round; each names the other
(`escalated_to` on the lower one, `escalated_from` on the higher one).

Revision ID: 0002
Revises: 0001
"""
import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("nominations") as batch:
        batch.add_column(sa.Column("escalated_from", sa.String(length=100), nullable=True))
        batch.add_column(sa.Column("escalated_to", sa.String(length=100), nullable=True))
        batch.create_index("ix_nominations_escalated_from", ["escalated_from"])


def downgrade() -> None:
    with op.batch_alter_table("nominations") as batch:
        batch.drop_index("ix_nominations_escalated_from")
        batch.drop_column("escalated_to")
        batch.drop_column("escalated_from")
