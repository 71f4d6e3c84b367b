"""a partial index for the timer worker's claim

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-26 12:32:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

ACTIVE = sa.text("status IN ('running', 'waiting')")


def upgrade() -> None:
    with op.batch_alter_table('process_instance', schema=None) as batch_op:
        batch_op.drop_index('ix_process_instance_next_timer_at')
    op.create_index('ix_process_instance_due', 'process_instance', ['next_timer_at', 'id'],
                    postgresql_where=ACTIVE, sqlite_where=ACTIVE)


def downgrade() -> None:
    op.drop_index('ix_process_instance_due', table_name='process_instance')
    with op.batch_alter_table('process_instance', schema=None) as batch_op:
        batch_op.create_index('ix_process_instance_next_timer_at', ['next_timer_at'],
                              unique=False)
