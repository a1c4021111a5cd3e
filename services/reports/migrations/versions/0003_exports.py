"""reports: the files of a consolidation (DOCX, XLSX) kept in the database, downloadable by any
client through get_export (they were paths on the reports host).

Revision ID: 0003
Revises: 0002
"""
import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('exports',
    sa.Column('export_id', sa.String(length=100), nullable=False),
    sa.Column('consolidation_id', sa.String(length=100), nullable=False),
    sa.Column('requirement_id', sa.String(length=100), nullable=False),
    sa.Column('unit_id', sa.String(length=100), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('media_type', sa.String(length=200), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('content', sa.LargeBinary(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('export_id')
    )
    op.create_index(op.f('ix_exports_consolidation_id'), 'exports', ['consolidation_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_exports_consolidation_id'), table_name='exports')
    op.drop_table('exports')
