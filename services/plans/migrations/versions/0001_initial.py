"""plans: the directory (effective-dated units and parents, people), logins and refresh tokens,
plans and their revisions, task occurrences, individual plans, import staging; the outbox,
inbox and scheduler reminders every service carries.

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
    op.create_table('import_parts',
    sa.Column('import_id', sa.String(length=100), nullable=False),
    sa.Column('part', sa.Integer(), nullable=False),
    sa.Column('parts', sa.Integer(), nullable=False),
    sa.Column('csv', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('import_id', 'part')
    )
    op.create_table('inbox',
    sa.Column('consumer', sa.String(length=128), nullable=False),
    sa.Column('event_id', sa.String(length=128), nullable=False),
    sa.Column('event_type', sa.String(length=256), nullable=False),
    sa.Column('processed_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('consumer', 'event_id')
    )
    op.create_table('individual_plans',
    sa.Column('individual_plan_id', sa.String(length=100), nullable=False),
    sa.Column('person_id', sa.String(length=100), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.String(length=100), nullable=False),
    sa.Column('parent_plan_id', sa.String(length=100), nullable=True),
    sa.Column('commitments', sa.JSON(), nullable=False),
    sa.Column('submitted_on', sa.Date(), nullable=False),
    sa.Column('results', sa.Text(), nullable=True),
    sa.Column('rating', sa.String(length=16), nullable=True),
    sa.Column('assessed_on', sa.Date(), nullable=True),
    sa.Column('supplement', sa.JSON(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('individual_plan_id'),
    sa.UniqueConstraint('person_id', 'year', name='uq_individual_plans_person_year')
    )
    op.create_index(op.f('ix_individual_plans_unit_id'), 'individual_plans', ['unit_id'], unique=False)
    op.create_table('logins',
    sa.Column('person_id', sa.String(length=100), nullable=False),
    sa.Column('username', sa.String(length=100), nullable=False),
    sa.Column('password_hash', sa.Text(), nullable=False),
    sa.Column('must_change', sa.Boolean(), nullable=False),
    sa.Column('failed_attempts', sa.Integer(), nullable=False),
    sa.Column('locked_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_login_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('password_changed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by', sa.String(length=100), nullable=True),
    sa.PrimaryKeyConstraint('person_id'),
    sa.UniqueConstraint('username')
    )
    op.create_table('occurrences',
    sa.Column('occurrence_id', sa.String(length=40), nullable=False),
    sa.Column('plan_id', sa.String(length=100), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.String(length=100), nullable=False),
    sa.Column('item_id', sa.String(length=100), nullable=False),
    sa.Column('period', sa.String(length=16), nullable=False),
    sa.Column('start_date', sa.Date(), nullable=True),
    sa.Column('due_date', sa.Date(), nullable=True),
    sa.Column('output', sa.String(length=32), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('done_on', sa.Date(), nullable=True),
    sa.Column('on_time', sa.Boolean(), nullable=True),
    sa.Column('evidence', sa.Text(), nullable=True),
    sa.Column('withdrawn_reason', sa.String(length=32), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by', sa.String(length=100), nullable=True),
    sa.PrimaryKeyConstraint('occurrence_id')
    )
    op.create_index('ix_occurrences_plan_unit', 'occurrences', ['plan_id', 'unit_id'], unique=False)
    op.create_index('ix_occurrences_unit_status', 'occurrences', ['unit_id', 'status'], unique=False)
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
    op.create_table('plan_revisions',
    sa.Column('plan_id', sa.String(length=100), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('issued_on', sa.Date(), nullable=False),
    sa.Column('issued_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('issued_by', sa.String(length=100), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('document', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('plan_id', 'revision')
    )
    op.create_table('plans',
    sa.Column('plan_id', sa.String(length=100), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('number', sa.String(length=64), nullable=False),
    sa.Column('title', sa.String(length=500), nullable=False),
    sa.Column('issuer_unit_id', sa.String(length=100), nullable=False),
    sa.Column('parent_plan_id', sa.String(length=100), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('current_revision', sa.Integer(), nullable=False),
    sa.Column('document', sa.JSON(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=True),
    sa.Column('issued_on', sa.Date(), nullable=True),
    sa.Column('closed_on', sa.Date(), nullable=True),
    sa.Column('materialized_to', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=100), nullable=True),
    sa.PrimaryKeyConstraint('plan_id')
    )
    op.create_index(op.f('ix_plans_issuer_unit_id'), 'plans', ['issuer_unit_id'], unique=False)
    op.create_index(op.f('ix_plans_parent_plan_id'), 'plans', ['parent_plan_id'], unique=False)
    op.create_table('refresh_tokens',
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('family_id', sa.String(length=40), nullable=False),
    sa.Column('person_id', sa.String(length=100), nullable=False),
    sa.Column('issued_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('token_hash')
    )
    op.create_index(op.f('ix_refresh_tokens_family_id'), 'refresh_tokens', ['family_id'], unique=False)
    op.create_index(op.f('ix_refresh_tokens_person_id'), 'refresh_tokens', ['person_id'], unique=False)
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


def downgrade() -> None:
    op.drop_index('ix_reminders_due', table_name='reminders', sqlite_where=sa.text('fired_at IS NULL'), postgresql_where=sa.text('fired_at IS NULL'))
    op.drop_table('reminders')
    op.drop_index(op.f('ix_refresh_tokens_person_id'), table_name='refresh_tokens')
    op.drop_index(op.f('ix_refresh_tokens_family_id'), table_name='refresh_tokens')
    op.drop_table('refresh_tokens')
    op.drop_index(op.f('ix_plans_parent_plan_id'), table_name='plans')
    op.drop_index(op.f('ix_plans_issuer_unit_id'), table_name='plans')
    op.drop_table('plans')
    op.drop_table('plan_revisions')
    op.drop_index('ix_outbox_pending', table_name='outbox', sqlite_where=sa.text('published_at IS NULL'), postgresql_where=sa.text('published_at IS NULL'))
    op.drop_table('outbox')
    op.drop_index('ix_occurrences_unit_status', table_name='occurrences')
    op.drop_index('ix_occurrences_plan_unit', table_name='occurrences')
    op.drop_table('occurrences')
    op.drop_table('logins')
    op.drop_index(op.f('ix_individual_plans_unit_id'), table_name='individual_plans')
    op.drop_table('individual_plans')
    op.drop_table('inbox')
    op.drop_table('import_parts')
    op.drop_index('ux_dir_units_code', table_name='dir_units')
    op.drop_table('dir_units')
    op.drop_index('ix_dir_people_unit', table_name='dir_people')
    op.drop_table('dir_people')
    op.drop_index('ix_dir_parents_parent', table_name='dir_parents')
    op.drop_table('dir_parents')
