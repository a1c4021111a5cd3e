"""reports: the shared directory projection (replacing directory_units, rows carried over),
reminders, requirements, forms, review of reports, consolidations

Revision ID: 0002
Revises: 0001
"""
from datetime import date

import sqlalchemy as sa
from alembic import op

from runtime.db import AwareDateTime
from runtime.directory import create_directory_tables, dir_parents, dir_units
from runtime.scheduler import create_scheduler_tables

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# Units projected by the first schema carried no date: they keep their name, kind and parent, valid
# from a day before any plan, until plans says more.
LEGACY_SINCE = date(2000, 1, 1)


def upgrade() -> None:
    create_directory_tables(op)
    create_scheduler_tables(op)
    bind = op.get_bind()
    units = bind.execute(sa.text("SELECT unit_id, name, kind, parent_id FROM directory_units")).all()
    if units:
        op.bulk_insert(dir_units, [{"unit_id": u.unit_id, "code": u.unit_id[:64], "name": u.name, "kind": u.kind,
                                    "registered_on": LEGACY_SINCE, "closed_on": None, "merged_into": None}
                                   for u in units])
        op.bulk_insert(dir_parents, [{"unit_id": u.unit_id, "valid_from": LEGACY_SINCE, "valid_to": None,
                                      "parent_id": u.parent_id} for u in units])
    op.drop_table("directory_units")

    op.create_table(
        "requirements",
        sa.Column("requirement_id", sa.String(100), primary_key=True),
        sa.Column("name", sa.String(500), nullable=False),
        sa.Column("content", sa.Text, nullable=True),
        sa.Column("issuer_unit_id", sa.String(100), nullable=False),
        sa.Column("receiving_unit_id", sa.String(100), nullable=False),
        sa.Column("receiving_department", sa.String(500), nullable=True),
        sa.Column("reporting_kinds", sa.JSON, nullable=False),
        sa.Column("period", sa.String(16), nullable=False),
        sa.Column("due_date", sa.Date, nullable=False),
        sa.Column("grace_days", sa.Integer, nullable=False, server_default="0"),
        sa.Column("cutoff_date", sa.Date, nullable=True),
        sa.Column("hierarchy_as_of", sa.Date, nullable=True),
        sa.Column("form_id", sa.String(100), nullable=False),
        sa.Column("form_version", sa.Integer, nullable=False),
        sa.Column("reminder_days", sa.JSON, nullable=False),
        sa.Column("source_plan_id", sa.String(100), nullable=True),
        sa.Column("source_item_id", sa.String(100), nullable=True),
        sa.Column("opened_at", AwareDateTime, nullable=False),
        sa.Column("opened_by", sa.String(100), nullable=True),
        sa.UniqueConstraint("source_plan_id", "source_item_id", "period", name="uq_requirement_per_plan_item_period"),
    )
    op.create_index("ix_requirements_issuer_period", "requirements", ["issuer_unit_id", "period"])

    op.create_table(
        "forms",
        sa.Column("form_id", sa.String(100), primary_key=True),
        sa.Column("version", sa.Integer, primary_key=True),
        sa.Column("definition", sa.JSON, nullable=False),
        sa.Column("registered_at", AwareDateTime, nullable=False),
        sa.Column("registered_by", sa.String(100), nullable=True),
    )

    with op.batch_alter_table("reports") as b:
        b.alter_column("submitted_at", existing_type=sa.DateTime(timezone=True), nullable=True)
        b.alter_column("on_time", existing_type=sa.Boolean, nullable=True)
        b.add_column(sa.Column("status", sa.String(16), nullable=False, server_default="submitted"))
        b.add_column(sa.Column("first_submitted_at", AwareDateTime, nullable=True))
        b.add_column(sa.Column("form_id", sa.String(100), nullable=True))
        b.add_column(sa.Column("form_version", sa.Integer, nullable=True))
        b.add_column(sa.Column("submission_id", sa.String(100), nullable=True))
        b.add_column(sa.Column("submitted_by", sa.String(100), nullable=True))
        b.add_column(sa.Column("figures", sa.JSON, nullable=True))
        b.add_column(sa.Column("draft_values", sa.JSON, nullable=True))
        b.add_column(sa.Column("draft_saved_at", AwareDateTime, nullable=True))
        b.add_column(sa.Column("review_comment", sa.Text, nullable=True))
        b.add_column(sa.Column("reviewed_at", AwareDateTime, nullable=True))
        b.add_column(sa.Column("reviewed_by", sa.String(100), nullable=True))
        b.add_column(sa.Column("reviewed_by_unit_id", sa.String(100), nullable=True))
    op.execute("UPDATE reports SET first_submitted_at = submitted_at")

    op.create_table(
        "report_reviews",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True),
        sa.Column("report_id", sa.String(100), nullable=False, index=True),
        sa.Column("revision", sa.Integer, nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("by_unit_id", sa.String(100), nullable=False),
        sa.Column("actor_id", sa.String(100), nullable=True),
        sa.Column("comment", sa.Text, nullable=True),
        sa.Column("at", AwareDateTime, nullable=False),
    )

    op.create_table(
        "consolidations",
        sa.Column("consolidation_id", sa.String(100), primary_key=True),
        sa.Column("requirement_id", sa.String(100), nullable=False, index=True),
        sa.Column("period", sa.String(16), nullable=False),
        sa.Column("unit_id", sa.String(100), nullable=False),
        sa.Column("as_of", sa.Date, nullable=False),
        sa.Column("counting", sa.String(16), nullable=False),
        sa.Column("expected", sa.Integer, nullable=False),
        sa.Column("submitted", sa.Integer, nullable=False),
        sa.Column("on_time", sa.Integer, nullable=False),
        sa.Column("late", sa.Integer, nullable=False),
        sa.Column("missing", sa.Integer, nullable=False),
        sa.Column("indicators", sa.JSON, nullable=False),
        sa.Column("docx", sa.String(500), nullable=False),
        sa.Column("xlsx", sa.String(500), nullable=False),
        sa.Column("created_at", AwareDateTime, nullable=False),
        sa.Column("actor_id", sa.String(100), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("consolidations")
    op.drop_table("report_reviews")
    with op.batch_alter_table("reports") as b:
        for col in ("reviewed_by_unit_id", "reviewed_by", "reviewed_at", "review_comment", "draft_saved_at",
                    "draft_values", "figures", "submitted_by", "submission_id", "form_version", "form_id", "first_submitted_at",
                    "status"):
            b.drop_column(col)
    op.drop_table("forms")
    op.drop_index("ix_requirements_issuer_period", table_name="requirements")
    op.drop_table("requirements")
    op.create_table(
        "directory_units",
        sa.Column("unit_id", sa.String(100), primary_key=True),
        sa.Column("name", sa.String(500), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("parent_id", sa.String(100), nullable=True, index=True),
    )
    op.execute("INSERT INTO directory_units (unit_id, name, kind, parent_id) SELECT u.unit_id, u.name, u.kind, "
               "p.parent_id FROM dir_units u LEFT JOIN dir_parents p ON p.unit_id = u.unit_id AND p.valid_to IS NULL")
    op.drop_table("reminders")
    op.drop_table("dir_people")
    op.drop_table("dir_parents")
    op.drop_table("dir_units")
