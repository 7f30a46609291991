"""扫码: staff scans of residents' codes, residents' check-ins at venue codes, offline batches, visit history.

One scan counts once: whichever way a token arrives (check-in, staff scan, offline batch), it records a visit only
when it claims the (person, venue) marker in `latest_visits`, which an atomic upsert grants once per DEDUP_WINDOW;
a repeat answers as a duplicate and records nothing. Family codes of a person share its marker.

The hottest write path. With Redis, the caller's roles, the code's card, the venue's card and the inspector's
role at the venue come in the auth layer's one round trip, so a scan request runs only its write (verify: the
INSERT; check-in on PostgreSQL: one CTE that claims the visit and records it). On a cache miss it is at most
three statements counting the auth layer's user load (user, code + staff binding or venue + code, the write),
and the caches are filled. All run in autocommit mode (`app.common.sql.autocommit`: each write is one atomic
statement, so no BEGIN/COMMIT round trips). Scans carry no personal data: a code id, a venue id, a time, a colour."""
import hashlib
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from flask import current_app
from sqlalchemy import BigInteger, and_, bindparam, column, or_, select, text, update

from app.common import upsert
from app.common.fields import id_value
from app.common.ids import random_id
from app.common.pagination import decode_cursor, key_id, key_iso, page
from app.common.sql import commit_held, execute_alone, transaction
from app.common.time import utcnow
from app.common.types import UTCDateTime
from app.common.views import View
from app.errors import AppError, Forbidden, Gone, NotFound, ValidationFailed
from app.extensions import db
from app.health_codes import joins as hc_joins
from app.health_codes import service as hc_service
from app.venues import codes
from app.venues import service as venue_service
from app.venues.models import LatestVisit, OfflineScan, Scan, Venue

if TYPE_CHECKING:  # codes are health_codes': annotations only
    from app.health_codes.models import HealthCode

DEDUP_WINDOW = timedelta(minutes=5)
CLOCK_SKEW = timedelta(minutes=2)


def claim_visit(*, person_id: int, code_id: int, venue_id: int, colour: str, at: datetime, kind: str = "checkin",
                staff_id: int | None = None, offline: bool = False, alone: bool = True,
                scan_id: int | None = None) -> tuple[bool, datetime]:
    """Record a scan as the person's visit unless one was recorded at the venue within DEDUP_WINDOW of `at`;
    (created, time of the visit that counts). alone: on PostgreSQL, one atomic statement on its own autocommit
    connection (the hot paths); otherwise inside the session's transaction (offline batches)."""
    params = {"person_id": person_id, "code_id": code_id, "venue_id": venue_id, "scan_id": scan_id or random_id(),
              "now": at, "dedup_before": at - DEDUP_WINDOW, "dedup_after": at + DEDUP_WINDOW, "colour": colour,
              "passed": colour == "green", "kind": kind, "staff": staff_id, "offline": offline}
    if upsert.is_postgres() and alone:
        (created, previous), = execute_alone(_CLAIM_VISIT, params)
        if created is not None:
            return True, at
        # The visit that beat this one may have committed after this statement's snapshot: read it now.
        return False, previous or db.session.execute(_previous_visit(person_id, venue_id)).scalar()
    return _claim_visit_portable(params)


def verify_keys(caller_id: int, body) -> list[str]:
    """The cache keys a staff scan reads (its code's card, the caller's role at the venue), named from the request
    body (any JSON, unchecked) before the auth check so that they come in its round trip
    (`cache.prefetch_for_caller`)."""
    if not isinstance(body, dict):
        return []
    ref, venue_id = hc_service.unverified_ref(body.get("token")), id_value(body.get("venue_id"))
    keys = [hc_service.ref_key(ref)] if ref else []
    if venue_id is not None:
        keys.append(venue_service.staff_key(venue_id, caller_id))
    return keys


def staff_verify(*, user, token: str, venue_id: int | None) -> hc_service.Checked | View:
    """验码 at a checkpoint; with a venue, the caller must be its staff and the scan is recorded; without one,
    only health officials and inspectors a checkpoint (venue) assigned may check a code.

    With the code's card and the caller's role at the venue in the cache, the INSERT is the only statement;
    otherwise one SELECT reads both (and fills the cache)."""
    if venue_id is None:
        if not (user.has_role("health_official") or venue_service.is_assigned_inspector(user.id)):
            raise Forbidden("checkpoint_forbidden", "不指定场所的验码仅限卫健人员和检查点指派的检测员")
        return hc_service.check(token=token)
    try:
        ref = hc_service.token_ref(token)
        known, role = venue_service.cached_staff_role(venue_id, user.id)
        hit = hc_service.cached_verdict(ref) if known else None
        if hit is None:  # the staff binding is read in the code's SELECT: code + binding, INSERT
            code, role = hc_service.code_by_ref(ref, venue_service.STAFF_ROLE,
                                                venue_service.staff_params(venue_id, user.id))
            venue_service.remember_staff_role(venue_id, user.id, role)
    except AppError:
        venue_service.ensure_staff(venue_id, user)  # a caller who is not staff hears that first, as before
        raise
    if role is None:
        raise venue_service.not_staff()
    (code_id, person_id), result = ((hit[0].code_id, hit[0].person_id), hit[1]) if hit else \
        ((code.id, code.person_id), hc_service.verdict(code))
    created, _ = claim_visit(person_id=person_id, code_id=code_id, venue_id=venue_id, colour=result.colour,
                             at=result.checked_at, kind="staff", staff_id=user.id)
    commit_held()  # a no-op unless the caller held a transaction open, which the claim then joined
    return View(result, duplicate=not created)


# One round trip for both single-row look-ups (an explicit cross join of two primary-key hits, with the code's
# person), built once.
_VENUE_AND_CODE = hc_joins.with_code(select(Venue).where(Venue.id == bindparam("venue_id")), bindparam("code_id"))


def _venue_and_code(venue_id: int, version: int, code_id: int):
    row = db.session.execute(_VENUE_AND_CODE, {"venue_id": venue_id, "code_id": code_id}).first()
    if row is None:
        if db.session.get(Venue, venue_id) is None:
            raise ValidationFailed("venue_code_invalid", "场所码无效，请扫描场所张贴的最新场所码")
        raise NotFound("health_code_not_found", "健康码不存在")
    venue, code, person = row
    hc_joins.attach(code, person)  # read in the same SELECT: no lazy load
    if version != venue.code_version:
        raise _outdated()
    return venue, code


def _outdated() -> ValidationFailed:
    return ValidationFailed("venue_code_outdated", "该场所码已更新，请扫描场所张贴的最新场所码")


def _claim_upsert(p: dict):
    """Take the (person, venue) marker unless a visit within DEDUP_WINDOW holds it; returns the new scan id."""
    claim = upsert.insert(LatestVisit).values(person_id=p["person_id"], venue_id=p["venue_id"], scan_id=p["scan_id"],
                                              visited_at=p["now"])
    return claim.on_conflict_do_update(
        index_elements=["person_id", "venue_id"], set_={"scan_id": p["scan_id"], "visited_at": p["now"]},
        where=or_(LatestVisit.visited_at <= p["dedup_before"], LatestVisit.visited_at >= p["dedup_after"]),
    ).returning(LatestVisit.scan_id)


def _previous_visit(person_id: int, venue_id: int):
    return select(LatestVisit.visited_at).where(LatestVisit.person_id == person_id, LatestVisit.venue_id == venue_id)


# PostgreSQL: claim the (person, venue) marker and record the scan in ONE statement (data-modifying CTEs), reading
# the earlier visit's time in the same round trip. Written as text: SQLAlchemy never caches an INSERT … ON
# CONFLICT construct (the PostgreSQL Insert sets inherit_cache = False), and compiling this one on every
# scan cost more CPU than the rest of the request.
_CLAIM_VISIT = text("""
WITH claim AS (
    INSERT INTO latest_visits (person_id, venue_id, scan_id, visited_at)
    VALUES (:person_id, :venue_id, :scan_id, :now)
    ON CONFLICT (person_id, venue_id) DO UPDATE
        SET scan_id = excluded.scan_id, visited_at = excluded.visited_at
        WHERE latest_visits.visited_at <= :dedup_before OR latest_visits.visited_at >= :dedup_after
    RETURNING scan_id
), record AS (
    INSERT INTO scans (id, scanned_at, venue_id, health_code_id, kind, colour, passed, staff_user_id, offline)
    SELECT scan_id, :now, :venue_id, :code_id, :kind, :colour, :passed, :staff, :offline FROM claim
    RETURNING id
)
SELECT (SELECT id FROM record) AS created,
       (SELECT visited_at FROM latest_visits WHERE person_id = :person_id AND venue_id = :venue_id) AS previous
""").bindparams(bindparam("now", type_=UTCDateTime), bindparam("dedup_before", type_=UTCDateTime),
                bindparam("dedup_after", type_=UTCDateTime), bindparam("staff", type_=BigInteger)) \
    .columns(column("created", BigInteger), column("previous", UTCDateTime))


def _claim_visit_portable(p: dict) -> tuple[bool, datetime]:
    """The upsert, then the scan row (or the earlier visit's time) in the session's transaction."""
    transaction()
    if db.session.execute(_claim_upsert(p)).scalar():
        db.session.add(Scan(id=p["scan_id"], scanned_at=p["now"], venue_id=p["venue_id"], health_code_id=p["code_id"],
                            kind=p["kind"], colour=p["colour"], passed=p["passed"], staff_user_id=p["staff"],
                            offline=p["offline"]))
        db.session.flush()
        return True, p["now"]
    return False, db.session.execute(_previous_visit(p["person_id"], p["venue_id"])).scalar()


def checkin_keys(body) -> list[str]:
    """The cache keys a check-in reads (the venue's card, the code's), named from the request body (any JSON,
    unchecked) before the auth check so that they come in its round trip (`cache.prefetch`)."""
    if not isinstance(body, dict):
        return []
    venue_id, code_id = codes.peek_venue_id(body.get("venue_code")), id_value(body.get("health_code_id"))
    return ([venue_service.card_key(venue_id)] if venue_id else []) + \
        ([hc_service.card_key(code_id)] if code_id else [])


def _checkin_view(user, venue_code: str, code_id: int) -> tuple[venue_service.Card, hc_service.Checked, int]:
    """(venue card, verdict, person id) for a check-in: from the cache when both cards are there, else one SELECT
    (which fills them). Raises venue_code_invalid/outdated, health_code_not_found (someone else's code),
    code_revoked, verification_required (an unverified code past its grace)."""
    venue_id, version = codes.parse(venue_code)
    now = utcnow()
    venue, card = venue_service.cached_card(venue_id), hc_service.cached_card(hc_service.card_key(code_id))
    current = card.verdict(now) if venue is not None and card is not None and card.usable(user.id, now) else None
    if current is None:
        row, code = _venue_and_code(venue_id, version, code_id)
        if code.owner_id != user.id:
            raise NotFound("health_code_not_found", "健康码不存在")
        if code.revoked_at is not None or code.person_id is None:
            raise Gone("code_revoked", "该健康码已注销，请重新申领")
        hc_service.may_show(verified=code.verified_at is not None, verify_by=code.verify_by, now=now)
        return venue_service.remember_card(row), hc_service.verdict(code), code.person_id
    if version != venue.code_version:
        raise _outdated()
    card.may_show(now)
    return venue, current, card.person_id


def check_in(*, user, venue_code: str, health_code_id: int) -> tuple[View, bool]:
    """扫场所码: record the visit (one per person and venue within DEDUP_WINDOW); returns (result, created): the
    verdict with the venue's card and the time of the visit that counts."""
    venue, current, person_id = _checkin_view(user, venue_code, health_code_id)
    created, checked_in_at = claim_visit(person_id=person_id, code_id=health_code_id, venue_id=venue.id,
                                         colour=current.colour, at=utcnow())
    commit_held()
    return View(current, venue=venue, checked_in_at=checked_in_at), created


def _payload_hash(venue_id: int, token: str, scanned_at: datetime) -> str:
    return hashlib.sha256(f"{venue_id}|{token}|{scanned_at.isoformat()}".encode()).hexdigest()


def _judge(item: dict, now: datetime) -> tuple[str | None, str | None, "HealthCode | None"]:
    """(None, None, code) when the offline item is acceptable, else (error, message, None)."""
    at = item["scanned_at"]
    if at > now + CLOCK_SKEW:
        return "scanned_at_in_future", "扫码时间晚于当前时间，请校准扫码设备时钟", None
    if at < now - timedelta(days=current_app.config["SCAN_RETENTION_DAYS"]):
        return "scanned_at_too_old", "扫码记录已超过保存期限，不再接收", None
    try:
        return None, None, hc_service.verify_token(item["token"], at=at)
    except AppError as exc:
        return exc.error, exc.message, None


def upload_batch(*, user, venue_id: int, items: list[dict]) -> list[dict]:
    """Offline scans, each judged at its scan time. Replaying a batch creates nothing new; a client id
    reused for a different scan is an item error; a scan of a person already seen at the venue within DEDUP_WINDOW
    is a duplicate (result `duplicate_visit`). Claims the ids first, so concurrent replays cannot both write."""
    venue_service.ensure_staff(venue_id, user)
    now = utcnow()
    keys = [str(i["client_scan_id"]) for i in items]
    known = {m.client_scan_id: m for m in db.session.execute(
        select(OfflineScan).where(OfflineScan.client_scan_id.in_(keys))).scalars()}
    results, claims, accepted = [], {}, {}
    for key, item in zip(keys, items):
        digest = _payload_hash(venue_id, item["token"], item["scanned_at"])
        marker = known.get(key) or claims.get(key)
        if marker is not None:
            results.append(_replayed(key, marker, digest))
            continue
        error, message, code = _judge(item, now)
        scan_id = None if code is None else random_id()
        claims[key] = OfflineScan(client_scan_id=key, payload_hash=digest, venue_id=venue_id, scan_id=scan_id,
                                  scanned_at=item["scanned_at"], result=error or "accepted")
        results.append({"client_scan_id": key, "status": "rejected", "error": error, "message": message} if error
                       else {"client_scan_id": key, "status": "accepted", "colour": code.person.colour,
                             "scan_id": str(scan_id)})
        if code is not None:
            accepted[key] = (code, item["scanned_at"], results[-1])
    lost = _claim(list(claims.values()))
    for key, (code, at, entry) in accepted.items():
        if key in lost:
            entry.clear()
            entry.update({"client_scan_id": key, "status": "duplicate", "result": "accepted"})
        elif not _visit(user, venue_id, code, at, claims[key].scan_id):
            db.session.execute(update(OfflineScan).where(OfflineScan.client_scan_id == key)
                               .values(result="duplicate_visit", scan_id=None))
            entry.clear()
            entry.update({"client_scan_id": key, "status": "duplicate", "result": "duplicate_visit"})
    db.session.commit()
    return [{"client_scan_id": r["client_scan_id"], "status": "duplicate", "result": claims[r["client_scan_id"]].result}
            if r["client_scan_id"] in lost and r["status"] == "rejected" else r for r in results]


def _visit(user, venue_id: int, code: "HealthCode", at: datetime, scan_id: int) -> bool:
    """Claim the visit of an accepted offline scan inside the batch's transaction; whether it counts."""
    colour = code.person.colour
    return claim_visit(person_id=code.person_id, code_id=code.id, venue_id=venue_id, colour=colour, at=at,
                       kind="staff", staff_id=user.id, offline=True, alone=False, scan_id=scan_id)[0]


def _replayed(key: str, marker: OfflineScan, digest: str) -> dict:
    if marker.payload_hash != digest:
        return {"client_scan_id": key, "status": "rejected", "error": "idempotency_conflict",
                "message": "该扫码编号已用于另一条不同的扫码记录"}
    return {"client_scan_id": key, "status": "duplicate", "result": marker.result}


def _claim(markers: list[OfflineScan]) -> set[str]:
    """Insert the idempotency keys (ON CONFLICT DO NOTHING); returns the keys another upload claimed first."""
    if not markers:
        return set()
    rows = [{c: getattr(m, c) for c in ("client_scan_id", "payload_hash", "venue_id", "scan_id", "scanned_at",
                                         "result")} for m in markers]
    won = set(db.session.execute(upsert.insert(OfflineScan).values(rows).on_conflict_do_nothing(
        index_elements=["client_scan_id"]).returning(OfflineScan.client_scan_id)).scalars())
    return {m.client_scan_id for m in markers} - won


def visits(*, user, code_id: int, cursor: str | None, limit: int) -> dict:
    """A resident's own visit history for one of their codes, newest first."""
    hc_service.get_own(code_id=code_id, owner_id=user.id)
    stmt = select(Scan, Venue.name).join(Venue, Venue.id == Scan.venue_id, isouter=True).where(
        Scan.health_code_id == code_id)
    after = decode_cursor(cursor, key_iso, key_id)
    if after:
        at, sid = after
        stmt = stmt.where(or_(Scan.scanned_at < at, and_(Scan.scanned_at == at, Scan.id < sid)))
    rows = db.session.execute(stmt.order_by(Scan.scanned_at.desc(), Scan.id.desc()).limit(limit + 1)).all()
    items = [{"id": str(s.id), "venue": {"id": str(s.venue_id), "name": name}, "kind": s.kind, "colour": s.colour,
              "scanned_at": s.scanned_at} for s, name in rows]
    return page(items, limit, lambda i: [i["scanned_at"].isoformat(), i["id"]])


def ensure_official_or_staff(venue: Venue, user) -> None:
    """Who may read a venue's counts: its staff, or staff of its area."""
    try:
        venue_service.ensure_can_view(venue, user)
    except Forbidden:
        raise Forbidden("venue_forbidden", "只有场所工作人员或辖区工作人员可以查看统计") from None
