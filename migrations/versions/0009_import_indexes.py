"""users, role_grants, volunteers: cheaper indexes for the bulk import

- users.username and users.wechat_openid_hash: partial unique indexes (WHERE … IS NOT NULL) instead of unique
  constraints. Uniqueness is the same (NULLs never clashed), but an account made by phone, which has neither, no
  longer adds two NULL entries to them.
- users.phone_hash, volunteers.name_index, role_grants.role: collation "C" on PostgreSQL. They are keyed hashes
  or fixed codes, only compared for equality, so byte comparison answers the same, without the locale's rules.
- role_grants: the grant (user_id, role, area_code) is the primary key; the surrogate id, which nothing refers to,
  and its index go. Each imported volunteer has two grants: one index entry less each.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-28 20:10:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

_PARTIAL = (('username', 'uq_users_username'), ('wechat_openid_hash', 'uq_users_wechat_openid_hash'))
_BYTE_ORDERED = (('users', 'phone_hash', 32), ('volunteers', 'name_index', 32), ('role_grants', 'role', 20))


def _collate(collation):
    if op.get_bind().dialect.name != 'postgresql':
        return  # SQLite compares these as bytes already
    for table, column, length in _BYTE_ORDERED:
        op.alter_column(table, column, type_=sa.String(length, collation=collation),
                        existing_type=sa.String(length), existing_nullable=table != 'role_grants')


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        for column, constraint in _PARTIAL:
            batch_op.drop_constraint(constraint, type_='unique')
            where = sa.text(f'{column} IS NOT NULL')
            batch_op.create_index(f'ix_users_{column}', [column], unique=True, postgresql_where=where,
                                  sqlite_where=where)
    with op.batch_alter_table('role_grants', schema=None) as batch_op:
        batch_op.drop_constraint('uq_role_grants_user_id_role_area_code', type_='unique')
        batch_op.drop_constraint('pk_role_grants', type_='primary')
        batch_op.drop_column('id')
        batch_op.create_primary_key('pk_role_grants', ['user_id', 'role', 'area_code'])
    _collate('C')


def downgrade():
    _collate(None)
    with op.batch_alter_table('role_grants', schema=None) as batch_op:
        batch_op.drop_constraint('pk_role_grants', type_='primary')
        batch_op.add_column(sa.Column('id', sa.Integer(), sa.Identity() if op.get_bind().dialect.name == 'postgresql'
                                      else None, nullable=False))
        batch_op.create_primary_key('pk_role_grants', ['id'])
        batch_op.create_unique_constraint('uq_role_grants_user_id_role_area_code', ['user_id', 'role', 'area_code'])
    with op.batch_alter_table('users', schema=None) as batch_op:
        for column, constraint in _PARTIAL:
            batch_op.drop_index(f'ix_users_{column}')
            batch_op.create_unique_constraint(constraint, [column])
