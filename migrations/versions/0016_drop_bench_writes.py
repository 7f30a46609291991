"""bench_writes leaves the application's schema: the bench creates it in its own database

The one-write yardstick's table belongs to `make bench` (bench/yardsticks.py creates it when missing). Databases
migrated through 0007 hold an empty copy; this drops it wherever it exists.

Revision ID: 0016
Revises: 0009
Create Date: 2026-12-06 11:00:00

"""
from alembic import op
import sqlalchemy as sa
import app.common.types


# revision identifiers, used by Alembic.
revision = '0016'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    if sa.inspect(op.get_bind()).has_table('bench_writes'):
        op.drop_table('bench_writes')


def downgrade():
    # 0007's downgrade drops the table again: give it back the table 0007 made
    op.create_table('bench_writes',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=False, nullable=False),
    sa.Column('note', sa.String(length=64), nullable=False),
    sa.Column('created_at', app.common.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bench_writes'))
    )
