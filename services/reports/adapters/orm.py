"""The reports service's tables (SQLAlchemy Core: the request path maps rows itself, see
repository.py). The directory projection (dir_units, dir_parents, dir_people) and the reminders
are the shared tables of runtime.directory and runtime.scheduler."""

from __future__ import annotations

import sqlalchemy as sa

from runtime.db import AwareDateTime

metadata = sa.MetaData()

requirements = sa.Table(
    "requirements", metadata,
    sa.Column("requirement_id", sa.String(100), primary_key=True),
    sa.Column("name", sa.String(500), nullable=False),
    sa.Column("content", sa.Text, nullable=True),
    sa.Column("issuer_unit_id", sa.String(100), nullable=False),
    sa.Column("receiving_unit_id", sa.String(100), nullable=False),
    sa.Column("receiving_department", sa.String(500), nullable=True),
    sa.Column("reporting_kinds", sa.JSON, nullable=False),
    sa.Column("period", sa.String(16), nullable=False),
    sa.Column("due_date", sa.Date, nullable=False),
    sa.Column("grace_days", sa.Integer, nullable=False),
    sa.Column("cutoff_date", sa.Date, nullable=True),
    sa.Column("hierarchy_as_of", sa.Date, nullable=True),
    sa.Column("form_id", sa.String(100), nullable=False),
    sa.Column("form_version", sa.Integer, nullable=False),
    sa.Column("reminder_days", sa.JSON, nullable=False),
    sa.Column("source_plan_id", sa.String(100), nullable=True),
    sa.Column("source_item_id", sa.String(100), nullable=True),
    sa.Column("opened_at", AwareDateTime, nullable=False),
    sa.Column("opened_by", sa.String(100), nullable=True),
    # A plan's item opens one requirement per period, however often plan.issued is replayed.
    sa.UniqueConstraint("source_plan_id", "source_item_id", "period", name="uq_requirement_per_plan_item_period"),
    sa.Index("ix_requirements_issuer_period", "issuer_unit_id", "period"),
)

forms = sa.Table(
    "forms", metadata,
    sa.Column("form_id", sa.String(100), primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("definition", sa.JSON, nullable=False),
    sa.Column("registered_at", AwareDateTime, nullable=False),
    sa.Column("registered_by", sa.String(100), nullable=True),
)

reports = sa.Table(
    "reports", metadata,
    sa.Column("report_id", sa.String(100), primary_key=True),
    sa.Column("requirement_id", sa.String(100), nullable=False),
    sa.Column("period", sa.String(16), nullable=False),
    sa.Column("unit_id", sa.String(100), nullable=False),
    sa.Column("receiving_unit_id", sa.String(100), nullable=True),
    sa.Column("revision", sa.Integer, nullable=False),
    sa.Column("submitted_at", AwareDateTime, nullable=True),
    sa.Column("due_date", sa.Date, nullable=True),
    sa.Column("on_time", sa.Boolean, nullable=True),
    sa.Column("values", sa.JSON, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("first_submitted_at", AwareDateTime, nullable=True),
    sa.Column("form_id", sa.String(100), nullable=True),
    sa.Column("form_version", sa.Integer, nullable=True),
    sa.Column("submission_id", sa.String(100), nullable=True),
    sa.Column("submitted_by", sa.String(100), nullable=True),
    # The numbers of `values` alone: what consolidation reads for every report (the narratives,
    # most of the bytes, are read only for the units a document quotes).
    sa.Column("figures", sa.JSON, nullable=True),
    sa.Column("draft_values", sa.JSON, nullable=True),
    sa.Column("draft_saved_at", AwareDateTime, nullable=True),
    sa.Column("review_comment", sa.Text, nullable=True),
    sa.Column("reviewed_at", AwareDateTime, nullable=True),
    sa.Column("reviewed_by", sa.String(100), nullable=True),
    sa.Column("reviewed_by_unit_id", sa.String(100), nullable=True),
    sa.UniqueConstraint("requirement_id", "period", "unit_id", name="uq_report_per_unit_period"),
)

report_reviews = sa.Table(
    "report_reviews", metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True),
    sa.Column("report_id", sa.String(100), nullable=False, index=True),
    sa.Column("revision", sa.Integer, nullable=False),
    sa.Column("action", sa.String(16), nullable=False),
    sa.Column("by_unit_id", sa.String(100), nullable=False),
    sa.Column("actor_id", sa.String(100), nullable=True),
    sa.Column("comment", sa.Text, nullable=True),
    sa.Column("at", AwareDateTime, nullable=False),
)

# Every submitted revision of a report, kept for good: its values, who submitted it and when. The
# reports row holds the latest; an accepted report changes only after its receiver reopens it.
report_revisions = sa.Table(
    "report_revisions", metadata,
    sa.Column("report_id", sa.String(100), primary_key=True),
    sa.Column("revision", sa.Integer, primary_key=True),
    sa.Column("values", sa.JSON, nullable=False),
    sa.Column("submitted_at", AwareDateTime, nullable=False),
    sa.Column("submitted_by", sa.String(100), nullable=True),
    sa.Column("on_time", sa.Boolean, nullable=True),
    sa.Column("form_id", sa.String(100), nullable=True),
    sa.Column("form_version", sa.Integer, nullable=True),
    sa.Column("submission_id", sa.String(100), nullable=True),
)

# The files of a consolidation (the DOCX report, the XLSX tables), kept with its record: any replica
# serves them to any client through get_export, under the access policy (see README, Exports).
exports = sa.Table(
    "exports", metadata,
    sa.Column("export_id", sa.String(100), primary_key=True),
    sa.Column("consolidation_id", sa.String(100), nullable=False, index=True),
    sa.Column("requirement_id", sa.String(100), nullable=False),
    sa.Column("unit_id", sa.String(100), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("media_type", sa.String(200), nullable=False),
    sa.Column("size", sa.Integer, nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False),
    sa.Column("content", sa.LargeBinary, nullable=False),
    sa.Column("created_at", AwareDateTime, nullable=False),
)

consolidations = sa.Table(
    "consolidations", metadata,
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
