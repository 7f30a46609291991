"""invitations; attendance reviews

- invitations: one row per place offered (a group's membership, a venue's inspector post) and invitee; nothing
  changes for the invitee until they accept.
- patrol_attendances.review: 'pending' for a check-out far outside the geofence (no hours until an organiser
  certifies them), 'done' once reviewed.

Revision ID: 0013
Revises: 0016
Create Date: 2026-12-06 11:00:00

"""
from alembic import op
import sqlalchemy as sa
import app.common.types


# revision identifiers, used by Alembic.
revision = '0013'
down_revision = '0016'
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade():
    op.create_table('invitations',
    sa.Column('id', _ID, autoincrement=False, nullable=False),
    sa.Column('kind', sa.String(length=12), nullable=False),
    sa.Column('target_id', sa.BigInteger(), nullable=False),
    sa.Column('target_name', sa.String(length=100), nullable=False),
    sa.Column('area_code', sa.String(length=14).with_variant(sa.String(length=14, collation='C'), 'postgresql'), nullable=False),
    sa.Column('invitee_id', _ID, nullable=False),
    sa.Column('invited_by', _ID, nullable=True),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('created_at', app.common.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('decided_at', app.common.types.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint("kind IN ('group', 'venue_staff')", name=op.f('ck_invitations_kind')),
    sa.CheckConstraint("status IN ('pending', 'accepted', 'declined')", name=op.f('ck_invitations_status')),
    sa.ForeignKeyConstraint(['invitee_id'], ['users.id'], name=op.f('fk_invitations_invitee_id_users'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['invited_by'], ['users.id'], name=op.f('fk_invitations_invited_by_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_invitations')),
    sa.UniqueConstraint('kind', 'target_id', 'invitee_id', name=op.f('uq_invitations_kind_target_id_invitee_id'))
    )
    with op.batch_alter_table('invitations', schema=None) as batch_op:
        batch_op.create_index('ix_invitations_invitee_status_created', ['invitee_id', 'status', 'created_at', 'id'],
                              unique=False)
    with op.batch_alter_table('patrol_attendances', schema=None) as batch_op:
        batch_op.add_column(sa.Column('review', sa.String(length=8), nullable=True))
        batch_op.create_check_constraint(op.f('ck_patrol_attendances_review'), "review IN ('pending', 'done')")


def downgrade():
    with op.batch_alter_table('patrol_attendances', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_patrol_attendances_review'), type_='check')
        batch_op.drop_column('review')
    with op.batch_alter_table('invitations', schema=None) as batch_op:
        batch_op.drop_index('ix_invitations_invitee_status_created')
    op.drop_table('invitations')
