"""awards: directory projection, facts of reports and individual plans, award forms catalogue,
rounds, nominations with their routes, decisions, awards, exemplary models, reminders

The first projection (unit_standing: one row per unit and period) becomes facts per report
revision (report_facts); its rows are carried over as submitted revisions of a "legacy" report.

Revision ID: 0002
Revises: 0001
"""
import hashlib

import sqlalchemy as sa
from alembic import op

from runtime.db import AwareDateTime
from runtime.directory import create_directory_tables
from runtime.scheduler import create_scheduler_tables

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

BOTH = ["collective", "individual"]
COLLECTIVE = ["collective"]
# The catalogue of award forms as first shipped (data: add rows for more forms).
FORMS = [
    {"code": "bieu_duong", "name": "Biểu dương", "rank": 10, "nominee_kinds": BOTH,
     "granted_by": ["grassroots_union", "upper_level_union", "provincial_federation", "national_federation"]},
    {"code": "giay_khen", "name": "Giấy khen", "rank": 20, "nominee_kinds": BOTH,
     "granted_by": ["grassroots_union", "upper_level_union"]},
    {"code": "bang_khen_ldld_tinh", "name": "Bằng khen của Ban Chấp hành Liên đoàn Lao động tỉnh", "rank": 30,
     "nominee_kinds": BOTH, "granted_by": ["provincial_federation"]},
    {"code": "co_thi_dua_ldld_tinh", "name": "Cờ thi đua của Ban Chấp hành Liên đoàn Lao động tỉnh", "rank": 35,
     "nominee_kinds": COLLECTIVE, "granted_by": ["provincial_federation"]},
    {"code": "bang_khen_tong_ldld", "name": "Bằng khen của Ban Chấp hành Tổng Liên đoàn Lao động Việt Nam", "rank": 40,
     "nominee_kinds": BOTH, "granted_by": ["national_federation"]},
    {"code": "co_thi_dua_tong_ldld", "name": "Cờ thi đua của Ban Chấp hành Tổng Liên đoàn Lao động Việt Nam",
     "rank": 45, "nominee_kinds": COLLECTIVE, "granted_by": ["national_federation"]},
]


def upgrade() -> None:
    create_directory_tables(op)
    create_scheduler_tables(op)
    report_facts = op.create_table(
        "report_facts",
        sa.Column("report_id", sa.String(100), primary_key=True),
        sa.Column("revision", sa.Integer, primary_key=True),
        sa.Column("requirement_id", sa.String(100), nullable=False),
        sa.Column("unit_id", sa.String(100), nullable=False),
        sa.Column("period", sa.String(16), nullable=False),
        sa.Column("submitted_at", AwareDateTime, nullable=True),
        sa.Column("submitted_on_time", sa.Boolean, nullable=True),
        sa.Column("returned_at", AwareDateTime, nullable=True),
        sa.Column("accepted_at", AwareDateTime, nullable=True),
        sa.Column("accepted_on_time", sa.Boolean, nullable=True),
    )
    op.create_index("ix_report_facts_unit_period", "report_facts", ["unit_id", "period"])
    op.create_table(
        "plan_assessments",
        sa.Column("individual_plan_id", sa.String(100), primary_key=True),
        sa.Column("person_id", sa.String(100), nullable=False),
        sa.Column("unit_id", sa.String(100), nullable=False),
        sa.Column("year", sa.Integer, nullable=False),
        sa.Column("rating", sa.String(16), nullable=False),
        sa.Column("assessed_on", sa.Date, nullable=False),
        sa.Column("version", sa.String(300), nullable=False),
    )
    op.create_index("ix_plan_assessments_person_year", "plan_assessments", ["person_id", "year"])
    op.create_table(
        "round_sources",
        sa.Column("plan_id", sa.String(100), primary_key=True),
        sa.Column("item_id", sa.String(100), primary_key=True),
        sa.Column("plan_revision", sa.Integer, nullable=False),
        sa.Column("plan_number", sa.String(64), nullable=False),
        sa.Column("issuer_unit_id", sa.String(100), nullable=False),
        sa.Column("issued_on", sa.Date, nullable=False),
        sa.Column("content", sa.Text, nullable=False),
        sa.Column("timing", sa.JSON, nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
    )
    op.create_table(
        "plan_closures",
        sa.Column("plan_id", sa.String(100), primary_key=True),
        sa.Column("closed_on", sa.Date, nullable=False),
    )
    forms = op.create_table(
        "award_forms",
        sa.Column("code", sa.String(100), primary_key=True),
        sa.Column("name", sa.String(500), nullable=False),
        sa.Column("rank", sa.Integer, nullable=False),
        sa.Column("nominee_kinds", sa.JSON, nullable=False),
        sa.Column("granted_by", sa.JSON, nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
    )
    op.bulk_insert(forms, [{**f, "active": True} for f in FORMS])
    op.create_table(
        "rounds",
        sa.Column("round_id", sa.String(100), primary_key=True),
        sa.Column("name", sa.String(500), nullable=False),
        sa.Column("level", sa.String(500), nullable=False),
        sa.Column("issuer_unit_id", sa.String(100), nullable=False),
        sa.Column("year", sa.Integer, nullable=False),
        sa.Column("opens_on", sa.Date, nullable=False),
        sa.Column("closes_on", sa.Date, nullable=False),
        sa.Column("anchor_on", sa.Date, nullable=True),
        sa.Column("report_period", sa.String(16), nullable=False),
        sa.Column("require_report_accepted", sa.Boolean, nullable=False),
        sa.Column("requirement_id", sa.String(100), nullable=True),
        sa.Column("min_rating", sa.String(16), nullable=False),
        sa.Column("collective_categories", sa.JSON, nullable=False),
        sa.Column("individual_categories", sa.JSON, nullable=False),
        sa.Column("forms", sa.JSON, nullable=False),
        sa.Column("quotas", sa.JSON, nullable=False),
        sa.Column("opened_at", AwareDateTime, nullable=False),
        sa.Column("opened_by", sa.String(100), nullable=True),
        sa.Column("source_plan_id", sa.String(100), nullable=True),
        sa.Column("source_item_id", sa.String(100), nullable=True),
        sa.UniqueConstraint("source_plan_id", "source_item_id", "year", name="uq_rounds_source_year"),
    )
    op.create_index("ix_rounds_issuer_unit_id", "rounds", ["issuer_unit_id"])
    op.create_table(
        "nominations",
        sa.Column("nomination_id", sa.String(100), primary_key=True),
        sa.Column("round_id", sa.String(100), nullable=False),
        sa.Column("by_unit_id", sa.String(100), nullable=False),
        sa.Column("nominee_kind", sa.String(16), nullable=False),
        sa.Column("nominee_id", sa.String(100), nullable=False),
        sa.Column("nominee_name", sa.String(500), nullable=False),
        sa.Column("nominee_unit_id", sa.String(100), nullable=False),
        sa.Column("category", sa.String(500), nullable=True),
        sa.Column("form", sa.String(100), nullable=False),
        sa.Column("achievements", sa.Text, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("at_unit_id", sa.String(100), nullable=True),
        sa.Column("route", sa.JSON, nullable=False),
        sa.Column("place_key", sa.String(320), nullable=True, unique=True),
        sa.Column("eligible_at_submission", sa.Boolean, nullable=False),
        sa.Column("reasons_at_submission", sa.JSON, nullable=False),
        sa.Column("submitted_at", AwareDateTime, nullable=False),
        sa.Column("submitted_by", sa.String(100), nullable=False),
        sa.Column("council_result", sa.String(16), nullable=True),
        sa.Column("council_form", sa.String(100), nullable=True),
        sa.Column("council_note", sa.Text, nullable=True),
        sa.Column("decided_on", sa.Date, nullable=True),
        sa.Column("decided_by", sa.String(100), nullable=True),
        sa.Column("decision_id", sa.String(100), nullable=True),
        sa.Column("award_id", sa.String(100), nullable=True),
        sa.Column("trail", sa.JSON, nullable=False),
    )
    op.create_index("ix_nominations_round_status", "nominations", ["round_id", "status"])
    op.create_index("ix_nominations_round_at", "nominations", ["round_id", "at_unit_id"])
    op.create_table(
        "nomination_route",
        sa.Column("nomination_id", sa.String(100), primary_key=True),
        sa.Column("unit_id", sa.String(100), primary_key=True),
        sa.Column("round_id", sa.String(100), nullable=False),
    )
    op.create_index("ix_nomination_route_round_unit", "nomination_route", ["round_id", "unit_id"])
    op.create_table(
        "decisions",
        sa.Column("decision_id", sa.String(100), primary_key=True),
        sa.Column("round_id", sa.String(100), nullable=False),
        sa.Column("issuer_unit_id", sa.String(100), nullable=False),
        sa.Column("number", sa.String(500), nullable=False),
        sa.Column("decision_date", sa.Date, nullable=False),
        sa.Column("signer", sa.String(500), nullable=False),
        sa.Column("nomination_ids", sa.JSON, nullable=False),
        sa.Column("issued_at", AwareDateTime, nullable=False),
        sa.Column("issued_by", sa.String(100), nullable=False),
        sa.UniqueConstraint("issuer_unit_id", "number", name="uq_decisions_issuer_number"),
    )
    op.create_index("ix_decisions_round_id", "decisions", ["round_id"])
    op.create_table(
        "awards",
        sa.Column("award_id", sa.String(100), primary_key=True),
        sa.Column("decision_id", sa.String(100), nullable=False),
        sa.Column("round_id", sa.String(100), nullable=False),
        sa.Column("round_name", sa.String(500), nullable=False),
        sa.Column("nomination_id", sa.String(100), nullable=False, unique=True),
        sa.Column("nominee_kind", sa.String(16), nullable=False),
        sa.Column("nominee_id", sa.String(100), nullable=False),
        sa.Column("nominee_name", sa.String(500), nullable=False),
        sa.Column("unit_id", sa.String(100), nullable=False),
        sa.Column("form", sa.String(100), nullable=False),
        sa.Column("form_name", sa.String(500), nullable=False),
        sa.Column("category", sa.String(500), nullable=True),
        sa.Column("decision_number", sa.String(500), nullable=False),
        sa.Column("decision_date", sa.Date, nullable=False),
        sa.Column("signer", sa.String(500), nullable=False),
        sa.Column("year", sa.Integer, nullable=False),
    )
    op.create_index("ix_awards_nominee", "awards", ["nominee_kind", "nominee_id"])
    op.create_index("ix_awards_unit", "awards", ["unit_id"])
    op.create_table(
        "exemplary_models",
        sa.Column("model_id", sa.String(100), primary_key=True),
        sa.Column("unit_id", sa.String(100), nullable=False),
        sa.Column("person_id", sa.String(100), nullable=True),
        sa.Column("title", sa.String(500), nullable=False),
        sa.Column("story", sa.Text, nullable=False),
        sa.Column("year", sa.Integer, nullable=False),
        sa.Column("award_id", sa.String(100), nullable=True),
        sa.Column("registered_at", AwareDateTime, nullable=False),
        sa.Column("registered_by", sa.String(100), nullable=False),
    )
    op.create_index("ix_exemplary_models_unit_id", "exemplary_models", ["unit_id"])
    op.create_index("ix_exemplary_models_person_id", "exemplary_models", ["person_id"])
    op.create_index("ix_exemplary_models_year", "exemplary_models", ["year"])

    # Carry the first projection over: each (unit, period) standing becomes one submitted revision.
    bind = op.get_bind()
    old = bind.execute(sa.text("SELECT unit_id, period, report_submitted, report_on_time, last_revision "
                               "FROM unit_standing")).all()
    rows = []
    for r in old:
        if not r.report_submitted:
            continue
        report_id = f"legacy:{r.period}:{r.unit_id}"
        if len(report_id) > 100:
            report_id = "legacy:" + hashlib.sha1(f"{r.period}|{r.unit_id}".encode()).hexdigest()
        rows.append({"report_id": report_id, "revision": max(int(r.last_revision), 1), "requirement_id": "legacy",
                     "unit_id": r.unit_id, "period": r.period, "submitted_on_time": bool(r.report_on_time)})
    if rows:
        op.bulk_insert(report_facts, rows)
    op.drop_table("unit_standing")


def downgrade() -> None:
    op.create_table(
        "unit_standing",
        sa.Column("unit_id", sa.String(100), primary_key=True),
        sa.Column("period", sa.String(16), primary_key=True),
        sa.Column("report_submitted", sa.Boolean, nullable=False),
        sa.Column("report_on_time", sa.Boolean, nullable=False),
        sa.Column("last_revision", sa.Integer, nullable=False),
    )
    for table in ("exemplary_models", "awards", "decisions", "nomination_route", "nominations", "rounds",
                  "award_forms", "plan_closures", "round_sources", "plan_assessments", "report_facts", "reminders", "dir_people",
                  "dir_parents", "dir_units"):
        op.drop_table(table)
