"""report_tallies, report_resolve_minutes: the settled outcomes of reports per day filed, street, department and
category with coarse buckets of their resolve times, and the resolve-minute histogram (0022 fills them);
open reports indexed by filing time

Revision ID: 0019
Revises: 0012

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = '0019'
down_revision = '0012'
branch_labels = None
depends_on = None

# The counts as this revision defined them (0022 replaces the tables and fills them).
COUNTS = ("filed", "responded", "responded_on_time", "resolved", "resolved_on_time", "confirmed", "closed", "flagged",
          *(f"resolved_in_{i:02d}" for i in range(24)))
OPEN = "state IN ('submitted', 'accepted', 'dispatched', 'in_progress', 'reopened')"


def _key() -> list:
    return [sa.Column('day', sa.Date(), nullable=False),
            sa.Column('street_code', sa.String(length=9).with_variant(sa.String(length=9, collation='C'),
                                                                       'postgresql'), nullable=False),
            sa.Column('department_id', sa.SmallInteger(), nullable=False),
            sa.Column('category_id', sa.SmallInteger(), nullable=False)]


def upgrade():
    op.create_table('report_tallies', *_key(),
                    *[sa.Column(name, sa.Integer(), nullable=False) for name in COUNTS],
                    sa.PrimaryKeyConstraint('day', 'street_code', 'department_id', 'category_id',
                                            name=op.f('pk_report_tallies')))
    op.create_index('ix_report_tallies_street_day', 'report_tallies', ['street_code', 'day'])
    op.create_table('report_resolve_minutes', *_key(),
                    sa.Column('minutes', sa.Integer(), autoincrement=False, nullable=False),
                    sa.Column('bucket', sa.SmallInteger(), nullable=False),
                    sa.Column('n', sa.Integer(), nullable=False),
                    sa.PrimaryKeyConstraint('day', 'street_code', 'department_id', 'category_id', 'minutes',
                                            name=op.f('pk_report_resolve_minutes')))
    op.create_index('ix_report_resolve_minutes_bucket_day', 'report_resolve_minutes', ['bucket', 'day'])
    op.create_index('ix_reports_open_submitted', 'reports', ['submitted_at', 'grid_code'],
                    postgresql_where=sa.text(OPEN), sqlite_where=sa.text(OPEN))


def downgrade():
    op.drop_index('ix_reports_open_submitted', table_name='reports')
    op.drop_table('report_resolve_minutes')
    op.drop_table('report_tallies')
