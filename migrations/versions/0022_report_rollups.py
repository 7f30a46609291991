"""report_tallies by area and dimension: each report counted in the city, its district and its street, per street,
department, category and in all, by day and by month, with finer resolve-time buckets; report_resolve_minutes
indexed by bucket, day and street, covering what the median reads (0023 fills both)

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-06 18:00:00

"""
from alembic import op
import sqlalchemy as sa

from app.reports import tallies

# revision identifiers, used by Alembic.
revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None

CODE = sa.String(length=9).with_variant(sa.String(length=9, collation='C'), 'postgresql')


def _minutes_key() -> list:
    return [sa.Column('day', sa.Date(), nullable=False), sa.Column('street_code', CODE, nullable=False),
            sa.Column('department_id', sa.SmallInteger(), nullable=False),
            sa.Column('category_id', sa.SmallInteger(), nullable=False),
            sa.Column('minutes', sa.Integer(), autoincrement=False, nullable=False),
            sa.Column('bucket', sa.SmallInteger(), nullable=False), sa.Column('n', sa.Integer(), nullable=False)]


def upgrade():
    op.drop_table('report_resolve_minutes')
    op.drop_table('report_tallies')
    op.create_table('report_tallies',
                    sa.Column('dim', sa.String(length=1), nullable=False),
                    sa.Column('area_code', CODE, nullable=False),
                    sa.Column('grain', sa.String(length=1), nullable=False),
                    sa.Column('period', sa.Date(), nullable=False),
                    sa.Column('group_key', sa.Integer(), autoincrement=False, nullable=False),
                    *[sa.Column(name, sa.Integer(), nullable=False) for name in tallies.COUNTS],
                    sa.PrimaryKeyConstraint('dim', 'area_code', 'grain', 'period', 'group_key',
                                            name=op.f('pk_report_tallies')))
    op.create_table('report_resolve_minutes', *_minutes_key(),
                    sa.PrimaryKeyConstraint('day', 'street_code', 'department_id', 'category_id', 'minutes',
                                            name=op.f('pk_report_resolve_minutes')))
    op.create_index('ix_report_resolve_minutes_bucket_day', 'report_resolve_minutes',
                    ['bucket', 'day', 'street_code'],
                    postgresql_include=['department_id', 'category_id', 'minutes', 'n'])


def downgrade():
    """Back to 0021's tables, empty: that revision's `flask reports rebuild-tallies` fills them."""
    op.drop_table('report_resolve_minutes')
    op.drop_table('report_tallies')
    key = [sa.Column('day', sa.Date(), nullable=False), sa.Column('street_code', CODE, nullable=False),
           sa.Column('department_id', sa.SmallInteger(), nullable=False),
           sa.Column('category_id', sa.SmallInteger(), nullable=False)]
    counts = ("filed", "responded", "responded_on_time", "resolved", "resolved_on_time", "confirmed", "closed",
              "flagged", *(f"resolved_in_{i:02d}" for i in range(24)))
    op.create_table('report_tallies', *key, *[sa.Column(name, sa.Integer(), nullable=False) for name in counts],
                    sa.PrimaryKeyConstraint('day', 'street_code', 'department_id', 'category_id',
                                            name=op.f('pk_report_tallies')))
    op.create_index('ix_report_tallies_street_day', 'report_tallies', ['street_code', 'day'])
    op.create_table('report_resolve_minutes', *[c.copy() for c in key],
                    sa.Column('minutes', sa.Integer(), autoincrement=False, nullable=False),
                    sa.Column('bucket', sa.SmallInteger(), nullable=False), sa.Column('n', sa.Integer(), nullable=False),
                    sa.PrimaryKeyConstraint('day', 'street_code', 'department_id', 'category_id', 'minutes',
                                            name=op.f('pk_report_resolve_minutes')))
    op.create_index('ix_report_resolve_minutes_bucket_day', 'report_resolve_minutes', ['bucket', 'day'])
