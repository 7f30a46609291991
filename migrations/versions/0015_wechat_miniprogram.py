"""WeChat mini-program: refresh grace, subscribe-message grants, the outbox

- refresh_tokens.successor_enc: the pair a refresh token was exchanged for (encrypted), answered again to a
  parallel refresh within the grace window.

Revision ID: 0015
Revises: 0009
Create Date: 2026-12-06 11:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0015'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('refresh_tokens') as batch:
        batch.add_column(sa.Column('successor_enc', sa.LargeBinary(), nullable=True))


def downgrade():
    with op.batch_alter_table('refresh_tokens') as batch:
        batch.drop_column('successor_enc')
