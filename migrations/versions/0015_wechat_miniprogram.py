"""WeChat mini-program: refresh grace, subscribe-message grants, the outbox

- refresh_tokens.successor_enc: the pair a refresh token was exchanged for (encrypted), answered again to a
  parallel refresh within the grace window.
- users.wechat_openid_enc: the openid (encrypted) that subscribe messages are addressed to; the blind index alone
  cannot be reversed.
- subscribe_grants: what wx.requestSubscribeMessage answered per user and template (one-time grants counted).
- message_outbox: subscribe messages written with their event, sent by `flask outbox deliver`.

Revision ID: 0015
Revises: 0013
Create Date: 2026-12-06 11:00:00

"""
from alembic import op
import sqlalchemy as sa

from app.common.types import UTCDateTime


# revision identifiers, used by Alembic.
revision = '0015'
down_revision = '0013'
branch_labels = None
depends_on = None


_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade():
    with op.batch_alter_table('refresh_tokens') as batch:
        batch.add_column(sa.Column('successor_enc', sa.LargeBinary(), nullable=True))
    with op.batch_alter_table('users') as batch:
        batch.add_column(sa.Column('wechat_openid_enc', sa.LargeBinary(), nullable=True))
    op.create_table(
        'subscribe_grants',
        sa.Column('user_id', _ID, nullable=False),
        sa.Column('template_id', sa.String(length=64), nullable=False),
        sa.Column('remaining', sa.Integer(), nullable=False),
        sa.Column('last_result', sa.String(length=10), nullable=False),
        sa.Column('updated_at', UTCDateTime(timezone=True), nullable=False),
        sa.Column('refused_at', UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_subscribe_grants_user_id_users'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('user_id', 'template_id', name=op.f('pk_subscribe_grants')),
    )
    op.create_table(
        'message_outbox',
        sa.Column('id', _ID, autoincrement=False, nullable=False),
        sa.Column('user_id', _ID, nullable=False),
        sa.Column('kind', sa.String(length=24), nullable=False),
        sa.Column('template_id', sa.String(length=64), nullable=False),
        sa.Column('page', sa.String(length=128), nullable=False),
        sa.Column('data', sa.JSON(), nullable=False),
        sa.Column('status', sa.String(length=10), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('next_attempt_at', UTCDateTime(timezone=True), nullable=False),
        sa.Column('last_errcode', sa.Integer(), nullable=True),
        sa.Column('created_at', UTCDateTime(timezone=True), nullable=False),
        sa.Column('sent_at', UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_message_outbox_user_id_users'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_message_outbox')),
    )
    op.create_index('ix_message_outbox_due', 'message_outbox', ['status', 'next_attempt_at'])
    op.create_index(op.f('ix_message_outbox_user_id'), 'message_outbox', ['user_id'])


def downgrade():
    op.drop_table('message_outbox')
    op.drop_table('subscribe_grants')
    with op.batch_alter_table('users') as batch:
        batch.drop_column('wechat_openid_enc')
    with op.batch_alter_table('refresh_tokens') as batch:
        batch.drop_column('successor_enc')
