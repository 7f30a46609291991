"""health persons carry the colour; codes link accounts to persons; one visit per person and venue; venue approval

- health_persons: one row per document (blind index), with the colour state that was on each code. Every live
  code becomes its own person (the document was unique per code), with the code's id as the person's id.
- health_codes: person_id, verified_at, verify_by. Existing codes were never checked against the identity
  provider: they are unverified, with VERIFY_GRACE to verify before new tokens stop. Their doc_hash and colour
  columns move to the person.
- latest_visits (person, venue) replaces latest_checkins (code, venue): every way a scan arrives claims it.
- venues: uscc, approved_at, approved_by (existing venues start unapproved).

Revision ID: 0011
Revises: 0018
Create Date: 2026-12-06 11:00:00

"""
from datetime import datetime, timedelta, timezone

from alembic import op
import sqlalchemy as sa
import app.common.types


# revision identifiers, used by Alembic.
revision = '0011'
down_revision = '0018'
branch_labels = None
depends_on = None

VERIFY_GRACE = timedelta(days=14)
_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
_TIME = app.common.types.UTCDateTime(timezone=True)
_ONE_SELF = sa.text("relation = 'self' AND revoked_at IS NULL")
_LIVE = sa.text("revoked_at IS NULL")
_COLOUR_COLUMNS = "colour, colour_reason, colour_since, review_at, rules_version"


def upgrade():
    op.create_table('health_persons',
    sa.Column('id', _ID, nullable=False),
    sa.Column('doc_hash', sa.String(length=32), nullable=False),
    sa.Column('id_type', sa.String(length=20), nullable=False),
    sa.Column('colour', sa.String(length=6), nullable=False),
    sa.Column('colour_reason', sa.String(length=32), nullable=False),
    sa.Column('colour_since', _TIME, nullable=False),
    sa.Column('review_at', _TIME, nullable=True),
    sa.Column('rules_version', sa.String(length=16), nullable=False),
    sa.Column('created_at', _TIME, nullable=False),
    sa.Column('unlinked_at', _TIME, nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_health_persons')),
    sa.UniqueConstraint('doc_hash', name=op.f('uq_health_persons_doc_hash'))
    )
    with op.batch_alter_table('health_persons', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_health_persons_review_at'), ['review_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_health_persons_unlinked_at'), ['unlinked_at'], unique=False)
    op.execute(f"INSERT INTO health_persons (id, doc_hash, id_type, {_COLOUR_COLUMNS}, created_at) "
               f"SELECT id, doc_hash, id_type, {_COLOUR_COLUMNS}, created_at FROM health_codes "
               "WHERE doc_hash IS NOT NULL")

    with op.batch_alter_table('health_codes', schema=None) as batch_op:
        batch_op.add_column(sa.Column('person_id', _ID, nullable=True))
        batch_op.add_column(sa.Column('verified_at', _TIME, nullable=True))
        batch_op.add_column(sa.Column('verify_by', _TIME, nullable=True))
    op.get_bind().execute(sa.text("UPDATE health_codes SET person_id = id, verify_by = :by WHERE doc_hash IS NOT NULL"),
                          {"by": datetime.now(timezone.utc).replace(microsecond=0) + VERIFY_GRACE})
    with op.batch_alter_table('health_codes', schema=None) as batch_op:
        batch_op.drop_index('ix_health_codes_review_at')
        batch_op.drop_constraint('uq_health_codes_doc_hash', type_='unique')
        for column in ('doc_hash', 'colour', 'colour_reason', 'colour_since', 'review_at', 'rules_version'):
            batch_op.drop_column(column)
        batch_op.create_foreign_key(batch_op.f('fk_health_codes_person_id_health_persons'), 'health_persons',
                                    ['person_id'], ['id'])
        batch_op.create_index(batch_op.f('ix_health_codes_person_id'), ['person_id'], unique=False)
        batch_op.create_index('uq_health_codes_person_self', ['person_id'], unique=True,
                              postgresql_where=_ONE_SELF, sqlite_where=_ONE_SELF)
        batch_op.create_index('uq_health_codes_person_owner', ['person_id', 'owner_id'], unique=True,
                              postgresql_where=_LIVE, sqlite_where=_LIVE)

    op.drop_table('latest_checkins')
    op.create_table('latest_visits',
    sa.Column('person_id', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('venue_id', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('scan_id', sa.BigInteger(), nullable=False),
    sa.Column('visited_at', _TIME, nullable=False),
    sa.PrimaryKeyConstraint('person_id', 'venue_id', name=op.f('pk_latest_visits'))
    )
    with op.batch_alter_table('latest_visits', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_latest_visits_visited_at'), ['visited_at'], unique=False)

    with op.batch_alter_table('venues', schema=None) as batch_op:
        batch_op.add_column(sa.Column('uscc', sa.String(length=18), nullable=True))
        batch_op.add_column(sa.Column('approved_at', _TIME, nullable=True))
        batch_op.add_column(sa.Column('approved_by', _ID, nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_venues_approved_by_users'), 'users', ['approved_by'], ['id'])


def downgrade():
    with op.batch_alter_table('venues', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_venues_approved_by_users'), type_='foreignkey')
        for column in ('approved_by', 'approved_at', 'uscc'):
            batch_op.drop_column(column)
    op.drop_table('latest_visits')
    op.create_table('latest_checkins',
    sa.Column('health_code_id', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('venue_id', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('scan_id', sa.BigInteger(), nullable=False),
    sa.Column('checked_in_at', _TIME, nullable=False),
    sa.PrimaryKeyConstraint('health_code_id', 'venue_id', name=op.f('pk_latest_checkins'))
    )
    with op.batch_alter_table('latest_checkins', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_latest_checkins_checked_in_at'), ['checked_in_at'], unique=False)
    # Persons shared by several codes cannot go back to one code each: only the self (or first) code keeps it.
    with op.batch_alter_table('health_codes', schema=None) as batch_op:
        batch_op.add_column(sa.Column('doc_hash', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('colour', sa.String(length=6), nullable=False, server_default='green'))
        batch_op.add_column(sa.Column('colour_reason', sa.String(length=32), nullable=False,
                                      server_default='no_risk'))
        batch_op.add_column(sa.Column('colour_since', _TIME, nullable=True))
        batch_op.add_column(sa.Column('review_at', _TIME, nullable=True))
        batch_op.add_column(sa.Column('rules_version', sa.String(length=16), nullable=False, server_default=''))
    for column in ('colour', 'colour_reason', 'colour_since', 'review_at', 'rules_version'):
        op.execute(f"UPDATE health_codes SET {column} = (SELECT p.{column} FROM health_persons p "
                   "WHERE p.id = health_codes.person_id) WHERE person_id IS NOT NULL")
    op.execute("UPDATE health_codes SET doc_hash = (SELECT p.doc_hash FROM health_persons p "
               "WHERE p.id = health_codes.person_id) WHERE revoked_at IS NULL AND id IN (SELECT min(c.id) FROM "
               "health_codes c WHERE c.revoked_at IS NULL GROUP BY c.person_id)")
    op.execute("UPDATE health_codes SET colour_since = created_at WHERE colour_since IS NULL")
    with op.batch_alter_table('health_codes', schema=None) as batch_op:
        batch_op.drop_index('uq_health_codes_person_owner', postgresql_where=_LIVE, sqlite_where=_LIVE)
        batch_op.drop_index('uq_health_codes_person_self', postgresql_where=_ONE_SELF, sqlite_where=_ONE_SELF)
        batch_op.drop_index(batch_op.f('ix_health_codes_person_id'))
        batch_op.drop_constraint(batch_op.f('fk_health_codes_person_id_health_persons'), type_='foreignkey')
        for column in ('verify_by', 'verified_at', 'person_id'):
            batch_op.drop_column(column)
        batch_op.alter_column('colour_since', existing_type=_TIME, nullable=False)
        batch_op.create_unique_constraint('uq_health_codes_doc_hash', ['doc_hash'])
        batch_op.create_index('ix_health_codes_review_at', ['review_at'], unique=False)
    with op.batch_alter_table('health_persons', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_health_persons_unlinked_at'))
        batch_op.drop_index(batch_op.f('ix_health_persons_review_at'))
    op.drop_table('health_persons')
