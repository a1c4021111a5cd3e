"""the directory moves to the shared effective-dated tables (dir_units, dir_parents, dir_people);
plans, revisions, task occurrences, individual plans, import staging, scheduler reminders

Revision ID: 0002
Revises: 0001
"""
import sqlalchemy as sa
from alembic import op

from runtime.db import AwareDateTime
from runtime.directory import create_directory_tables
from runtime.scheduler import create_scheduler_tables

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_directory_tables(op)
    op.create_index("ux_dir_units_code", "dir_units", ["code"], unique=True)
    # Units and people registered before this revision keep their ids, codes and dates.
    op.execute("INSERT INTO dir_units (unit_id, code, name, kind, registered_on) "
               "SELECT unit_id, code, name, kind, effective_from FROM units")
    op.execute("INSERT INTO dir_parents (unit_id, valid_from, valid_to, parent_id) "
               "SELECT unit_id, effective_from, NULL, parent_id FROM units")
    op.execute("INSERT INTO dir_people (person_id, unit_id, full_name, roles, email, phone, active) "
               "SELECT person_id, unit_id, full_name, roles, email, phone, TRUE FROM people")
    op.drop_table("people")
    op.drop_table("units")
    create_scheduler_tables(op)

    op.create_table(
        "plans",
        sa.Column("plan_id", sa.String(100), primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("number", sa.String(64), nullable=False),
        sa.Column("title", sa.String(500), nullable=False),
        sa.Column("issuer_unit_id", sa.String(100), nullable=False),
        sa.Column("parent_plan_id", sa.String(100), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("current_revision", sa.Integer, nullable=False),
        sa.Column("document", sa.JSON, nullable=False),
        sa.Column("year", sa.Integer, nullable=True),
        sa.Column("issued_on", sa.Date, nullable=True),
        sa.Column("closed_on", sa.Date, nullable=True),
        sa.Column("materialized_to", sa.Integer, nullable=True),
        sa.Column("created_at", AwareDateTime, nullable=False),
        sa.Column("updated_at", AwareDateTime, nullable=False),
        sa.Column("created_by", sa.String(100), nullable=True),
    )
    op.create_index("ix_plans_issuer_unit_id", "plans", ["issuer_unit_id"])
    op.create_index("ix_plans_parent_plan_id", "plans", ["parent_plan_id"])
    op.create_table(
        "plan_revisions",
        sa.Column("plan_id", sa.String(100), primary_key=True),
        sa.Column("revision", sa.Integer, primary_key=True),
        sa.Column("issued_on", sa.Date, nullable=False),
        sa.Column("issued_at", AwareDateTime, nullable=False),
        sa.Column("issued_by", sa.String(100), nullable=True),
        sa.Column("note", sa.Text, nullable=True),
        sa.Column("document", sa.JSON, nullable=False),
    )
    op.create_table(
        "occurrences",
        sa.Column("occurrence_id", sa.String(40), primary_key=True),
        sa.Column("plan_id", sa.String(100), nullable=False),
        sa.Column("revision", sa.Integer, nullable=False),
        sa.Column("unit_id", sa.String(100), nullable=False),
        sa.Column("item_id", sa.String(100), nullable=False),
        sa.Column("period", sa.String(16), nullable=False),
        sa.Column("start_date", sa.Date, nullable=True),
        sa.Column("due_date", sa.Date, nullable=True),
        sa.Column("output", sa.String(32), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("done_on", sa.Date, nullable=True),
        sa.Column("on_time", sa.Boolean, nullable=True),
        sa.Column("evidence", sa.Text, nullable=True),
        sa.Column("withdrawn_reason", sa.String(32), nullable=True),
        sa.Column("updated_at", AwareDateTime, nullable=False),
        sa.Column("updated_by", sa.String(100), nullable=True),
    )
    op.create_index("ix_occurrences_plan_unit", "occurrences", ["plan_id", "unit_id"])
    op.create_index("ix_occurrences_unit_status", "occurrences", ["unit_id", "status"])
    op.create_table(
        "individual_plans",
        sa.Column("individual_plan_id", sa.String(100), primary_key=True),
        sa.Column("person_id", sa.String(100), nullable=False),
        sa.Column("year", sa.Integer, nullable=False),
        sa.Column("unit_id", sa.String(100), nullable=False),
        sa.Column("parent_plan_id", sa.String(100), nullable=True),
        sa.Column("commitments", sa.JSON, nullable=False),
        sa.Column("submitted_on", sa.Date, nullable=False),
        sa.Column("results", sa.Text, nullable=True),
        sa.Column("rating", sa.String(16), nullable=True),
        sa.Column("assessed_on", sa.Date, nullable=True),
        sa.Column("supplement", sa.JSON, nullable=False),
        sa.Column("updated_at", AwareDateTime, nullable=False),
        sa.UniqueConstraint("person_id", "year", name="uq_individual_plans_person_year"),
    )
    op.create_index("ix_individual_plans_unit_id", "individual_plans", ["unit_id"])
    op.create_table(
        "import_parts",
        sa.Column("import_id", sa.String(100), primary_key=True),
        sa.Column("part", sa.Integer, primary_key=True),
        sa.Column("parts", sa.Integer, nullable=False),
        sa.Column("csv", sa.Text, nullable=False),
        sa.Column("created_at", AwareDateTime, nullable=False),
    )


def downgrade() -> None:
    for table in ("import_parts", "individual_plans", "occurrences", "plan_revisions", "plans", "reminders"):
        op.drop_table(table)
    op.create_table(
        "units",
        sa.Column("unit_id", sa.String(100), primary_key=True),
        sa.Column("code", sa.String(64), nullable=False, unique=True),
        sa.Column("name", sa.String(500), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("parent_id", sa.String(100), nullable=True, index=True),
        sa.Column("effective_from", sa.Date, nullable=False),
    )
    op.create_table(
        "people",
        sa.Column("person_id", sa.String(100), primary_key=True),
        sa.Column("unit_id", sa.String(100), nullable=False, index=True),
        sa.Column("full_name", sa.String(500), nullable=False),
        sa.Column("roles", sa.JSON, nullable=False),
        sa.Column("email", sa.String(254), nullable=True),
        sa.Column("phone", sa.String(32), nullable=True),
    )
    # History does not fit the old tables: each unit keeps its first registration.
    op.execute("INSERT INTO units (unit_id, code, name, kind, parent_id, effective_from) "
               "SELECT u.unit_id, u.code, u.name, u.kind, p.parent_id, u.registered_on FROM dir_units u "
               "JOIN dir_parents p ON p.unit_id = u.unit_id AND p.valid_from = u.registered_on")
    op.execute("INSERT INTO people (person_id, unit_id, full_name, roles, email, phone) "
               "SELECT person_id, unit_id, full_name, roles, email, phone FROM dir_people")
    op.drop_index("ux_dir_units_code", "dir_units")
    for table in ("dir_people", "dir_parents", "dir_units"):
        op.drop_table(table)
