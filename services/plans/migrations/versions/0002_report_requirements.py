"""plans: the reporting requirements reports opened from a plan item (`report_requirements`), so
that a unit's report submitted (or returned) updates its task of that item and period, and where
each unit's report last stood (`report_progress`), so that an older event changes nothing.

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
    op.create_table('report_requirements',
    sa.Column('requirement_id', sa.String(length=100), nullable=False),
    sa.Column('plan_id', sa.String(length=100), nullable=False),
    sa.Column('item_id', sa.String(length=100), nullable=False),
    sa.Column('period', sa.String(length=16), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('requirement_id')
    )
    op.create_table('report_progress',
    sa.Column('requirement_id', sa.String(length=100), nullable=False),
    sa.Column('unit_id', sa.String(length=100), nullable=False),
    sa.Column('report_id', sa.String(length=100), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('stage', sa.String(length=16), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('requirement_id', 'unit_id')
    )


def downgrade() -> None:
    op.drop_table('report_progress')
    op.drop_table('report_requirements')
