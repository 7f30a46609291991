"""The bulk path shared by imports and the demo generator: batches of checked, encrypted volunteers, one transaction
per batch, in one of two ways.

Both fill a temporary stage table (binary COPY on PostgreSQL), then:

- new people (PostgreSQL, a city's first import): plain INSERT … SELECT of the accounts, their grants (`resident`,
  `volunteer`) and the volunteers; a phone that has an account stops it, and the batch is upserted instead;
- otherwise (always on SQLite, and for the rest of a run once a batch met a known phone), set-based upserts:
  accounts by phone hash (new ones get `resident` and `volunteer`), volunteer rows inserted, existing ones (the same
  phone again) locked, remembered and updated.

Then counts are moved by the difference and community groups created."""
import gc
import queue
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import NamedTuple

from flask import current_app
from sqlalchemy import (
    BigInteger,
    Column,
    Integer,
    LargeBinary,
    MetaData,
    SmallInteger,
    String,
    Table,
    case,
    literal,
    select,
    text,
    true,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.schema import CreateTable

from app.auth import bulk as account_bulk
from app.auth import principal
from app.common.ids import random_ids
from app.common.time import utcnow
from app.common.types import UTCDateTime
from app.common.upsert import copy_rows, insert, is_postgres
from app.extensions import db
from app.volunteers import counts, import_scope, locality, signals
from app.volunteers.models import Volunteer
from app.volunteers.taxonomy import Catalogue


class StageRow(NamedTuple):
    """A checked, encrypted row, as staged (COPY)."""

    line: int
    phone_hash: str
    phone_enc: bytes
    name_enc: bytes
    name_index: str
    grid_code: str
    trade_id: int
    interest_mask: int
    service_roles: int
    new_id: int


STAGE_COLUMNS = StageRow._fields
# the stage's PostgreSQL types, for binary COPY
_STAGE_TYPES = ("int4", "varchar", "bytea", "bytea", "varchar", "varchar", "int2", "int8", "int2", "int8")


def _stage_table(user_id: Column) -> Table:
    return Table("volunteer_import_stage", MetaData(),
                 Column("line", Integer), Column("phone_hash", String(32)), Column("phone_enc", LargeBinary),
                 Column("name_enc", LargeBinary), Column("name_index", String(32)), Column("grid_code", String(14)),
                 Column("trade_id", SmallInteger), Column("interest_mask", BigInteger),
                 Column("service_roles", SmallInteger), Column("new_id", BigInteger), user_id,
                 prefixes=["TEMPORARY"], postgresql_on_commit="DELETE ROWS")


# Each staged row draws a random account id as the stage fills (60 random bits of a version-4 UUID on PostgreSQL,
# SQLite's random()): new accounts are inserted with it, and only the phones that had an account already are
# looked up (an UPDATE of the stage, a rewrite of its rows, is then needed for those alone).
_STAGE = _stage_table(Column("user_id", BigInteger, server_default=text(
    "(('x' || translate(left(gen_random_uuid()::text, 18), '-', ''))::bit(64)::bigint & 9223372036854775807)")))
_STAGE_SQLITE = _stage_table(Column("user_id", BigInteger, server_default=text("(random() & 9223372036854775807)")))
NEW_ACCOUNT_ROLES = ("resident", "volunteer")  # what an imported person's new account is granted, city-wide


@dataclass
class Batch:
    """Checked rows ready to write (at most one per phone; plain tuples in STAGE_COLUMNS order), the counts they
    add and the communities they live in."""

    rows: list = field(default_factory=list)
    tally: counts.Tally = field(default_factory=counts.Tally)
    communities: set = field(default_factory=set)


@dataclass
class Written:
    inserted: int = 0
    updated: int = 0
    refused: int = 0  # rows import_scope refused (people with accounts already)


def make_batch(rows_by_phone: dict) -> Batch:
    """A batch from {phone_hash: stage row}, with the tally of what the rows add.

    Index locality decides bulk speed once the indexes outgrow memory. Rows are staged in phone-hash order (the
    accounts' index is swept once per batch, and two imports sharing people meet them in the same order); their
    ids, still random, ascend in grid order, and the volunteers are inserted in that order, so the volunteers' id
    and grid indexes are swept too instead of hit at random."""
    rows = [rows_by_phone[key] for key in sorted(rows_by_phone)]
    _, _, _, _, _, grids, trades, interests, roles, _ = columns = list(zip(*rows))
    new_ids = [0] * len(rows)
    for n, new_id in zip(sorted(range(len(rows)), key=grids.__getitem__), sorted(random_ids(len(rows)))):
        new_ids[n] = new_id
    columns[-1] = new_ids
    batch = Batch(rows=list(zip(*columns)), communities={grid[:12] for grid in set(grids)})
    batch.tally.add_masks(grids, trades, interests, roles)
    return batch


class Writer:
    """Writes batches in the current app's session; one commit per batch."""

    def __init__(self, source: str = "import", allowed_areas=None, on_reject=None):
        self.source, self.catalogue, self.postgres = source, Catalogue(), is_postgres()
        self.allowed, self.on_reject = (tuple(allowed_areas) if allowed_areas else None), on_reject
        self.straight = self.postgres  # plain inserts for new people, until a batch meets a known phone
        self.communities: set[str] = set()

    def write(self, batch: Batch) -> Written:
        """Write one batch and commit it: plain inserts while every phone is new (PostgreSQL), else upserts."""
        now = utcnow()
        moved, known = {}, []
        written = self._insert_new(batch, now) if self.straight else None
        if written is None:
            written, moved, known = self._upsert(batch, now)
        # counters before groups, as registrations and moves do: writers meet the same locks in the same order
        counts.apply(batch.tally, self.catalogue)
        locality.drop_memberships(moved)
        if moved:
            signals.volunteers_moved.send(None, moved=moved)
        fresh = batch.communities - self.communities
        if fresh:
            locality.ensure_auto_groups(fresh)
            self.communities |= fresh
        if not self.postgres:
            db.session.execute(_STAGE.delete())
        db.session.commit()
        if known:
            principal.forget(known)
        return written

    def _insert_new(self, batch: Batch, now) -> Written | None:
        """A city's first import (PostgreSQL): the staged accounts, their grants and the volunteers inserted as
        they are, with no ON CONFLICT (no speculative insertion, no look-up of existing accounts or volunteers).
        When a phone of the batch has an account already (or gains one from a concurrent writer), the accounts'
        INSERT stops at it with a unique violation: the batch is rolled back, None is returned with nothing
        written, and this writer's later batches upsert (the file is evidently not all new). Cheaper than looking
        the batch's phones up first (an index probe a row), and without the race such a look-up
        would leave."""
        self._stage(batch.rows)
        run = db.session.execute
        try:
            run(self._users(now, upsert=False))
        except IntegrityError:  # a phone with an account: the batch goes the upsert way
            db.session.rollback()
            self.straight = False
            return None
        run(self._grants(NEW_ACCOUNT_ROLES, now, upsert=False))
        run(self._volunteers(now, upsert=False))
        return Written(len(batch.rows), 0)

    def _upsert(self, batch: Batch, now) -> tuple[Written, dict, list]:
        """Upsert a batch through the stage; returns what was written, {volunteer id: new grid} of those who moved
        and the accounts that were there before."""
        self._stage(batch.rows)
        refused = import_scope.refuse(_STAGE, batch.tally, self.allowed)
        for line, reason in refused if self.on_reject else ():
            self.on_reject(line, [reason])
        staged = len(batch.rows) - len(refused)
        run = db.session.execute
        new_users = run(self._users(now)).rowcount
        # Accounts that were there before may gain the volunteer role: their cached principals must go (after the
        # commit). On SQLite the new ones may come too; forgetting them is harmless.
        known = []
        if new_users < staged or not self.postgres:
            known = run(self._known_accounts(every_row=new_users == 0)).scalars().all()
        run(self._grants(NEW_ACCOUNT_ROLES if new_users else ("volunteer",), now))
        inserted = run(self._volunteers(now)).rowcount
        moved = {}
        if inserted < staged:  # someone was a volunteer already (never when every account is new)
            moved = self._update_existing(batch.tally, now)
        return Written(inserted, staged - inserted, len(refused)), moved, known

    def _stage(self, rows: list) -> None:
        """Fill the stage with a batch's rows (in this transaction)."""
        # The stage is per connection, and the pool may hand this batch another one: make sure it is there.
        db.session.execute(CreateTable(_STAGE if self.postgres else _STAGE_SQLITE, if_not_exists=True))
        if self.postgres:
            db.session.execute(text("SET LOCAL work_mem = '64MB'"))  # a batch's sorts stay in memory
            copy_rows(_STAGE.name, STAGE_COLUMNS, rows, _STAGE_TYPES)
        else:
            db.session.execute(_STAGE.insert(), [dict(zip(STAGE_COLUMNS, row)) for row in rows])

    @staticmethod
    def _users(now, upsert: bool = True):
        s = _STAGE.c
        return account_bulk.insert_accounts(user_id=s.user_id, phone_hash=s.phone_hash, phone_enc=s.phone_enc,
                                            now=now, upsert=upsert)

    @staticmethod
    def _known_accounts(every_row: bool):
        """Set the stage's account ids of the phones that had an account already (of every row when none is new);
        returns those ids."""
        s = _STAGE.c
        stmt = update(_STAGE).values(user_id=account_bulk.account_id(s.phone_hash))
        if not every_row:  # a row whose drawn id did not make an account of its phone
            stmt = stmt.where(~account_bulk.is_account(s.user_id, s.phone_hash))
        return stmt.returning(s.user_id)

    @staticmethod
    def _grants(roles, now, upsert: bool = True):
        return account_bulk.insert_city_grants(user_id=_STAGE.c.user_id, roles=roles, now=now, upsert=upsert)

    def _volunteers(self, now, upsert: bool = True):
        s = _STAGE.c
        picked = select(s.new_id, s.user_id, s.name_enc, s.name_index, s.grid_code, s.trade_id, s.interest_mask,
                        s.service_roles, literal(self.source), *[literal(now, UTCDateTime)] * 3).where(true()) \
            .order_by(s.new_id)
        stmt = insert(Volunteer.__table__).from_select(
            ["id", "user_id", "real_name_enc", "name_index", "grid_code", "trade_id", "interest_mask",
             "service_roles", "source", "created_at", "updated_at", "moved_at"], picked)
        if upsert:
            stmt = stmt.on_conflict_do_nothing(index_elements=["user_id"])
        return stmt.execution_options(preserve_rowcount=True)

    def _update_existing(self, tally: counts.Tally, now) -> dict[int, str]:
        """Volunteers already there (their phone again): lock, count their old state out, update.
        Returns {volunteer id: new grid} of those who moved."""
        s, v = _STAGE.c, Volunteer.__table__.c
        old = db.session.execute(
            select(v.id, v.grid_code, v.trade_id, v.interest_mask, v.service_roles, s.grid_code.label("new_grid"))
            .join(_STAGE, v.user_id == s.user_id).where(v.id != s.new_id).order_by(v.id)
            .with_for_update(of=Volunteer.__table__)).all()
        for row in old:
            tally.add_volunteer(row, -1)
        db.session.execute(update(Volunteer).where(Volunteer.user_id == s.user_id, Volunteer.id != s.new_id).values(
            real_name_enc=s.name_enc, name_index=s.name_index, grid_code=s.grid_code, trade_id=s.trade_id,
            interest_mask=s.interest_mask, service_roles=s.service_roles, updated_at=now,
            moved_at=case((Volunteer.grid_code != s.grid_code, now), else_=Volunteer.moved_at)))
        return {r.id: r.new_grid for r in old if r.grid_code != r.new_grid}


def run(batches, *, source: str = "import", background: bool = False, on_written=None, allowed_areas=None,
        on_reject=None) -> Written:
    """Write every batch from an iterable (built in a second thread when background=True, so that reading and
    encrypting the next batch overlaps the database writing this one). Returns the totals."""
    writer, total = Writer(source, allowed_areas, on_reject), Written()
    with _heap_frozen():
        for batch in (_prefetch(batches) if background else batches):
            done = writer.write(batch)
            total.inserted += done.inserted
            total.updated += done.updated
            total.refused += done.refused
            if on_written:
                on_written(total, len(batch.rows))
    return total


@contextmanager
def _heap_frozen():
    """Leave the objects that exist now (the app, its modules and mappings) out of the garbage collector's full
    passes while batches are built: each pass walked them all again, a fifth of the import's Python time."""
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def _prefetch(batches, depth: int = 2):
    """Iterate batches built by a producer thread (in its own app context), at most `depth` ahead."""
    app, items, stop = current_app._get_current_object(), queue.Queue(maxsize=depth), threading.Event()
    end = object()

    def produce():
        with app.app_context():
            try:
                for batch in batches:
                    if stop.is_set():
                        return
                    items.put(batch)
            except BaseException as exc:  # noqa: BLE001 — handed to the consumer, which re-raises it
                items.put(exc)
            finally:
                items.put(end)

    thread = threading.Thread(target=produce, name="volunteer-import-reader", daemon=True)
    thread.start()
    try:
        while (item := items.get()) is not end:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        while thread.is_alive():  # unblock a producer waiting on a full queue
            try:
                items.get(timeout=0.1)
            except queue.Empty:
                pass
