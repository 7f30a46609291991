"""idempotent_requests.location: the stored answer's Location header, replayed with it

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-06 16:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('idempotent_requests') as batch_op:
        batch_op.add_column(sa.Column('location', sa.String(length=500), nullable=True))


def downgrade():
    with op.batch_alter_table('idempotent_requests') as batch_op:
        batch_op.drop_column('location')
