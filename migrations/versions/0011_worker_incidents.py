"""worker incidents on the instances they concern; worker heartbeats for /health

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04 18:40:00
"""
from alembic import op
import sqlalchemy as sa

from app.db.types import UTCDateTime


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('incident',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True,
              nullable=False),
    sa.Column('instance_id', sa.String(length=36), nullable=False),
    sa.Column('source', sa.String(length=50), nullable=False),
    sa.Column('error_type', sa.String(length=200), nullable=False),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('first_at', UTCDateTime(), nullable=False),
    sa.Column('last_at', UTCDateTime(), nullable=False),
    sa.Column('retry_at', UTCDateTime(), nullable=True),
    sa.Column('resolved_at', UTCDateTime(), nullable=True),
    sa.Column('resolved_by', sa.String(length=200), nullable=True),
    sa.ForeignKeyConstraint(['instance_id'], ['process_instance.id'],
                            name=op.f('fk_incident_instance_id_process_instance'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_incident'))
    )
    with op.batch_alter_table('incident', schema=None) as batch_op:
        batch_op.create_index('ix_incident_instance_id', ['instance_id'], unique=False)
        batch_op.create_index('ix_incident_resolved_at', ['resolved_at'], unique=False)
    op.create_table('worker_heartbeat',
    sa.Column('name', sa.String(length=50), nullable=False),
    sa.Column('process', sa.String(length=255), nullable=False),
    sa.Column('started_at', UTCDateTime(), nullable=False),
    sa.Column('last_poll_at', UTCDateTime(), nullable=False),
    sa.Column('last_success_at', UTCDateTime(), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('name', 'process', name=op.f('pk_worker_heartbeat'))
    )


def downgrade() -> None:
    op.drop_table('worker_heartbeat')
    with op.batch_alter_table('incident', schema=None) as batch_op:
        batch_op.drop_index('ix_incident_resolved_at')
        batch_op.drop_index('ix_incident_instance_id')
    op.drop_table('incident')
