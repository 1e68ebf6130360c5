"""the completion's write check on PostgreSQL (quytrinh_expect_one); dossier states compressed with lz4

A step completion sends its writes and its COMMIT to PostgreSQL in one round trip. The writes'
optimistic checks (the dossier's state_version still the one read, the step still open) must
then stop the COMMIT in the server: the writes' statement passes the row counts of its UPDATEs
to this function, which raises SQLSTATE QT409 unless each is exactly one — the transaction is
aborted and the pipelined COMMIT never happens. SQLite checks the row counts in Python, before
its COMMIT, and needs nothing here.

Every completion also writes the dossier's workflow state anew (6–9 KB of JSON, stored
compressed out of line): lz4 compresses it in about half the time of PostgreSQL's default pglz
(0.030 ms against 0.067 ms for a 6.6 KB state, measured on the UPDATE) for a few per cent more
bytes. Existing values keep their compression until rewritten. A server without lz4 (built
without it, or older than PostgreSQL 14) keeps pglz.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 03:00:00

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

# VOLATILE (the default): evaluated when the row is produced, never folded at planning time.
_CREATE = """CREATE FUNCTION quytrinh_expect_one(written bigint, what text) RETURNS bigint
LANGUAGE plpgsql AS $$
BEGIN
    IF written IS DISTINCT FROM 1 THEN
        RAISE EXCEPTION USING ERRCODE = 'QT409',
            MESSAGE = format('%s: %s rows written where 1 was expected (changed concurrently)', what, written);
    END IF;
    RETURN written;
END $$"""


_LZ4 = """DO $$ BEGIN
    ALTER TABLE dossiers ALTER COLUMN state SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported OR syntax_error THEN  -- built without lz4; before PostgreSQL 14
    RAISE NOTICE 'this PostgreSQL has no lz4 compression: dossier states stay compressed with pglz';
END $$"""


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_CREATE)
        op.execute(_LZ4)


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE dossiers ALTER COLUMN state SET COMPRESSION default")
        op.execute("DROP FUNCTION IF EXISTS quytrinh_expect_one(bigint, text)")
