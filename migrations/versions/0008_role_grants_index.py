"""role_grants: drop ix_role_grants_user_id, which the unique (user_id, role, area_code) index already serves

Every look-up by user_id (a user's grants, the cascade when a user is deleted) uses the unique index, whose first
column is user_id; the single-column index only cost a third index entry per grant (two grants per imported
volunteer).

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-28 16:50:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('role_grants', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_role_grants_user_id'))


def downgrade():
    with op.batch_alter_table('role_grants', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_role_grants_user_id'), ['user_id'], unique=False)
