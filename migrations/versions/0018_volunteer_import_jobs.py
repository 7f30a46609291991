"""volunteer_import_jobs: uploaded volunteer files run by the import worker, with their progress

The uploaded file is kept in the row until its job ends, so that the worker command (or the development server's
thread) can run it in any process.

Revision ID: 0018
Revises: 0015
Create Date: 2026-12-06 10:46:16

"""
from alembic import op
import sqlalchemy as sa
import app.common.types


# revision identifiers, used by Alembic.
revision = '0018'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('volunteer_import_jobs',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=False, nullable=False),
    sa.Column('created_by', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('state', sa.String(length=10), nullable=False),
    sa.Column('content', sa.LargeBinary(), nullable=True),
    sa.Column('rows_total', sa.Integer(), nullable=True),
    sa.Column('rows_done', sa.Integer(), nullable=False),
    sa.Column('inserted', sa.Integer(), nullable=False),
    sa.Column('updated', sa.Integer(), nullable=False),
    sa.Column('rejected', sa.Integer(), nullable=False),
    sa.Column('rejected_rows', sa.Text(), nullable=True),
    sa.Column('error', sa.String(length=40), nullable=True),
    sa.Column('message', sa.String(length=200), nullable=True),
    sa.Column('created_at', app.common.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('started_at', app.common.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('updated_at', app.common.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('finished_at', app.common.types.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint("state IN ('queued', 'running', 'done', 'failed')", name=op.f('ck_volunteer_import_jobs_state')),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_volunteer_import_jobs_created_by_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_volunteer_import_jobs'))
    )
    with op.batch_alter_table('volunteer_import_jobs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_volunteer_import_jobs_created_by'), ['created_by'], unique=False)
        batch_op.create_index('ix_volunteer_import_jobs_state', ['state', 'created_at'], unique=False)



def downgrade():
    with op.batch_alter_table('volunteer_import_jobs', schema=None) as batch_op:
        batch_op.drop_index('ix_volunteer_import_jobs_state')
        batch_op.drop_index(batch_op.f('ix_volunteer_import_jobs_created_by'))

    op.drop_table('volunteer_import_jobs')
