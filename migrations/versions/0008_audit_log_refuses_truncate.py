"""the audit log refuses TRUNCATE on PostgreSQL, and UPDATE and DELETE on SQLite too

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-26 18:40:00

0003 made PostgreSQL refuse UPDATE and DELETE on audit_log row by row; TRUNCATE fires no row
trigger, so it needs a statement trigger of its own. SQLite gets row triggers: it has no
TRUNCATE (a DELETE without WHERE, which a trigger turns back into row deletions). A later
migration that rebuilds audit_log in SQLite's batch mode must create these triggers again.
"""
from alembic import op


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

SQLITE_REFUSED = ("UPDATE", "DELETE")


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute("""
            CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
            FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()
        """)
    elif dialect == "sqlite":
        for statement in SQLITE_REFUSED:
            op.execute(f"""
                CREATE TRIGGER audit_log_no_{statement.lower()} BEFORE {statement} ON audit_log
                BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END
            """)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_truncate ON audit_log")
    elif dialect == "sqlite":
        for statement in SQLITE_REFUSED:
            op.execute(f"DROP TRIGGER IF EXISTS audit_log_no_{statement.lower()}")
