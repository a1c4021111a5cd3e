"""reports: every submitted revision of a report kept (values, who, when) — reports stay as
accepted, and nothing a unit sent is lost when it sends again. The revision each report holds now
is copied in as its first kept revision.

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
    op.create_table('report_revisions',
    sa.Column('report_id', sa.String(length=100), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('values', sa.JSON(), nullable=False),
    sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('submitted_by', sa.String(length=100), nullable=True),
    sa.Column('on_time', sa.Boolean(), nullable=True),
    sa.Column('form_id', sa.String(length=100), nullable=True),
    sa.Column('form_version', sa.Integer(), nullable=True),
    sa.Column('submission_id', sa.String(length=100), nullable=True),
    sa.PrimaryKeyConstraint('report_id', 'revision')
    )
    op.execute(
        'INSERT INTO report_revisions (report_id, revision, "values", submitted_at, submitted_by, on_time, '
        'form_id, form_version, submission_id) '
        'SELECT report_id, revision, "values", submitted_at, submitted_by, on_time, form_id, form_version, '
        "submission_id FROM reports WHERE status <> 'draft' AND submitted_at IS NOT NULL AND revision > 0")


def downgrade() -> None:
    op.drop_table('report_revisions')
