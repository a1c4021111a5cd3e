"""awards: the directory projection, facts of reports and individual plans, the award forms
catalogue, rounds, nominations with their routes, decisions, awards, exemplary models; the
outbox, inbox and scheduler reminders every service carries.

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
    op.create_table('award_forms',
    sa.Column('code', sa.String(length=100), nullable=False),
    sa.Column('name', sa.String(length=500), nullable=False),
    sa.Column('rank', sa.Integer(), nullable=False),
    sa.Column('nominee_kinds', sa.JSON(), nullable=False),
    sa.Column('granted_by', sa.JSON(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('code')
    )
    op.create_table('awards',
    sa.Column('award_id', sa.String(length=100), nullable=False),
    sa.Column('decision_id', sa.String(length=100), nullable=False),
    sa.Column('round_id', sa.String(length=100), nullable=False),
    sa.Column('round_name', sa.String(length=500), nullable=False),
    sa.Column('nomination_id', sa.String(length=100), nullable=False),
    sa.Column('nominee_kind', sa.String(length=16), nullable=False),
    sa.Column('nominee_id', sa.String(length=100), nullable=False),
    sa.Column('nominee_name', sa.String(length=500), nullable=False),
    sa.Column('unit_id', sa.String(length=100), nullable=False),
    sa.Column('form', sa.String(length=100), nullable=False),
    sa.Column('form_name', sa.String(length=500), nullable=False),
    sa.Column('category', sa.String(length=500), nullable=True),
    sa.Column('decision_number', sa.String(length=500), nullable=False),
    sa.Column('decision_date', sa.Date(), nullable=False),
    sa.Column('signer', sa.String(length=500), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('award_id'),
    sa.UniqueConstraint('nomination_id')
    )
    op.create_index('ix_awards_nominee', 'awards', ['nominee_kind', 'nominee_id'], unique=False)
    op.create_index('ix_awards_unit', 'awards', ['unit_id'], unique=False)
    op.create_table('decisions',
    sa.Column('decision_id', sa.String(length=100), nullable=False),
    sa.Column('round_id', sa.String(length=100), nullable=False),
    sa.Column('issuer_unit_id', sa.String(length=100), nullable=False),
    sa.Column('number', sa.String(length=500), nullable=False),
    sa.Column('decision_date', sa.Date(), nullable=False),
    sa.Column('signer', sa.String(length=500), nullable=False),
    sa.Column('nomination_ids', sa.JSON(), nullable=False),
    sa.Column('issued_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('issued_by', sa.String(length=100), nullable=False),
    sa.PrimaryKeyConstraint('decision_id'),
    sa.UniqueConstraint('issuer_unit_id', 'number', name='uq_decisions_issuer_number')
    )
    op.create_index(op.f('ix_decisions_round_id'), 'decisions', ['round_id'], unique=False)
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
    op.create_table('exemplary_models',
    sa.Column('model_id', sa.String(length=100), nullable=False),
    sa.Column('unit_id', sa.String(length=100), nullable=False),
    sa.Column('person_id', sa.String(length=100), nullable=True),
    sa.Column('title', sa.String(length=500), nullable=False),
    sa.Column('story', sa.Text(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('award_id', sa.String(length=100), nullable=True),
    sa.Column('registered_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('registered_by', sa.String(length=100), nullable=False),
    sa.PrimaryKeyConstraint('model_id')
    )
    op.create_index(op.f('ix_exemplary_models_person_id'), 'exemplary_models', ['person_id'], unique=False)
    op.create_index(op.f('ix_exemplary_models_unit_id'), 'exemplary_models', ['unit_id'], unique=False)
    op.create_index(op.f('ix_exemplary_models_year'), 'exemplary_models', ['year'], unique=False)
    op.create_table('inbox',
    sa.Column('consumer', sa.String(length=128), nullable=False),
    sa.Column('event_id', sa.String(length=128), nullable=False),
    sa.Column('event_type', sa.String(length=256), nullable=False),
    sa.Column('processed_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('consumer', 'event_id')
    )
    op.create_table('nomination_route',
    sa.Column('nomination_id', sa.String(length=100), nullable=False),
    sa.Column('unit_id', sa.String(length=100), nullable=False),
    sa.Column('round_id', sa.String(length=100), nullable=False),
    sa.PrimaryKeyConstraint('nomination_id', 'unit_id')
    )
    op.create_index('ix_nomination_route_round_unit', 'nomination_route', ['round_id', 'unit_id'], unique=False)
    op.create_table('nominations',
    sa.Column('nomination_id', sa.String(length=100), nullable=False),
    sa.Column('round_id', sa.String(length=100), nullable=False),
    sa.Column('by_unit_id', sa.String(length=100), nullable=False),
    sa.Column('nominee_kind', sa.String(length=16), nullable=False),
    sa.Column('nominee_id', sa.String(length=100), nullable=False),
    sa.Column('nominee_name', sa.String(length=500), nullable=False),
    sa.Column('nominee_unit_id', sa.String(length=100), nullable=False),
    sa.Column('category', sa.String(length=500), nullable=True),
    sa.Column('form', sa.String(length=100), nullable=False),
    sa.Column('achievements', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('at_unit_id', sa.String(length=100), nullable=True),
    sa.Column('route', sa.JSON(), nullable=False),
    sa.Column('place_key', sa.String(length=320), nullable=True),
    sa.Column('eligible_at_submission', sa.Boolean(), nullable=False),
    sa.Column('reasons_at_submission', sa.JSON(), nullable=False),
    sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('submitted_by', sa.String(length=100), nullable=False),
    sa.Column('council_result', sa.String(length=16), nullable=True),
    sa.Column('council_form', sa.String(length=100), nullable=True),
    sa.Column('council_note', sa.Text(), nullable=True),
    sa.Column('decided_on', sa.Date(), nullable=True),
    sa.Column('decided_by', sa.String(length=100), nullable=True),
    sa.Column('decision_id', sa.String(length=100), nullable=True),
    sa.Column('award_id', sa.String(length=100), nullable=True),
    sa.Column('trail', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('nomination_id'),
    sa.UniqueConstraint('place_key')
    )
    op.create_index('ix_nominations_round_at', 'nominations', ['round_id', 'at_unit_id'], unique=False)
    op.create_index('ix_nominations_round_status', 'nominations', ['round_id', 'status'], unique=False)
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
    op.create_table('plan_assessments',
    sa.Column('individual_plan_id', sa.String(length=100), nullable=False),
    sa.Column('person_id', sa.String(length=100), nullable=False),
    sa.Column('unit_id', sa.String(length=100), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('rating', sa.String(length=16), nullable=False),
    sa.Column('assessed_on', sa.Date(), nullable=False),
    sa.Column('version', sa.String(length=300), nullable=False),
    sa.PrimaryKeyConstraint('individual_plan_id')
    )
    op.create_index('ix_plan_assessments_person_year', 'plan_assessments', ['person_id', 'year'], unique=False)
    op.create_table('plan_closures',
    sa.Column('plan_id', sa.String(length=100), nullable=False),
    sa.Column('closed_on', sa.Date(), nullable=False),
    sa.PrimaryKeyConstraint('plan_id')
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
    op.create_table('report_facts',
    sa.Column('report_id', sa.String(length=100), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('requirement_id', sa.String(length=100), nullable=False),
    sa.Column('unit_id', sa.String(length=100), nullable=False),
    sa.Column('period', sa.String(length=16), nullable=False),
    sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('submitted_on_time', sa.Boolean(), nullable=True),
    sa.Column('returned_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('accepted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('accepted_on_time', sa.Boolean(), nullable=True),
    sa.PrimaryKeyConstraint('report_id', 'revision')
    )
    op.create_index('ix_report_facts_unit_period', 'report_facts', ['unit_id', 'period'], unique=False)
    op.create_table('round_sources',
    sa.Column('plan_id', sa.String(length=100), nullable=False),
    sa.Column('item_id', sa.String(length=100), nullable=False),
    sa.Column('plan_revision', sa.Integer(), nullable=False),
    sa.Column('plan_number', sa.String(length=64), nullable=False),
    sa.Column('issuer_unit_id', sa.String(length=100), nullable=False),
    sa.Column('issued_on', sa.Date(), nullable=False),
    sa.Column('content', sa.Text(), nullable=False),
    sa.Column('timing', sa.JSON(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('plan_id', 'item_id')
    )
    op.create_table('rounds',
    sa.Column('round_id', sa.String(length=100), nullable=False),
    sa.Column('name', sa.String(length=500), nullable=False),
    sa.Column('level', sa.String(length=500), nullable=False),
    sa.Column('issuer_unit_id', sa.String(length=100), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('opens_on', sa.Date(), nullable=False),
    sa.Column('closes_on', sa.Date(), nullable=False),
    sa.Column('anchor_on', sa.Date(), nullable=True),
    sa.Column('report_period', sa.String(length=16), nullable=False),
    sa.Column('require_report_accepted', sa.Boolean(), nullable=False),
    sa.Column('requirement_id', sa.String(length=100), nullable=True),
    sa.Column('min_rating', sa.String(length=16), nullable=False),
    sa.Column('collective_categories', sa.JSON(), nullable=False),
    sa.Column('individual_categories', sa.JSON(), nullable=False),
    sa.Column('forms', sa.JSON(), nullable=False),
    sa.Column('quotas', sa.JSON(), nullable=False),
    sa.Column('opened_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('opened_by', sa.String(length=100), nullable=True),
    sa.Column('source_plan_id', sa.String(length=100), nullable=True),
    sa.Column('source_item_id', sa.String(length=100), nullable=True),
    sa.PrimaryKeyConstraint('round_id'),
    sa.UniqueConstraint('source_plan_id', 'source_item_id', 'year', name='uq_rounds_source_year')
    )
    op.create_index(op.f('ix_rounds_issuer_unit_id'), 'rounds', ['issuer_unit_id'], unique=False)
    award_forms = sa.table("award_forms", sa.column("code"), sa.column("name"), sa.column("rank"),
                           sa.column("nominee_kinds", sa.JSON), sa.column("granted_by", sa.JSON),
                           sa.column("active", sa.Boolean))
    op.bulk_insert(award_forms, [{**f, "active": True} for f in FORMS])


def downgrade() -> None:
    op.drop_index(op.f('ix_rounds_issuer_unit_id'), table_name='rounds')
    op.drop_table('rounds')
    op.drop_table('round_sources')
    op.drop_index('ix_report_facts_unit_period', table_name='report_facts')
    op.drop_table('report_facts')
    op.drop_index('ix_reminders_due', table_name='reminders', sqlite_where=sa.text('fired_at IS NULL'), postgresql_where=sa.text('fired_at IS NULL'))
    op.drop_table('reminders')
    op.drop_table('plan_closures')
    op.drop_index('ix_plan_assessments_person_year', table_name='plan_assessments')
    op.drop_table('plan_assessments')
    op.drop_index('ix_outbox_pending', table_name='outbox', sqlite_where=sa.text('published_at IS NULL'), postgresql_where=sa.text('published_at IS NULL'))
    op.drop_table('outbox')
    op.drop_index('ix_nominations_round_status', table_name='nominations')
    op.drop_index('ix_nominations_round_at', table_name='nominations')
    op.drop_table('nominations')
    op.drop_index('ix_nomination_route_round_unit', table_name='nomination_route')
    op.drop_table('nomination_route')
    op.drop_table('inbox')
    op.drop_index(op.f('ix_exemplary_models_year'), table_name='exemplary_models')
    op.drop_index(op.f('ix_exemplary_models_unit_id'), table_name='exemplary_models')
    op.drop_index(op.f('ix_exemplary_models_person_id'), table_name='exemplary_models')
    op.drop_table('exemplary_models')
    op.drop_index('ux_dir_units_code', table_name='dir_units')
    op.drop_table('dir_units')
    op.drop_index('ix_dir_people_unit', table_name='dir_people')
    op.drop_table('dir_people')
    op.drop_index('ix_dir_parents_parent', table_name='dir_parents')
    op.drop_table('dir_parents')
    op.drop_index(op.f('ix_decisions_round_id'), table_name='decisions')
    op.drop_table('decisions')
    op.drop_index('ix_awards_unit', table_name='awards')
    op.drop_index('ix_awards_nominee', table_name='awards')
    op.drop_table('awards')
    op.drop_table('award_forms')
