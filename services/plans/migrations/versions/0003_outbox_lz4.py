"""plans: the outbox's payloads compressed with lz4 on PostgreSQL (SQLite: nothing to do).

A plan issued to 2,000 units records ~14 MB of tasks.assigned payloads in its transaction;
PostgreSQL's default TOAST compression (pglz) took 0.19 s of the ~1.1 s of the request, lz4
takes a fraction of it for about the same size. A server built without lz4 (or older than 14)
keeps the default: the migration says so in a notice and goes on.

Revision ID: 0003
Revises: 0002
"""
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("""
        DO $$ BEGIN
            ALTER TABLE outbox ALTER COLUMN payload SET COMPRESSION lz4;
        EXCEPTION WHEN others THEN
            RAISE NOTICE 'outbox.payload keeps the default compression: %', SQLERRM;
        END $$;
    """)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("""
        DO $$ BEGIN
            ALTER TABLE outbox ALTER COLUMN payload SET COMPRESSION default;
        EXCEPTION WHEN others THEN
            RAISE NOTICE 'outbox.payload compression unchanged: %', SQLERRM;
        END $$;
    """)
