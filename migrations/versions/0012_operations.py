"""cache_sync, key_checks, idempotent_requests: Redis's generation, startup key checks, idempotent POSTs

Revision ID: 0012
Revises: 0014
Create Date: 2026-12-06 11:00:00

"""
from alembic import op
import sqlalchemy as sa

import app.common.types


# revision identifiers, used by Alembic.
revision = '0012'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('cache_sync',
                    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
                    sa.Column('generation', sa.BigInteger(), nullable=False),
                    sa.PrimaryKeyConstraint('id', name=op.f('pk_cache_sync')))
    op.create_table('key_checks',
                    sa.Column('name', sa.String(length=80), nullable=False),
                    sa.Column('value', sa.LargeBinary(), nullable=False),
                    sa.Column('created_at', app.common.types.UTCDateTime(timezone=True), nullable=False),
                    sa.PrimaryKeyConstraint('name', name=op.f('pk_key_checks')))
    op.create_table('idempotent_requests',
                    sa.Column('account_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
                    sa.Column('key', sa.String(length=255), nullable=False),
                    sa.Column('fingerprint', sa.String(length=64).with_variant(
                        sa.String(length=64, collation='C'), 'postgresql'), nullable=False),
                    sa.Column('status', sa.SmallInteger(), nullable=True),
                    sa.Column('body', sa.LargeBinary(), nullable=True),
                    sa.Column('created_at', app.common.types.UTCDateTime(timezone=True), nullable=False),
                    sa.Column('expires_at', app.common.types.UTCDateTime(timezone=True), nullable=False),
                    sa.PrimaryKeyConstraint('account_id', 'key', name=op.f('pk_idempotent_requests')))
    with op.batch_alter_table('idempotent_requests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_idempotent_requests_expires_at'), ['expires_at'], unique=False)


def downgrade():
    with op.batch_alter_table('idempotent_requests', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_idempotent_requests_expires_at'))
    op.drop_table('idempotent_requests')
    op.drop_table('key_checks')
    op.drop_table('cache_sync')
