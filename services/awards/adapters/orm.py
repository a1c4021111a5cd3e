"""The awards service's tables (SQLAlchemy Core). The directory projection (dir_units, dir_parents,
dir_people) and the reminders table are the runtime's, created by the migrations too."""

from __future__ import annotations

import sqlalchemy as sa

from runtime.db import AwareDateTime

metadata = sa.MetaData()

# --- facts heard from other services ---------------------------------------------------------

report_facts = sa.Table(
    "report_facts", metadata,
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
    sa.Index("ix_report_facts_unit_period", "unit_id", "period"),
)

plan_assessments = sa.Table(
    "plan_assessments", metadata,
    sa.Column("individual_plan_id", sa.String(100), primary_key=True),
    sa.Column("person_id", sa.String(100), nullable=False),
    sa.Column("unit_id", sa.String(100), nullable=False),
    sa.Column("year", sa.Integer, nullable=False),
    sa.Column("rating", sa.String(16), nullable=False),
    sa.Column("assessed_on", sa.Date, nullable=False),
    sa.Column("version", sa.String(300), nullable=False),
    sa.Index("ix_plan_assessments_person_year", "person_id", "year"),
)

# Plan items whose output is an award round: what the reminders open rounds from.
round_sources = sa.Table(
    "round_sources", metadata,
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

plan_closures = sa.Table(
    "plan_closures", metadata,
    sa.Column("plan_id", sa.String(100), primary_key=True),
    sa.Column("closed_on", sa.Date, nullable=False),
)

# --- the service's own state -----------------------------------------------------------------

award_forms = sa.Table(
    "award_forms", metadata,
    sa.Column("code", sa.String(100), primary_key=True),
    sa.Column("name", sa.String(500), nullable=False),
    sa.Column("rank", sa.Integer, nullable=False),
    sa.Column("nominee_kinds", sa.JSON, nullable=False),
    sa.Column("granted_by", sa.JSON, nullable=False),
    sa.Column("active", sa.Boolean, nullable=False),
)

rounds = sa.Table(
    "rounds", metadata,
    sa.Column("round_id", sa.String(100), primary_key=True),
    sa.Column("name", sa.String(500), nullable=False),
    sa.Column("level", sa.String(500), nullable=False),
    sa.Column("issuer_unit_id", sa.String(100), nullable=False, index=True),
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

nominations = sa.Table(
    "nominations", metadata,
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
    # Unique while the nominee's place in the round is taken: one nomination per nominee per round.
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
    # An escalation to a form the level above grants: the nomination it made in the higher
    # level's round (escalated_to), and on that one the nomination it came from (escalated_from).
    sa.Column("escalated_from", sa.String(100), nullable=True, index=True),
    sa.Column("escalated_to", sa.String(100), nullable=True),
    sa.Index("ix_nominations_round_status", "round_id", "status"),
    sa.Index("ix_nominations_round_at", "round_id", "at_unit_id"),
)

# One row per unit on a nomination's route (the nominating unit and its ancestors below the
# issuing unit), for the quota counts.
nomination_route = sa.Table(
    "nomination_route", metadata,
    sa.Column("nomination_id", sa.String(100), primary_key=True),
    sa.Column("unit_id", sa.String(100), primary_key=True),
    sa.Column("round_id", sa.String(100), nullable=False),
    sa.Index("ix_nomination_route_round_unit", "round_id", "unit_id"),
)

decisions = sa.Table(
    "decisions", metadata,
    sa.Column("decision_id", sa.String(100), primary_key=True),
    sa.Column("round_id", sa.String(100), nullable=False, index=True),
    sa.Column("issuer_unit_id", sa.String(100), nullable=False),
    sa.Column("number", sa.String(500), nullable=False),
    sa.Column("decision_date", sa.Date, nullable=False),
    sa.Column("signer", sa.String(500), nullable=False),
    sa.Column("nomination_ids", sa.JSON, nullable=False),
    sa.Column("issued_at", AwareDateTime, nullable=False),
    sa.Column("issued_by", sa.String(100), nullable=False),
    sa.UniqueConstraint("issuer_unit_id", "number", name="uq_decisions_issuer_number"),
)

awards = sa.Table(
    "awards", metadata,
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
    sa.Index("ix_awards_nominee", "nominee_kind", "nominee_id"),
    sa.Index("ix_awards_unit", "unit_id"),
)

exemplary_models = sa.Table(
    "exemplary_models", metadata,
    sa.Column("model_id", sa.String(100), primary_key=True),
    sa.Column("unit_id", sa.String(100), nullable=False, index=True),
    sa.Column("person_id", sa.String(100), nullable=True, index=True),
    sa.Column("title", sa.String(500), nullable=False),
    sa.Column("story", sa.Text, nullable=False),
    sa.Column("year", sa.Integer, nullable=False, index=True),
    sa.Column("award_id", sa.String(100), nullable=True),
    sa.Column("registered_at", AwareDateTime, nullable=False),
    sa.Column("registered_by", sa.String(100), nullable=False),
)
