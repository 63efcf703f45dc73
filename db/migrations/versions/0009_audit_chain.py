"""Tamper-evident audit: each audit row carries a hash chained to the previous one (issue 8 §7).

Every insert, whatever code path, is chained by a BEFORE INSERT trigger: it takes one advisory lock
(so concurrent writers line up), reads the last row and sets seq (gap-free), prev_hash and row_hash.
`services.institution.audit.verify` recomputes the chain in Python from the stored columns, so redefining the SQL
function does not hide an edit. Audit rows may name a case ("who viewed this case").

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

# pg_advisory_xact_lock key of the audit chain: any constant no other lock uses ('audit' in ASCII).
CHAIN_LOCK = 0x6175646974
GENESIS = "0" * 64  # prev_hash of the first row

# sha256 of prev_hash|seq|at in µs since the epoch (UTC, whatever the session's TimeZone)|actor|action|case|detail.
# Only detail, the last field, is free text (action is checked to be a code), so the joined text is unambiguous;
# jsonb's text form is canonical (keys sorted, one spacing), so the same stored row always hashes the same.
ROW_HASH = """
CREATE FUNCTION audit_row_hash(prev_hash text, seq bigint, at timestamptz, actor_id integer, action text,
                               case_id bigint, detail jsonb) RETURNS text LANGUAGE sql STABLE AS $$
    SELECT encode(sha256(convert_to(concat_ws('|', prev_hash, seq::text,
                                              (extract(epoch FROM at) * 1000000)::bigint::text,
                                              coalesce(actor_id::text, ''), action, coalesce(case_id::text, ''),
                                              detail::text), 'UTF8')), 'hex')
$$;
"""
CHAIN = f"""
CREATE FUNCTION audit_chain() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    last_seq bigint;
    last_hash text;
BEGIN
    PERFORM pg_advisory_xact_lock({CHAIN_LOCK});
    SELECT seq, row_hash INTO last_seq, last_hash FROM audit_events ORDER BY seq DESC LIMIT 1;
    NEW.seq := coalesce(last_seq, 0) + 1;
    NEW.prev_hash := coalesce(last_hash, '{GENESIS}');
    NEW.row_hash := audit_row_hash(NEW.prev_hash, NEW.seq, NEW.at, NEW.actor_id, NEW.action, NEW.case_id,
                                   NEW.detail);
    RETURN NEW;
END $$;
"""
# Existing rows, chained in the order they were written; the append-only trigger is off for these updates only.
BACKFILL = f"""
DO $$
DECLARE
    r record;
    n bigint := 0;
    prev text := '{GENESIS}';
BEGIN
    FOR r IN SELECT id, at, actor_id, action, detail FROM audit_events ORDER BY id LOOP
        n := n + 1;
        UPDATE audit_events
           SET seq = n, prev_hash = prev,
               row_hash = audit_row_hash(prev, n, r.at, r.actor_id, r.action, NULL, r.detail)
         WHERE id = r.id
        RETURNING row_hash INTO prev;
    END LOOP;
END $$;
"""


def upgrade() -> None:
    op.add_column("audit_events", sa.Column("case_id", sa.BigInteger(), nullable=True))
    op.add_column("audit_events", sa.Column("seq", sa.BigInteger(), nullable=True))
    op.add_column("audit_events", sa.Column("prev_hash", sa.String(64), nullable=True))
    op.add_column("audit_events", sa.Column("row_hash", sa.String(64), nullable=True))
    op.create_foreign_key("fk_audit_events_case_id_cases", "audit_events", "cases", ["case_id"], ["id"])
    op.create_check_constraint("ck_audit_events_action_code", "audit_events", r"action ~ '^[a-z][a-z0-9_]*$'")
    op.execute(ROW_HASH)
    op.execute("ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only")
    op.execute(BACKFILL)
    op.execute("ALTER TABLE audit_events ENABLE TRIGGER audit_events_append_only")
    for column in ("seq", "prev_hash", "row_hash"):
        op.alter_column("audit_events", column, nullable=False)
    op.create_unique_constraint("uq_audit_events_seq", "audit_events", ["seq"])
    op.create_index("ix_audit_events_case_id_at", "audit_events", ["case_id", "at"])
    op.create_index("ix_audit_events_actor_id_at", "audit_events", ["actor_id", "at"])
    op.execute(CHAIN)
    op.execute("CREATE TRIGGER audit_events_chain BEFORE INSERT ON audit_events "
               "FOR EACH ROW EXECUTE FUNCTION audit_chain()")


def downgrade() -> None:
    op.execute("DROP TRIGGER audit_events_chain ON audit_events")
    op.execute("DROP FUNCTION audit_chain()")
    op.execute("DROP FUNCTION audit_row_hash(text, bigint, timestamptz, integer, text, bigint, jsonb)")
    op.drop_index("ix_audit_events_actor_id_at", table_name="audit_events")
    op.drop_index("ix_audit_events_case_id_at", table_name="audit_events")
    op.drop_constraint("uq_audit_events_seq", "audit_events", type_="unique")
    op.drop_constraint("ck_audit_events_action_code", "audit_events", type_="check")
    op.drop_constraint("fk_audit_events_case_id_cases", "audit_events", type_="foreignkey")
    for column in ("row_hash", "prev_hash", "seq", "case_id"):
        op.drop_column("audit_events", column)
