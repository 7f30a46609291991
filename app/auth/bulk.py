"""Accounts and grants in another domain's set-based statements. The volunteer import stages each batch in a table of
its own and writes the batch's accounts and their grants in a few statements whatever its size, and its scope check
joins the staged rows to accounts by phone hash: the functions below build those statements (or the pieces of them
that read accounts) over the columns the caller passes, so that no other domain names the accounts' tables. None
runs anything: the caller executes them in its transaction, and forgets the cached principals of the accounts it
changed (`principal.forget`)."""
from datetime import datetime

from sqlalchemy import Column, ColumnElement, Exists, ScalarSelect, Select, exists, literal, select, true, union_all
from sqlalchemy.sql.dml import Insert

from app.auth.models import CITY_CODE, RoleGrant, User
from app.common.types import UTCDateTime
from app.common.upsert import insert


def insert_accounts(*, user_id: Column, phone_hash: Column, phone_enc: Column, now: datetime,
                    upsert: bool = True) -> Insert:
    """INSERT … SELECT an active account (id, phone hash, encrypted phone) for each row of the columns' table. With
    upsert a phone that has an account already is skipped; without, it stops the statement (a unique violation).
    The rowcount (accounts made) is kept."""
    # WHERE true: SQLite cannot tell an upsert's ON CONFLICT from a join's ON after a bare INSERT … SELECT.
    picked = select(user_id, phone_hash, phone_enc, true(), literal(now, UTCDateTime)).where(true())
    stmt = insert(User.__table__).from_select(["id", "phone_hash", "phone_enc", "is_active", "created_at"], picked)
    if upsert:
        stmt = stmt.on_conflict_do_nothing(index_elements=["phone_hash"])
    return stmt.execution_options(preserve_rowcount=True)


def insert_city_grants(*, user_id: Column, roles: tuple[str, ...], now: datetime, upsert: bool = True) -> Insert:
    """INSERT … SELECT each of `roles`, city-wide, for the account of each row of `user_id`'s table, in account
    order. With upsert a grant the account holds already is skipped."""
    role = union_all(*[select(literal(r).label("role")) for r in roles]).subquery()
    picked = select(user_id, role.c.role, literal(CITY_CODE), literal(now, UTCDateTime)) \
        .select_from(user_id.table.join(role, true())).where(true()).order_by(user_id)
    stmt = insert(RoleGrant.__table__).from_select(["user_id", "role", "area_code", "created_at"], picked)
    return stmt.on_conflict_do_nothing(index_elements=["user_id", "role", "area_code"]) if upsert else stmt


def account_id(phone_hash: ColumnElement) -> ScalarSelect:
    """The id of the account with this phone hash (a column of the caller's statement), or NULL."""
    return select(User.id).where(User.phone_hash == phone_hash).scalar_subquery()


def is_account(user_id: ColumnElement, phone_hash: ColumnElement) -> Exists:
    """Whether the account `user_id` exists with this phone hash."""
    return exists().where(User.id == user_id, User.phone_hash == phone_hash)


def join_accounts(stmt: Select, phone_hash: ColumnElement) -> tuple[Select, ColumnElement]:
    """(`stmt` joined to the account with each row's phone hash, rows without one dropped; that account's id, for
    stmt to join on further)."""
    return stmt.join(User, User.phone_hash == phone_hash), User.id
