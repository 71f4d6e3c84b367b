"""who must be told of a case, and whether its Serious Case Review is held

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 08:20:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('review_case', schema=None) as batch_op:
        batch_op.add_column(sa.Column('notify', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('scr_held', sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column('scr_not_held_reason', sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('review_case', schema=None) as batch_op:
        batch_op.drop_column('scr_not_held_reason')
        batch_op.drop_column('scr_held')
        batch_op.drop_column('notify')
