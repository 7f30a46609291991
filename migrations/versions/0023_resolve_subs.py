"""report_resolve_subs: resolved reports per coarse bucket and month, counted in the bucket's sixteen sub-buckets,
per street and, per department and category, in the city and each district; report_resolve_minutes indexed by
street, department and category with the minutes; the open reports' filing-time index covering what the figures
read of them; the tallies filled from the reports

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-06 21:00:00

"""
import sqlalchemy as sa
from alembic import op

from app.reports import tallies

# revision identifiers, used by Alembic.
revision = '0023'
down_revision = '0022'
branch_labels = None
depends_on = None

CODE = sa.String(length=9).with_variant(sa.String(length=9, collation='C'), 'postgresql')
SUBS = tuple(f"sub_{i:02d}" for i in range(16))
OPEN = sa.text("state IN ('submitted', 'accepted', 'dispatched', 'in_progress', 'reopened')")
MINUTES_INDEXES = {'street': ('street_code', ['day', 'n']),
                   'department': ('department_id', ['day', 'street_code', 'n']),
                   'category': ('category_id', ['day', 'street_code', 'n'])}
LIVE = ['department_id', 'category_id', 'due_at', 'accept_due_at', 'responded_at', 'resolve_due_at', 'resolved_at']


def _open_submitted(include: list) -> None:
    op.drop_index('ix_reports_open_submitted', table_name='reports', postgresql_where=OPEN, sqlite_where=OPEN)
    op.create_index('ix_reports_open_submitted', 'reports', ['submitted_at', 'grid_code'], postgresql_where=OPEN,
                    sqlite_where=OPEN, postgresql_include=include)


def upgrade():
    op.create_table('report_resolve_subs',
                    sa.Column('bucket', sa.SmallInteger(), autoincrement=False, nullable=False),
                    sa.Column('dim', sa.String(length=1), nullable=False),
                    sa.Column('area_code', CODE, nullable=False),
                    sa.Column('group_key', sa.Integer(), autoincrement=False, nullable=False),
                    sa.Column('month', sa.Date(), nullable=False),
                    *[sa.Column(name, sa.Integer(), nullable=False) for name in SUBS],
                    sa.PrimaryKeyConstraint('bucket', 'dim', 'area_code', 'group_key', 'month',
                                            name=op.f('pk_report_resolve_subs')))
    _open_submitted(LIVE)
    tallies.fill(op.get_bind())
    for name, (column, include) in MINUTES_INDEXES.items():  # built once filled: one sort each
        op.create_index(f'ix_report_resolve_minutes_{name}_minutes', 'report_resolve_minutes', [column, 'minutes'],
                        postgresql_include=include)


def downgrade():
    """Back to 0022's tables: the tallies and minutes stay as they are."""
    _open_submitted([])
    for name in MINUTES_INDEXES:
        op.drop_index(f'ix_report_resolve_minutes_{name}_minutes', table_name='report_resolve_minutes')
    op.drop_table('report_resolve_subs')
