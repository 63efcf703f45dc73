"""Schema: institutions' departments, users, customers, cases and their timeline.

Revision ID: 0001
Revises: 
Create Date: 2026-11-23 00:37:02.569332
"""

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None

APPEND_ONLY = ("case_events", "audit_events")


def upgrade() -> None:
    op.create_table('calendar_years',
    sa.Column('year', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('source', sa.String(length=32), nullable=False),
    sa.Column('loaded_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint('year BETWEEN 1990 AND 2200', name=op.f('ck_calendar_years_year_range')),
    sa.PrimaryKeyConstraint('year', name=op.f('pk_calendar_years'))
    )
    op.create_table('case_counters',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('last_no', sa.Integer(), nullable=False),
    sa.CheckConstraint('last_no BETWEEN 1 AND 999999', name=op.f('ck_case_counters_last_no_range')),
    sa.PrimaryKeyConstraint('day', name=op.f('pk_case_counters'))
    )
    op.create_table('customers',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('name', sa.String(length=128), nullable=False),
    sa.Column('phone', sa.String(length=32), nullable=False),
    sa.Column('id_number', sa.String(length=32), nullable=True),
    sa.Column('account_no', sa.String(length=64), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_customers'))
    )
    op.create_index('ix_customers_id_number', 'customers', ['id_number'], unique=False)
    op.create_index('ix_customers_phone', 'customers', ['phone'], unique=False)
    op.create_table('departments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=128), nullable=False),
    sa.Column('active', sa.Boolean(), server_default='true', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_departments')),
    sa.UniqueConstraint('code', name=op.f('uq_departments_code'))
    )
    op.create_table('working_calendar',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('day_type', sa.String(length=16), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=True),
    sa.Column('source', sa.String(length=32), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("day_type IN ('holiday', 'makeup_workday')", name=op.f('ck_working_calendar_day_type_known')),
    sa.PrimaryKeyConstraint('day', name=op.f('pk_working_calendar'))
    )
    op.create_table('users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('display_name', sa.String(length=128), nullable=False),
    sa.Column('password_hash', sa.String(length=128), nullable=False),
    sa.Column('roles', sa.ARRAY(sa.String(length=32)), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=True),
    sa.Column('active', sa.Boolean(), server_default='true', nullable=False),
    sa.Column('failed_logins', sa.Integer(), server_default='0', nullable=False),
    sa.Column('locked_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("roles <@ ARRAY['intake', 'handler', 'dept_head', 'supervisor', 'executive', 'admin', 'trainee']::varchar[]", name=op.f('ck_users_roles_known')),
    sa.CheckConstraint('failed_logins >= 0', name=op.f('ck_users_failed_logins_nonneg')),
    sa.ForeignKeyConstraint(['department_id'], ['departments.id'], name=op.f('fk_users_department_id_departments')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('username', name=op.f('uq_users_username'))
    )
    op.create_table('audit_events',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('action', sa.String(length=64), nullable=False),
    sa.Column('detail', postgresql.JSONB(astext_type=sa.Text()), server_default='{}', nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_audit_events_actor_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_events'))
    )
    op.create_table('cases',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('case_no', sa.String(length=20), nullable=False),
    sa.Column('pack', sa.String(length=32), nullable=False),
    sa.Column('channel', sa.String(length=32), nullable=False),
    sa.Column('category', sa.String(length=64), nullable=False),
    sa.Column('grade', sa.String(length=16), nullable=False),
    sa.Column('handling_level', sa.String(length=16), nullable=True),
    sa.Column('cause', sa.String(length=16), server_default='branch', nullable=False),
    sa.Column('flags', sa.ARRAY(sa.String(length=32)), server_default='{}', nullable=False),
    sa.Column('state', sa.String(length=32), nullable=False),
    sa.Column('outcome', sa.String(length=32), nullable=True),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('content', sa.Text(), nullable=False),
    sa.Column('customer_id', sa.BigInteger(), nullable=False),
    sa.Column('first_responder_id', sa.Integer(), nullable=False),
    sa.Column('assignee_id', sa.Integer(), nullable=True),
    sa.Column('responsible_department_id', sa.Integer(), nullable=False),
    sa.Column('parent_case_id', sa.BigInteger(), nullable=True),
    sa.Column('compensation_claimed', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('compensation_paid', sa.Numeric(precision=14, scale=2), server_default='0', nullable=False),
    sa.Column('handling_form', sa.Text(), nullable=True),
    sa.Column('fact_finding', sa.Text(), nullable=True),
    sa.Column('measures', sa.Text(), nullable=True),
    sa.Column('accountability', sa.Text(), nullable=True),
    sa.Column('signed_confirmation', sa.Text(), nullable=True),
    sa.Column('satisfaction', sa.Integer(), nullable=True),
    sa.Column('forwarded_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('first_contact_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('feedback_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('return_visit_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('assessment', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("case_no ~ '^TS-[0-9]{8}-[0-9]{6}$'", name=op.f('ck_cases_case_no_format')),
    sa.CheckConstraint("cause IN ('branch', 'company')", name=op.f('ck_cases_cause_known')),
    sa.CheckConstraint("channel IN ('phone', 'letter', 'fax', 'email', 'walk_in', 'online', 'comment_book', 'media', 'regulator', 'upper_level')", name=op.f('ck_cases_channel_known')),
    sa.CheckConstraint("grade IN ('general', 'large', 'major', 'invalid', 'L1', 'L2', 'L3')", name=op.f('ck_cases_grade_known')),
    sa.CheckConstraint("handling_level IS NULL OR handling_level IN ('branch', 'hq', 'company')", name=op.f('ck_cases_handling_level_known')),
    sa.CheckConstraint("outcome IS NULL OR outcome IN ('resolved', 'resolved_at_intake', 'invalid', 'withdrawn')", name=op.f('ck_cases_outcome_known')),
    sa.CheckConstraint("state IN ('registered', 'forwarded', 'in_progress', 'resolved', 'feedback_given', 'return_visit', 'archived', 'withdrawn')", name=op.f('ck_cases_state_known')),
    sa.CheckConstraint('compensation_claimed >= 0', name=op.f('ck_cases_claimed_nonneg')),
    sa.CheckConstraint('compensation_paid >= 0', name=op.f('ck_cases_paid_nonneg')),
    sa.CheckConstraint('satisfaction IS NULL OR satisfaction BETWEEN 1 AND 5', name=op.f('ck_cases_satisfaction_scale')),
    sa.CheckConstraint('version >= 1', name=op.f('ck_cases_version_positive')),
    sa.ForeignKeyConstraint(['assignee_id'], ['users.id'], name=op.f('fk_cases_assignee_id_users')),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_cases_customer_id_customers')),
    sa.ForeignKeyConstraint(['first_responder_id'], ['users.id'], name=op.f('fk_cases_first_responder_id_users')),
    sa.ForeignKeyConstraint(['parent_case_id'], ['cases.id'], name=op.f('fk_cases_parent_case_id_cases')),
    sa.ForeignKeyConstraint(['responsible_department_id'], ['departments.id'], name=op.f('fk_cases_responsible_department_id_departments')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cases')),
    sa.UniqueConstraint('case_no', name=op.f('uq_cases_case_no'))
    )
    op.create_index('ix_cases_assignee_state', 'cases', ['assignee_id', 'state'], unique=False)
    op.create_index('ix_cases_customer', 'cases', ['customer_id'], unique=False)
    op.create_index('ix_cases_first_responder', 'cases', ['first_responder_id'], unique=False)
    op.create_index('ix_cases_received_at', 'cases', ['received_at'], unique=False)
    op.create_index('ix_cases_state_department', 'cases', ['state', 'responsible_department_id'], unique=False)
    op.create_table('settings',
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('value', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_settings_updated_by_id_users')),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_settings'))
    )
    op.create_table('case_deadlines',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('case_id', sa.BigInteger(), nullable=False),
    sa.Column('milestone', sa.String(length=32), nullable=False),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('original_due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('met_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('status', sa.String(length=16), server_default='open', nullable=False),
    sa.Column('period', sa.String(length=64), nullable=False),
    sa.Column('source', sa.Text(), nullable=False),
    sa.Column('extensions', sa.Integer(), server_default='0', nullable=False),
    sa.CheckConstraint("milestone IN ('forward', 'first_contact', 'first_reply', 'feedback', 'resolve', 'resolve_target', 'return_visit', 'report_hq')", name=op.f('ck_case_deadlines_milestone_known')),
    sa.CheckConstraint("status IN ('open', 'met', 'met_late', 'waived')", name=op.f('ck_case_deadlines_status_known')),
    sa.CheckConstraint('extensions >= 0', name=op.f('ck_case_deadlines_extensions_nonneg')),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_case_deadlines_case_id_cases')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_deadlines')),
    sa.UniqueConstraint('case_id', 'milestone', name=op.f('uq_case_deadlines_case_id_milestone'))
    )
    op.create_index('ix_case_deadlines_open_due', 'case_deadlines', ['due_at'], unique=False, postgresql_where="status = 'open'")
    op.create_table('case_events',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('case_id', sa.BigInteger(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('event_type', sa.String(length=32), nullable=False),
    sa.Column('from_state', sa.String(length=32), nullable=True),
    sa.Column('to_state', sa.String(length=32), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('data', postgresql.JSONB(astext_type=sa.Text()), server_default='{}', nullable=False),
    sa.CheckConstraint("event_type IN ('intake', 'forward', 'first_contact', 'resolve', 'resolve_at_intake', 'invalid', 'feedback', 'return_visit', 'archive', 'withdraw', 're_complaint', 'extension', 'escalation', 'escalation_ack', 'report_hq', 'deadlines_recomputed', 'reveal_pii', 'note')", name=op.f('ck_case_events_event_type_known')),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_case_events_actor_id_users')),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_case_events_case_id_cases')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_events'))
    )
    op.create_index('ix_case_events_case_at', 'case_events', ['case_id', 'at'], unique=False)
    op.create_table('escalations',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('case_id', sa.BigInteger(), nullable=False),
    sa.Column('to_role', sa.String(length=64), nullable=False),
    sa.Column('rule_key', sa.String(length=128), nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('acknowledged_by_id', sa.Integer(), nullable=True),
    sa.Column('acknowledged_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['acknowledged_by_id'], ['users.id'], name=op.f('fk_escalations_acknowledged_by_id_users')),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_escalations_case_id_cases')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_escalations_created_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_escalations')),
    sa.UniqueConstraint('case_id', 'rule_key', name=op.f('uq_escalations_case_id_rule_key'))
    )
    op.create_index(op.f('ix_escalations_case_id'), 'escalations', ['case_id'], unique=False)
    op.create_table('extensions',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('case_id', sa.BigInteger(), nullable=False),
    sa.Column('milestone', sa.String(length=32), nullable=False),
    sa.Column('old_due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('new_due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('customer_informed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('customer_informed_method', sa.String(length=64), nullable=False),
    sa.Column('requested_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint('new_due_at > old_due_at', name=op.f('ck_extensions_later_due')),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_extensions_case_id_cases')),
    sa.ForeignKeyConstraint(['requested_by_id'], ['users.id'], name=op.f('fk_extensions_requested_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_extensions'))
    )
    op.create_index(op.f('ix_extensions_case_id'), 'extensions', ['case_id'], unique=False)

    # The timelines are append-only (DEVELOPERS.md, DESIGN.md): refuse UPDATE and DELETE.
    op.execute("""
        CREATE FUNCTION refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
                USING ERRCODE = 'restrict_violation';
        END $$;
    """)
    for table in APPEND_ONLY:
        op.execute(f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                   "FOR EACH ROW EXECUTE FUNCTION refuse_change()")


def downgrade() -> None:
    for table in APPEND_ONLY:
        op.execute(f"DROP TRIGGER {table}_append_only ON {table}")
    op.execute("DROP FUNCTION refuse_change()")
    op.drop_index(op.f('ix_extensions_case_id'), table_name='extensions')
    op.drop_table('extensions')
    op.drop_index(op.f('ix_escalations_case_id'), table_name='escalations')
    op.drop_table('escalations')
    op.drop_index('ix_case_events_case_at', table_name='case_events')
    op.drop_table('case_events')
    op.drop_index('ix_case_deadlines_open_due', table_name='case_deadlines', postgresql_where="status = 'open'")
    op.drop_table('case_deadlines')
    op.drop_table('settings')
    op.drop_index('ix_cases_state_department', table_name='cases')
    op.drop_index('ix_cases_received_at', table_name='cases')
    op.drop_index('ix_cases_first_responder', table_name='cases')
    op.drop_index('ix_cases_customer', table_name='cases')
    op.drop_index('ix_cases_assignee_state', table_name='cases')
    op.drop_table('cases')
    op.drop_table('audit_events')
    op.drop_table('users')
    op.drop_table('working_calendar')
    op.drop_table('departments')
    op.drop_index('ix_customers_phone', table_name='customers')
    op.drop_index('ix_customers_id_number', table_name='customers')
    op.drop_table('customers')
    op.drop_table('case_counters')
    op.drop_table('calendar_years')
