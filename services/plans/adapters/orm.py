"""Tables of the plans service.

The organisation directory is kept in the shared directory tables of runtime.directory
(dir_units, dir_parents — effective-dated —, dir_people): plans is their authoritative owner and
the other services project the same tables from plans' events. Scheduler reminders live in
runtime.scheduler's `reminders` table. The rest is plans' own."""

from __future__ import annotations

import sqlalchemy as sa

from runtime.db import AwareDateTime
from runtime.directory import dir_parents, dir_people, dir_units
from runtime.scheduler import reminders

metadata = sa.MetaData()

plans = sa.Table(
    "plans", metadata,
    sa.Column("plan_id", sa.String(100), primary_key=True),
    sa.Column("kind", sa.String(16), nullable=False),  # plan | implementation (registered, no items)
    sa.Column("number", sa.String(64), nullable=False),
    sa.Column("title", sa.String(500), nullable=False),
    sa.Column("issuer_unit_id", sa.String(100), nullable=False, index=True),
    sa.Column("parent_plan_id", sa.String(100), nullable=True, index=True),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("current_revision", sa.Integer, nullable=False),
    sa.Column("document", sa.JSON, nullable=False),  # the draft, or the current revision's document
    sa.Column("year", sa.Integer, nullable=True),  # implementation plans: the year planned
    sa.Column("issued_on", sa.Date, nullable=True),
    sa.Column("closed_on", sa.Date, nullable=True),
    sa.Column("materialized_to", sa.Integer, nullable=True),
    sa.Column("created_at", AwareDateTime, nullable=False),
    sa.Column("updated_at", AwareDateTime, nullable=False),
    sa.Column("created_by", sa.String(100), nullable=True),
)

plan_revisions = sa.Table(
    "plan_revisions", metadata,
    sa.Column("plan_id", sa.String(100), primary_key=True),
    sa.Column("revision", sa.Integer, primary_key=True),
    sa.Column("issued_on", sa.Date, nullable=False),
    sa.Column("issued_at", AwareDateTime, nullable=False),
    sa.Column("issued_by", sa.String(100), nullable=True),
    sa.Column("note", sa.Text, nullable=True),
    sa.Column("document", sa.JSON, nullable=False),
)

occurrences = sa.Table(
    "occurrences", metadata,
    sa.Column("occurrence_id", sa.String(40), primary_key=True),
    sa.Column("plan_id", sa.String(100), nullable=False),
    sa.Column("revision", sa.Integer, nullable=False),  # the revision that last set its terms
    sa.Column("unit_id", sa.String(100), nullable=False),
    sa.Column("item_id", sa.String(100), nullable=False),
    sa.Column("period", sa.String(16), nullable=False),
    sa.Column("start_date", sa.Date, nullable=True),
    sa.Column("due_date", sa.Date, nullable=True),
    sa.Column("output", sa.String(32), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),  # open | in_progress | done | withdrawn
    sa.Column("done_on", sa.Date, nullable=True),
    sa.Column("on_time", sa.Boolean, nullable=True),
    sa.Column("evidence", sa.Text, nullable=True),
    sa.Column("withdrawn_reason", sa.String(32), nullable=True),
    sa.Column("updated_at", AwareDateTime, nullable=False),
    sa.Column("updated_by", sa.String(100), nullable=True),
)
sa.Index("ix_occurrences_plan_unit", occurrences.c.plan_id, occurrences.c.unit_id)
sa.Index("ix_occurrences_unit_status", occurrences.c.unit_id, occurrences.c.status)

individual_plans = sa.Table(
    "individual_plans", metadata,
    sa.Column("individual_plan_id", sa.String(100), primary_key=True),
    sa.Column("person_id", sa.String(100), nullable=False),
    sa.Column("year", sa.Integer, nullable=False),
    sa.Column("unit_id", sa.String(100), nullable=False, index=True),
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

import_parts = sa.Table(
    "import_parts", metadata,
    sa.Column("import_id", sa.String(100), primary_key=True),
    sa.Column("part", sa.Integer, primary_key=True),
    sa.Column("parts", sa.Integer, nullable=False),
    sa.Column("csv", sa.Text, nullable=False),
    sa.Column("created_at", AwareDateTime, nullable=False),
)

# Reporting requirements that reports opened from a plan item (reports' requirement.opened with a
# source): which item, and which period, a unit's report for the requirement completes.
report_requirements = sa.Table(
    "report_requirements", metadata,
    sa.Column("requirement_id", sa.String(100), primary_key=True),
    sa.Column("plan_id", sa.String(100), nullable=False),
    sa.Column("item_id", sa.String(100), nullable=False),
    sa.Column("period", sa.String(16), nullable=False),
    sa.Column("recorded_at", AwareDateTime, nullable=False),
)

# Where each unit's report for such a requirement last stood, as reports' events said (revision and
# stage): an event older than it — handled late by another replica, or replayed from the dead
# letters — changes nothing.
report_progress = sa.Table(
    "report_progress", metadata,
    sa.Column("requirement_id", sa.String(100), primary_key=True),
    sa.Column("unit_id", sa.String(100), primary_key=True),
    sa.Column("report_id", sa.String(100), nullable=False),
    sa.Column("revision", sa.Integer, nullable=False),
    sa.Column("stage", sa.String(16), nullable=False),  # submitted | accepted | returned
    sa.Column("updated_at", AwareDateTime, nullable=False),
)

__all__ = ["metadata", "plans", "plan_revisions", "occurrences", "individual_plans", "import_parts", "dir_units",
           "dir_parents", "dir_people", "reminders", "report_requirements", "report_progress"]

# Logins of people (README "Security"). Expiries and backoff are on the wall clock
# (runtime.clock.wall_now): a moved demo clock must not stretch a session or a lockout.
logins = sa.Table(
    "logins", metadata,
    sa.Column("person_id", sa.String(100), primary_key=True),
    sa.Column("username", sa.String(100), nullable=False, unique=True),
    sa.Column("password_hash", sa.Text, nullable=False),
    sa.Column("must_change", sa.Boolean, nullable=False),
    sa.Column("failed_attempts", sa.Integer, nullable=False),
    sa.Column("locked_until", AwareDateTime, nullable=True),
    sa.Column("last_login_at", AwareDateTime, nullable=True),
    sa.Column("password_changed_at", AwareDateTime, nullable=False),
    sa.Column("updated_by", sa.String(100), nullable=True),
)

# Refresh tokens, stored as SHA-256 digests (they are 256-bit random: a slow hash adds nothing).
# Each is good once: using it makes the next one of its family; using it twice revokes the family.
refresh_tokens = sa.Table(
    "refresh_tokens", metadata,
    sa.Column("token_hash", sa.String(64), primary_key=True),
    sa.Column("family_id", sa.String(40), nullable=False, index=True),
    sa.Column("person_id", sa.String(100), nullable=False, index=True),
    sa.Column("issued_at", AwareDateTime, nullable=False),
    sa.Column("expires_at", AwareDateTime, nullable=False),
    sa.Column("used_at", AwareDateTime, nullable=True),
    sa.Column("revoked_at", AwareDateTime, nullable=True),
)
