"""notify: webhook secrets sealed at rest (preferences.webhook_secret in plain text →
webhook_secret_enc, Fernet under the service's key file), with a fingerprint for reads

Existing secrets are sealed with the key the service is configured with
(CONGDOAN_NOTIFY_SECRETS_KEY_FILE, else <CONGDOAN_DATA_DIR>/secrets/notify-webhook.key, made if
absent); the key is only read when there is something to seal. The downgrade opens them again.

Revision ID: 0003
Revises: 0002
"""
import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def _box():  # type: ignore[no-untyped-def]
    from runtime.settings import load_settings
    from services.notify.adapters.secret_box import SecretBox
    from services.notify.entrypoints.settings import NotifySettings

    return SecretBox.from_file(NotifySettings().key_file(load_settings("notify").data_dir))


def upgrade() -> None:
    from services.notify.domain.signing import fingerprint

    with op.batch_alter_table("preferences") as batch:
        batch.add_column(sa.Column("webhook_secret_enc", sa.Text, nullable=True))
        batch.add_column(sa.Column("webhook_secret_fp", sa.String(16), nullable=True))
    bind = op.get_bind()
    rows = bind.execute(sa.text("SELECT person_id, webhook_secret FROM preferences "
                                "WHERE webhook_secret IS NOT NULL")).all()
    if rows:
        box = _box()
        for r in rows:
            bind.execute(sa.text("UPDATE preferences SET webhook_secret_enc = :enc, webhook_secret_fp = :fp "
                                 "WHERE person_id = :p"),
                         {"enc": box.seal(r.webhook_secret), "fp": fingerprint(r.webhook_secret), "p": r.person_id})
    with op.batch_alter_table("preferences") as batch:
        batch.drop_column("webhook_secret")


def downgrade() -> None:
    with op.batch_alter_table("preferences") as batch:
        batch.add_column(sa.Column("webhook_secret", sa.String(200), nullable=True))
    bind = op.get_bind()
    rows = bind.execute(sa.text("SELECT person_id, webhook_secret_enc FROM preferences "
                                "WHERE webhook_secret_enc IS NOT NULL")).all()
    if rows:
        box = _box()
        for r in rows:
            bind.execute(sa.text("UPDATE preferences SET webhook_secret = :s WHERE person_id = :p"),
                         {"s": box.open(r.webhook_secret_enc), "p": r.person_id})
    with op.batch_alter_table("preferences") as batch:
        batch.drop_column("webhook_secret_fp")
        batch.drop_column("webhook_secret_enc")
