"""users: random ids; staff sign-in lockout and TOTP second factor

Random ids, like every other table's, instead of the sequence's 1, 2, 3 …

New accounts take a random 63-bit id (app.common.ids.random_id; the bulk import draws its own in the stage), so
an id tells neither how many accounts there are nor which came before or after. The column keeps its type
(BIGINT on PostgreSQL, INTEGER, which holds 64 bits, on SQLite), as do the columns that refer to it.
On PostgreSQL the sequence and its default go; SQLite has neither. Existing accounts keep their ids: renumbering
them would sign every user out and rewrite every table that refers to an account.

sign_in_failures holds the failed staff sign-ins of each username (known or not: a lockout must not tell which
usernames exist); users gain the encrypted TOTP secret, when it was confirmed and the last time step accepted.

Revision ID: 0014
Revises: 0017
Create Date: 2026-12-06 11:15:00

"""
from alembic import op
import sqlalchemy as sa

import app.common.types


# revision identifiers, used by Alembic.
revision = '0014'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('sign_in_failures',
    sa.Column('username_hash', sa.String(length=64), nullable=False),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('last_failed_at', app.common.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('locked_until', app.common.types.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('username_hash', name=op.f('pk_sign_in_failures'))
    )
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('totp_secret_enc', sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column('totp_enabled_at', app.common.types.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('totp_last_step', sa.BigInteger(), nullable=True))
    if op.get_bind().dialect.name != 'postgresql':
        return
    op.execute('ALTER TABLE users ALTER COLUMN id DROP DEFAULT')
    op.execute('DROP SEQUENCE IF EXISTS users_id_seq')


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('totp_last_step')
        batch_op.drop_column('totp_enabled_at')
        batch_op.drop_column('totp_secret_enc')
    op.drop_table('sign_in_failures')
    if op.get_bind().dialect.name != 'postgresql':
        return
    # Numbering resumes above the small ids that came from the sequence (random ids are far above any of them).
    op.execute('CREATE SEQUENCE users_id_seq OWNED BY users.id')
    op.execute("SELECT setval('users_id_seq', COALESCE((SELECT max(id) FROM users WHERE id < 4294967296), 0) + 1, "
               "false)")
    op.execute("ALTER TABLE users ALTER COLUMN id SET DEFAULT nextval('users_id_seq')")
