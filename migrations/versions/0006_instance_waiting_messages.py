"""instance waiting messages

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26 12:00:55.847649
"""
from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('process_instance', schema=None) as batch_op:
        batch_op.add_column(sa.Column('waiting_messages', sa.JSON(), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('process_instance', schema=None) as batch_op:
        batch_op.drop_column('waiting_messages')

