"""Exact volunteer counts: a tally of changes applied to volunteer_counts in the changing transaction, and the
stats read from it. Every change adds +1 for the new state and -1 for the old one, so joins, leaves and moves
keep the counts exact; rows are upserted in key order so that concurrent writers never deadlock."""
import json
from collections import Counter
from functools import lru_cache
from typing import NamedTuple

from sqlalchemy import BigInteger, Column, MetaData, String, Table, delete, func, or_, select, text
from sqlalchemy.schema import CreateTable

from app.areas import service as area_service
from app.common.upsert import copy_rows, insert, is_postgres
from app.errors import ValidationFailed
from app.extensions import db
from app.volunteers.models import Volunteer, VolunteerCount
from app.volunteers.taxonomy import ROLE_CODES, ROLE_NAMES, Catalogue

TOTAL_LEVELS = (4, 6, 9, 12, 14)  # city … grid
TAG_LEVELS = (4, 6, 9)  # city, district, street: below that, counting the rows directly is as fast
TAG_DIMS = ("trade", "interest", "service_role")
AREA_DIMS = ("district", "street", "community", "grid")


def bits(mask: int) -> list[int]:
    """The positions of the set bits of a mask (interest id n is bit n-1)."""
    out, n = [], 0
    while mask:
        if mask & 1:
            out.append(n)
        mask >>= 1
        n += 1
    return out


@lru_cache(maxsize=4096)
def _bits(mask: int) -> tuple[int, ...]:
    return tuple(bits(mask))


class Tally:
    """Changes to the counts, collected per grid (totals) and per street (tags), rolled up on demand."""

    def __init__(self):
        self.grids: Counter = Counter()
        self.tags: Counter = Counter()

    def add(self, grid: str, trade_id: int | None, interest_ids, role_bits, sign: int = 1) -> None:
        """Count one volunteer in (sign=1) or out (sign=-1)."""
        self.grids[grid] += sign
        street, tags = grid[:9], self.tags
        if trade_id is not None:
            tags[(street, "trade", trade_id)] += sign
        for i in interest_ids:
            tags[(street, "interest", i)] += sign
        for r in role_bits:
            tags[(street, "service_role", r)] += sign

    def add_masks(self, grids, trade_ids, interest_masks, role_masks) -> None:
        """Count many volunteers in, given as parallel columns (interest and service-role masks): grouped by street
        and distinct value first, so that a 50,000-row batch costs a few thousand counter updates, not 300,000."""
        self.grids.update(grids)
        streets, tags = [grid[:9] for grid in grids], self.tags
        for (street, trade_id), n in Counter(zip(streets, trade_ids)).items():
            if trade_id is not None:
                tags[(street, "trade", trade_id)] += n
        for dim, masks, first in (("interest", interest_masks, 1), ("service_role", role_masks, 0)):
            per_bit: dict[str, list[int]] = {}  # street -> volunteers per bit
            for (street, mask), n in Counter(zip(streets, masks)).items():
                counted = per_bit.get(street) or per_bit.setdefault(street, [0] * 64)
                for bit in _bits(mask):
                    counted[bit] += n
            for street, counted in per_bit.items():
                for bit, n in enumerate(counted):
                    if n:
                        tags[(street, dim, bit + first)] += n

    def add_volunteer(self, v, sign: int = 1) -> None:
        """Count an active volunteer row (or its remembered state) in or out."""
        if v.grid_code:
            self.add(v.grid_code, v.trade_id, [b + 1 for b in bits(v.interest_mask)], bits(v.service_roles), sign)

    def rows(self, catalogue: Catalogue) -> list[tuple[str, str, str, int]]:
        """(dim, area_code, key, delta) for every counter that changes, in key order."""
        out: Counter = Counter()
        for grid, n in self.grids.items():
            if n:
                for length in TOTAL_LEVELS:
                    out[("total", grid[:length], "")] += n
        names = {"trade": lambda i: catalogue.trade_by_id[i].code,
                 "interest": lambda i: catalogue.interest_by_id[i].code, "service_role": ROLE_CODES.__getitem__}
        for (street, dim, key), n in self.tags.items():
            if n:
                code = names[dim](key)
                for length in TAG_LEVELS:
                    out[(dim, street[:length], code)] += n
        return sorted((*key, n) for key, n in out.items() if n)


_COUNT_STAGE = Table("volunteer_count_stage", MetaData(), Column("dim", String(12)), Column("area_code", String(14)),
                     Column("key", String(32)), Column("n", BigInteger), prefixes=["TEMPORARY"],
                     postgresql_on_commit="DELETE ROWS")
_COPY_FROM = 1000  # rows: from here on PostgreSQL gets them by COPY and one upsert


def apply(tally: Tally, catalogue: Catalogue) -> int:
    """Add a tally to volunteer_counts (atomic n = n + delta) in key order, so that concurrent writers take the
    row locks in the same order and never deadlock; no commit. Returns the rows touched."""
    rows = tally.rows(catalogue)
    table = VolunteerCount.__table__
    if len(rows) >= _COPY_FROM and is_postgres():
        db.session.execute(CreateTable(_COUNT_STAGE, if_not_exists=True))
        copy_rows(_COUNT_STAGE.name, ("dim", "area_code", "key", "n"), rows, ("varchar", "varchar", "varchar", "int8"))
        c = _COUNT_STAGE.c
        in_key_order = (col.collate("C") for col in (c.dim, c.area_code, c.key))  # byte order, as Python sorts
        picked = select(c.dim, c.area_code, c.key, c.n).order_by(*in_key_order)
        stmt = insert(table).from_select(["dim", "area_code", "key", "n"], picked)
        db.session.execute(stmt.on_conflict_do_update(index_elements=["dim", "area_code", "key"],
                                                      set_={"n": table.c.n + stmt.excluded.n}))
    elif rows:
        stmt = insert(table)  # compiled once, sent as multi-row batches in this (sorted) order
        db.session.execute(stmt.on_conflict_do_update(index_elements=["dim", "area_code", "key"],
                                                      set_={"n": table.c.n + stmt.excluded.n}),
                           [dict(dim=d, area_code=a, key=k, n=n) for d, a, k, n in rows])
    return len(rows)


def total(area_code: str) -> int:
    """Active volunteers inside an area (one primary-key read)."""
    return db.session.execute(select(VolunteerCount.n).where(
        VolunteerCount.dim == "total", VolunteerCount.area_code == area_code, VolunteerCount.key == "")).scalar() or 0


def stats(*, by: str, area_code: str, catalogue: Catalogue | None = None) -> dict:
    """{"total", "rows": [{"key", "name", "count"}]} of the volunteers inside an area, by an area level or a tag."""
    area = _area(area_code)
    if by in AREA_DIMS:
        n, counts = _area_counts(area, by)
        rows = [{"key": code, "name": name, "count": counts.get(code, 0)} for code, name in _children(area.code, by)]
    else:
        n, rows = _by_tag(area, by, catalogue)
    return {"total": n, "rows": rows}


def _area_counts(area, level: str) -> tuple[int, dict[str, int]]:
    """(active volunteers in the area, {code: active volunteers} of the areas at `level` inside it that have any),
    in one index range scan."""
    if area_service.LEVELS.index(level) <= area_service.LEVELS.index(area.level):
        raise ValidationFailed("stats_level_invalid", "统计维度应比所选区域低一级或更多（如：区内按街道统计）",
                               errors={"query": {"by": ["应低于区域级别"]}})
    result = db.session.connection().execute(select(VolunteerCount.area_code, VolunteerCount.n).where(
        VolunteerCount.dim == "total", area_service.in_subtree(VolunteerCount.area_code, area.code),
        or_(func.length(VolunteerCount.area_code) == area_service.CODE_LENGTH[level],
            VolunteerCount.area_code == area.code)))
    try:  # the driver's plain tuples: a city by grid is up to 19,500 rows, and SQLAlchemy's Rows cost twice the time
        counts = dict(result.cursor.fetchall())
    finally:
        result.close()
    return counts.pop(area.code, 0), counts


class _Area(NamedTuple):
    code: str
    level: str


@lru_cache(maxsize=4096)
def _area(code: str) -> _Area:
    # reference data, as below: an area's level read once per process (NotFound raises, and is not cached)
    area = area_service.get(code)
    return _Area(area.code, area.level)


@lru_cache(maxsize=512)
def _children(area_code: str, level: str) -> tuple:
    # The area tree is reference data (seeded, never edited at run time): each process reads a subtree once.
    return tuple(area_service.within(area_code, level))


def stats_json(*, by: str, area_code: str, catalogue: Catalogue | None = None) -> str:
    """stats() as the route sends it (compact JSON, keys sorted, as jsonify writes it). By an area level the rows
    are spliced from cached per-area fragments: the city by grid is 19,500 rows, and building them as dicts and
    encoding those took most of the route's latency budget."""
    if by not in AREA_DIMS:
        return _dumps(stats(by=by, area_code=area_code, catalogue=catalogue))
    area = _area(area_code)
    n, counts = _area_counts(area, by)
    rows = ",".join([f'{{"count":{counts.get(code, 0)},{rest}' for code, rest in _fragments(area.code, by)])
    return f'{{"rows":[{rows}],"total":{n}}}'


def _dumps(value) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


@lru_cache(maxsize=512)
def _fragments(area_code: str, level: str) -> tuple[tuple[str, str], ...]:
    # (code, '"key":"…","name":"…"}'): a row's JSON after its count, made once per process and area
    return tuple((code, _dumps({"key": code, "name": name})[1:]) for code, name in _children(area_code, level))


def _by_tag(area, dim: str, catalogue: Catalogue | None) -> tuple[int, list[dict]]:
    if dim != "service_role":  # the roles are fixed; trades and interests are read (two queries) only when asked
        catalogue = catalogue or Catalogue()
    if len(area.code) in TAG_LEVELS:  # the tag counters and the total: one primary-key range
        rows = db.session.execute(select(VolunteerCount.dim, VolunteerCount.key, VolunteerCount.n).where(
            VolunteerCount.dim.in_((dim, "total")), VolunteerCount.area_code == area.code)).all()
        counts = {key: n for d, key, n in rows if d == dim}
        n = next((n for d, key, n in rows if d == "total" and key == ""), 0)
    else:
        counts, n = _count_directly(area.code, dim, catalogue), total(area.code)
    if dim == "service_role":
        entries = list(ROLE_NAMES.items())
    else:
        entries = [(e.code, e.name) for e in (catalogue.trades if dim == "trade" else catalogue.interests)]
    return n, [{"key": code, "name": name, "count": counts.get(code, 0)} for code, name in entries]


def _count_directly(area_code: str, dim: str, catalogue: Catalogue) -> dict[str, int]:
    """Tag counts of a community or grid (a few hundred rows) straight from the volunteers."""
    inside = area_service.in_subtree(Volunteer.grid_code, area_code)
    if dim == "trade":
        rows = db.session.execute(select(Volunteer.trade_id, func.count()).where(inside)
                                  .group_by(Volunteer.trade_id)).all()
        return {catalogue.trade_by_id[t].code: n for t, n in rows if t is not None}
    column = Volunteer.interest_mask if dim == "interest" else Volunteer.service_roles
    counts: Counter = Counter()
    for mask in db.session.execute(select(column).where(inside)).scalars():
        counts.update(bits(mask))
    if dim == "interest":
        return {catalogue.interest_by_id[b + 1].code: n for b, n in counts.items()}
    return {ROLE_CODES[b]: n for b, n in counts.items()}


def expected() -> dict[tuple[str, str, str], int]:
    """What volunteer_counts should hold, recomputed from the volunteers (for `recount` and tests)."""
    tally = Tally()
    query = select(Volunteer.grid_code, Volunteer.trade_id, Volunteer.interest_mask, Volunteer.service_roles) \
        .where(Volunteer.grid_code.is_not(None))
    for row in db.session.execute(query.execution_options(yield_per=20_000)):
        tally.add_volunteer(row)
    return {(d, a, k): n for d, a, k, n in tally.rows(Catalogue())}


def stored() -> dict[tuple[str, str, str], int]:
    """What volunteer_counts holds now, zero rows left out."""
    rows = db.session.execute(select(VolunteerCount).where(VolunteerCount.n != 0)).scalars()
    return {(r.dim, r.area_code, r.key): r.n for r in rows}


def recount() -> int:
    """Rebuild volunteer_counts from the volunteers (a repair tool; writers wait meanwhile). Returns rows written."""
    if is_postgres():  # a consistent picture: volunteer writers wait until the rebuild commits
        db.session.execute(text("LOCK TABLE volunteers IN SHARE MODE"))
        db.session.execute(text("LOCK TABLE volunteer_counts IN EXCLUSIVE MODE"))
    db.session.execute(delete(VolunteerCount))
    rows = [dict(dim=d, area_code=a, key=k, n=n) for (d, a, k), n in expected().items()]
    if rows:
        db.session.execute(insert(VolunteerCount.__table__), rows)
    db.session.commit()
    return len(rows)
