"""reports: the directory projection, requirements, forms, reports with their revisions and
reviews, consolidations; the outbox, inbox and scheduler reminders every service carries.

The whole schema as first released, written out in full: migrations are history and import no
live table of the code (tests/integration/test_schema.py compares the head with the ORM).

Revision ID: 0001
Revises:
"""
import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

def upgrade() -> None:
    op.create_table('consolidations',
    sa.Column('consolidation_id', sa.String(length=100), nullable=False),
    sa.Column('requirement_id', sa.String(length=100), nullable=False),
    sa.Column('period', sa.String(length=16), nullable=False),
    sa.Column('unit_id', sa.String(length=100), nullable=False),
    sa.Column('as_of', sa.Date(), nullable=False),
    sa.Column('counting', sa.String(length=16), nullable=False),
    sa.Column('expected', sa.Integer(), nullable=False),
    sa.Column('submitted', sa.Integer(), nullable=False),
    sa.Column('on_time', sa.Integer(), nullable=False),
    sa.Column('late', sa.Integer(), nullable=False),
    sa.Column('missing', sa.Integer(), nullable=False),
    sa.Column('indicators', sa.JSON(), nullable=False),
    sa.Column('docx', sa.String(length=500), nullable=False),
    sa.Column('xlsx', sa.String(length=500), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor_id', sa.String(length=100), nullable=True),
    sa.PrimaryKeyConstraint('consolidation_id')
    )
    op.create_index(op.f('ix_consolidations_requirement_id'), 'consolidations', ['requirement_id'], unique=False)
    op.create_table('dir_parents',
    sa.Column('unit_id', sa.String(length=100), nullable=False),
    sa.Column('valid_from', sa.Date(), nullable=False),
    sa.Column('valid_to', sa.Date(), nullable=True),
    sa.Column('parent_id', sa.String(length=100), nullable=True),
    sa.PrimaryKeyConstraint('unit_id', 'valid_from')
    )
    op.create_index('ix_dir_parents_parent', 'dir_parents', ['parent_id'], unique=False)
    op.create_table('dir_people',
    sa.Column('person_id', sa.String(length=100), nullable=False),
    sa.Column('unit_id', sa.String(length=100), nullable=False),
    sa.Column('full_name', sa.String(length=500), nullable=False),
    sa.Column('roles', sa.JSON(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=True),
    sa.Column('phone', sa.String(length=32), nullable=True),
    sa.Column('active', sa.Boolean(), server_default=sa.true(), nullable=False),
    sa.PrimaryKeyConstraint('person_id')
    )
    op.create_index('ix_dir_people_unit', 'dir_people', ['unit_id'], unique=False)
    op.create_table('dir_units',
    sa.Column('unit_id', sa.String(length=100), nullable=False),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=500), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('registered_on', sa.Date(), nullable=False),
    sa.Column('closed_on', sa.Date(), nullable=True),
    sa.Column('merged_into', sa.String(length=100), nullable=True),
    sa.PrimaryKeyConstraint('unit_id')
    )
    op.create_index('ux_dir_units_code', 'dir_units', ['code'], unique=True)
    op.create_table('forms',
    sa.Column('form_id', sa.String(length=100), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('definition', sa.JSON(), nullable=False),
    sa.Column('registered_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('registered_by', sa.String(length=100), nullable=True),
    sa.PrimaryKeyConstraint('form_id', 'version')
    )
    op.create_table('inbox',
    sa.Column('consumer', sa.String(length=128), nullable=False),
    sa.Column('event_id', sa.String(length=128), nullable=False),
    sa.Column('event_type', sa.String(length=256), nullable=False),
    sa.Column('processed_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('consumer', 'event_id')
    )
    op.create_table('outbox',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('event_id', sa.String(length=128), nullable=False),
    sa.Column('type', sa.String(length=256), nullable=False),
    sa.Column('subject', sa.String(length=256), nullable=False),
    sa.Column('payload', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('attempts', sa.Integer(), server_default='0', nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('event_id')
    )
    op.create_index('ix_outbox_pending', 'outbox', ['id'], unique=False, sqlite_where=sa.text('published_at IS NULL'), postgresql_where=sa.text('published_at IS NULL'))
    op.create_table('reminders',
    sa.Column('key', sa.String(length=300), nullable=False),
    sa.Column('kind', sa.String(length=64), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('fired_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('cancelled', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.PrimaryKeyConstraint('key')
    )
    op.create_index('ix_reminders_due', 'reminders', ['due_at'], unique=False, sqlite_where=sa.text('fired_at IS NULL'), postgresql_where=sa.text('fired_at IS NULL'))
    op.create_table('report_reviews',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('report_id', sa.String(length=100), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('action', sa.String(length=16), nullable=False),
    sa.Column('by_unit_id', sa.String(length=100), nullable=False),
    sa.Column('actor_id', sa.String(length=100), nullable=True),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_report_reviews_report_id'), 'report_reviews', ['report_id'], unique=False)
    op.create_table('reports',
    sa.Column('report_id', sa.String(length=100), nullable=False),
    sa.Column('requirement_id', sa.String(length=100), nullable=False),
    sa.Column('period', sa.String(length=16), nullable=False),
    sa.Column('unit_id', sa.String(length=100), nullable=False),
    sa.Column('receiving_unit_id', sa.String(length=100), nullable=True),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('due_date', sa.Date(), nullable=True),
    sa.Column('on_time', sa.Boolean(), nullable=True),
    sa.Column('values', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('first_submitted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('form_id', sa.String(length=100), nullable=True),
    sa.Column('form_version', sa.Integer(), nullable=True),
    sa.Column('submission_id', sa.String(length=100), nullable=True),
    sa.Column('submitted_by', sa.String(length=100), nullable=True),
    sa.Column('figures', sa.JSON(), nullable=True),
    sa.Column('draft_values', sa.JSON(), nullable=True),
    sa.Column('draft_saved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('review_comment', sa.Text(), nullable=True),
    sa.Column('reviewed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('reviewed_by', sa.String(length=100), nullable=True),
    sa.Column('reviewed_by_unit_id', sa.String(length=100), nullable=True),
    sa.PrimaryKeyConstraint('report_id'),
    sa.UniqueConstraint('requirement_id', 'period', 'unit_id', name='uq_report_per_unit_period')
    )
    op.create_table('requirements',
    sa.Column('requirement_id', sa.String(length=100), nullable=False),
    sa.Column('name', sa.String(length=500), nullable=False),
    sa.Column('content', sa.Text(), nullable=True),
    sa.Column('issuer_unit_id', sa.String(length=100), nullable=False),
    sa.Column('receiving_unit_id', sa.String(length=100), nullable=False),
    sa.Column('receiving_department', sa.String(length=500), nullable=True),
    sa.Column('reporting_kinds', sa.JSON(), nullable=False),
    sa.Column('period', sa.String(length=16), nullable=False),
    sa.Column('due_date', sa.Date(), nullable=False),
    sa.Column('grace_days', sa.Integer(), nullable=False),
    sa.Column('cutoff_date', sa.Date(), nullable=True),
    sa.Column('hierarchy_as_of', sa.Date(), nullable=True),
    sa.Column('form_id', sa.String(length=100), nullable=False),
    sa.Column('form_version', sa.Integer(), nullable=False),
    sa.Column('reminder_days', sa.JSON(), nullable=False),
    sa.Column('source_plan_id', sa.String(length=100), nullable=True),
    sa.Column('source_item_id', sa.String(length=100), nullable=True),
    sa.Column('opened_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('opened_by', sa.String(length=100), nullable=True),
    sa.PrimaryKeyConstraint('requirement_id'),
    sa.UniqueConstraint('source_plan_id', 'source_item_id', 'period', name='uq_requirement_per_plan_item_period')
    )
    op.create_index('ix_requirements_issuer_period', 'requirements', ['issuer_unit_id', 'period'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_requirements_issuer_period', table_name='requirements')
    op.drop_table('requirements')
    op.drop_table('reports')
    op.drop_index(op.f('ix_report_reviews_report_id'), table_name='report_reviews')
    op.drop_table('report_reviews')
    op.drop_index('ix_reminders_due', table_name='reminders', sqlite_where=sa.text('fired_at IS NULL'), postgresql_where=sa.text('fired_at IS NULL'))
    op.drop_table('reminders')
    op.drop_index('ix_outbox_pending', table_name='outbox', sqlite_where=sa.text('published_at IS NULL'), postgresql_where=sa.text('published_at IS NULL'))
    op.drop_table('outbox')
    op.drop_table('inbox')
    op.drop_table('forms')
    op.drop_index('ux_dir_units_code', table_name='dir_units')
    op.drop_table('dir_units')
    op.drop_index('ix_dir_people_unit', table_name='dir_people')
    op.drop_table('dir_people')
    op.drop_index('ix_dir_parents_parent', table_name='dir_parents')
    op.drop_table('dir_parents')
    op.drop_index(op.f('ix_consolidations_requirement_id'), table_name='consolidations')
    op.drop_table('consolidations')
