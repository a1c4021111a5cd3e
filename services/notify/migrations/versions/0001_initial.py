"""notify: the directory projection, notifications, deliveries, preferences (webhook secrets
sealed), held events, references and digests; the outbox, inbox and scheduler reminders every
service carries.

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
    op.create_table('deliveries',
    sa.Column('delivery_id', sa.String(length=128), nullable=False),
    sa.Column('notification_id', sa.String(length=100), nullable=True),
    sa.Column('event_id', sa.String(length=128), nullable=False),
    sa.Column('recipient_id', sa.String(length=100), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('kind', sa.String(length=64), nullable=False),
    sa.Column('address', sa.String(length=1000), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), server_default='0', nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('leased_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('digest_id', sa.String(length=128), nullable=True),
    sa.PrimaryKeyConstraint('delivery_id'),
    sa.UniqueConstraint('event_id', 'recipient_id', 'channel', name='uq_delivery_once')
    )
    op.create_index('ix_deliveries_digest', 'deliveries', ['digest_id'], unique=False)
    op.create_index('ix_deliveries_due', 'deliveries', ['next_attempt_at'], unique=False, sqlite_where=sa.text("status = 'pending'"), postgresql_where=sa.text("status = 'pending'"))
    op.create_index('ix_deliveries_queued', 'deliveries', ['recipient_id'], unique=False, sqlite_where=sa.text("status = 'queued'"), postgresql_where=sa.text("status = 'queued'"))
    op.create_index('ix_deliveries_recipient', 'deliveries', ['recipient_id', 'created_at'], unique=False)
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
    op.create_table('held_events',
    sa.Column('event_id', sa.String(length=128), nullable=False),
    sa.Column('hold_key', sa.String(length=140), nullable=False),
    sa.Column('target_kind', sa.String(length=16), nullable=False),
    sa.Column('target_id', sa.String(length=100), nullable=False),
    sa.Column('event_type', sa.String(length=256), nullable=False),
    sa.Column('payload', sa.Text(), nullable=False),
    sa.Column('held_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('event_id', 'hold_key')
    )
    op.create_index('ix_held_target', 'held_events', ['target_id'], unique=False)
    op.create_table('inbox',
    sa.Column('consumer', sa.String(length=128), nullable=False),
    sa.Column('event_id', sa.String(length=128), nullable=False),
    sa.Column('event_type', sa.String(length=256), nullable=False),
    sa.Column('processed_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('consumer', 'event_id')
    )
    op.create_table('notifications',
    sa.Column('notification_id', sa.String(length=100), nullable=False),
    sa.Column('event_id', sa.String(length=128), nullable=False),
    sa.Column('recipient_id', sa.String(length=100), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('kind', sa.String(length=64), nullable=False),
    sa.Column('title', sa.String(length=500), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('link', sa.String(length=500), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('read_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('notification_id'),
    sa.UniqueConstraint('event_id', 'recipient_id', 'channel', name='uq_notification_once')
    )
    op.create_index('ix_notifications_inbox', 'notifications', ['recipient_id', 'notification_id'], unique=False)
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
    op.create_table('preferences',
    sa.Column('person_id', sa.String(length=100), nullable=False),
    sa.Column('email_mode', sa.String(length=16), nullable=False),
    sa.Column('email_address', sa.String(length=254), nullable=True),
    sa.Column('email_overrides', sa.JSON(), nullable=False),
    sa.Column('muted_kinds', sa.JSON(), nullable=False),
    sa.Column('webhook_url', sa.String(length=1000), nullable=True),
    sa.Column('webhook_secret_enc', sa.Text(), nullable=True),
    sa.Column('webhook_secret_fp', sa.String(length=16), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('person_id')
    )
    op.create_table('refs',
    sa.Column('ref_type', sa.String(length=16), nullable=False),
    sa.Column('ref_id', sa.String(length=100), nullable=False),
    sa.Column('number', sa.String(length=64), nullable=True),
    sa.Column('title', sa.String(length=500), nullable=True),
    sa.Column('unit_id', sa.String(length=100), nullable=True),
    sa.PrimaryKeyConstraint('ref_type', 'ref_id')
    )
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
    op.drop_table('refs')
    op.drop_table('preferences')
    op.drop_index('ix_outbox_pending', table_name='outbox', sqlite_where=sa.text('published_at IS NULL'), postgresql_where=sa.text('published_at IS NULL'))
    op.drop_table('outbox')
    op.drop_index('ix_notifications_inbox', table_name='notifications')
    op.drop_table('notifications')
    op.drop_table('inbox')
    op.drop_index('ix_held_target', table_name='held_events')
    op.drop_table('held_events')
    op.drop_index('ux_dir_units_code', table_name='dir_units')
    op.drop_table('dir_units')
    op.drop_index('ix_dir_people_unit', table_name='dir_people')
    op.drop_table('dir_people')
    op.drop_index('ix_dir_parents_parent', table_name='dir_parents')
    op.drop_table('dir_parents')
    op.drop_index('ix_deliveries_recipient', table_name='deliveries')
    op.drop_index('ix_deliveries_queued', table_name='deliveries', sqlite_where=sa.text("status = 'queued'"), postgresql_where=sa.text("status = 'queued'"))
    op.drop_index('ix_deliveries_due', table_name='deliveries', sqlite_where=sa.text("status = 'pending'"), postgresql_where=sa.text("status = 'pending'"))
    op.drop_index('ix_deliveries_digest', table_name='deliveries')
    op.drop_table('deliveries')
