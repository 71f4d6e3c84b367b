"""cases and decisions

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 11:00:40.117009
"""
from alembic import op
import sqlalchemy as sa

from app.db.types import UTCDateTime


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('review_case',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('reference', sa.String(length=20), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('sequence', sa.Integer(), nullable=False),
    sa.Column('child_pseudonym', sa.String(length=100), nullable=False),
    sa.Column('agencies', sa.JSON(), nullable=False),
    sa.Column('incident_date', sa.Date(), nullable=False),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('facts', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=30), nullable=False),
    sa.Column('grade', sa.String(length=30), nullable=True),
    sa.Column('route', sa.String(length=30), nullable=True),
    sa.Column('review_type', sa.String(length=200), nullable=True),
    sa.Column('statutory', sa.Boolean(), nullable=True),
    sa.Column('key_dates', sa.JSON(), nullable=False),
    sa.Column('outcome', sa.JSON(), nullable=False),
    sa.Column('referral_instance_id', sa.String(length=36), nullable=True),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.Column('updated_at', UTCDateTime(), nullable=False),
    sa.Column('closed_at', UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_review_case')),
    sa.UniqueConstraint('reference', name=op.f('uq_review_case_reference')),
    sa.UniqueConstraint('year', 'sequence', name=op.f('uq_review_case_year'))
    )
    with op.batch_alter_table('review_case', schema=None) as batch_op:
        batch_op.create_index('ix_review_case_status', ['status'], unique=False)

    op.create_table('decision_version',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('decision_id', sa.String(length=255), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=500), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('source_file', sa.String(length=255), nullable=False),
    sa.Column('deployment_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('deployed_at', UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['deployment_id'], ['deployment.id'], name=op.f('fk_decision_version_deployment_id_deployment')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_decision_version')),
    sa.UniqueConstraint('decision_id', 'version', name=op.f('uq_decision_version_decision_id'))
    )
    with op.batch_alter_table('decision_version', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_decision_version_decision_id'), ['decision_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('decision_version', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_decision_version_decision_id'))

    op.drop_table('decision_version')
    with op.batch_alter_table('review_case', schema=None) as batch_op:
        batch_op.drop_index('ix_review_case_status')

    op.drop_table('review_case')
