"""扫码: staff scans of residents' codes, residents' check-ins at venue codes, offline batches, visit history.

The hottest write path. With Redis, the caller's roles, the code's card, the venue's card and the inspector's
role at the venue come in the auth layer's one round trip, so a scan request runs only its write (verify: the
INSERT; check-in on PostgreSQL: one CTE that claims the visit and records it). On a cache miss it is at most
three statements counting the auth layer's user load (user, code + staff binding or venue + code, the write),
and the caches are filled. All run in autocommit mode (`app.common.sql.autocommit`: each write is one atomic
statement, so no BEGIN/COMMIT round trips). Scans carry no personal data: a code id, a venue id, a time, a colour."""
import hashlib
from datetime import datetime, timedelta

from flask import current_app, request
from sqlalchemy import BigInteger, and_, bindparam, column, insert, or_, select, text, true

from app.common import upsert
from app.common.fields import id_value
from app.common.ids import random_id
from app.common.pagination import decode_cursor, page
from app.common.sql import commit_held, execute_alone, transaction
from app.common.time import utcnow
from app.common.types import UTCDateTime
from app.errors import AppError, Forbidden, Gone, NotFound, ValidationFailed
from app.extensions import db
from app.health_codes import service as hc_service
from app.health_codes.models import HealthCode
from app.venues import codes
from app.venues import service as venue_service
from app.venues.models import LatestCheckin, OfflineScan, Scan, Venue

CHECKIN_DEDUP = timedelta(minutes=5)
CLOCK_SKEW = timedelta(minutes=2)


_INSERT_SCAN = insert(Scan.__table__)  # one constant: values come as parameters, the compiled form is reused


def record_staff_scan(*, venue_id: int, staff_id: int, code_id: int, colour: str, at: datetime) -> int:
    """Record a staff scan (the caller checked the staff binding and the token); returns the scan id.

    A Core INSERT on its own autocommit connection (`execute_alone`), not session.add: the unit of work, and even
    the session's bookkeeping around a statement, would cost more CPU than the statement itself."""
    scan_id = random_id()
    execute_alone(_INSERT_SCAN, {"id": scan_id, "scanned_at": at, "venue_id": venue_id, "health_code_id": code_id,
                                 "kind": "staff", "colour": colour, "passed": colour == "green",
                                 "staff_user_id": staff_id, "offline": False})
    commit_held()  # a no-op unless the caller held a transaction open, which the INSERT then joined
    return scan_id


def verify_keys(caller_id: int) -> list[str]:
    """The cache keys a staff scan reads (its code's card, the caller's role at the venue), named from the request
    body before the auth check so that they come in its round trip (`cache.prefetch_for_caller`)."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        return []
    ref, venue_id = hc_service.unverified_ref(body.get("token")), id_value(body.get("venue_id"))
    keys = [hc_service.ref_key(ref)] if ref else []
    if venue_id is not None:
        keys.append(venue_service.staff_key(venue_id, caller_id))
    return keys


def staff_verify(*, user, token: str, venue_id: int | None) -> dict:
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
    code_id, result = hit or (code.id, hc_service.verdict(code))
    record_staff_scan(venue_id=venue_id, staff_id=user.id, code_id=code_id, colour=result["colour"],
                      at=result["checked_at"])
    return result


# One round trip for both single-row look-ups (an explicit cross join of two primary-key hits), built once.
_VENUE_AND_CODE = select(Venue, HealthCode).join(HealthCode, true()).where(Venue.id == bindparam("venue_id"),
                                                                           HealthCode.id == bindparam("code_id"))


def _venue_and_code(venue_id: int, version: int, code_id: int):
    row = db.session.execute(_VENUE_AND_CODE, {"venue_id": venue_id, "code_id": code_id}).first()
    if row is None:
        if db.session.get(Venue, venue_id) is None:
            raise ValidationFailed("venue_code_invalid", "场所码无效，请扫描场所张贴的最新场所码")
        raise NotFound("health_code_not_found", "健康码不存在")
    venue, code = row
    if version != venue.code_version:
        raise _outdated()
    return venue, code


def _outdated() -> ValidationFailed:
    return ValidationFailed("venue_code_outdated", "该场所码已更新，请扫描场所张贴的最新场所码")


def _claim_upsert(*, code_id: int, venue_id: int, scan_id: int, now: datetime):
    """Take the (code, venue) visit slot unless it was taken in the last 5 minutes; returns the new scan id."""
    claim = upsert.insert(LatestCheckin).values(health_code_id=code_id, venue_id=venue_id,
                                                         scan_id=scan_id, checked_in_at=now)
    return claim.on_conflict_do_update(
        index_elements=["health_code_id", "venue_id"], set_={"scan_id": scan_id, "checked_in_at": now},
        where=LatestCheckin.checked_in_at <= now - CHECKIN_DEDUP).returning(LatestCheckin.scan_id)


def _previous_visit(code_id: int, venue_id: int):
    return select(LatestCheckin.checked_in_at).where(LatestCheckin.health_code_id == code_id,
                                                     LatestCheckin.venue_id == venue_id)


# PostgreSQL: claim the (code, venue) slot and record the scan in ONE statement (data-modifying CTEs), reading
# the earlier visit's time in the same round trip. Written as text: SQLAlchemy never caches an INSERT … ON
# CONFLICT construct (the PostgreSQL Insert sets inherit_cache = False), and compiling this one on every
# check-in cost more CPU than the rest of the request.
_CLAIM_VISIT = text("""
WITH claim AS (
    INSERT INTO latest_checkins (health_code_id, venue_id, scan_id, checked_in_at)
    VALUES (:code_id, :venue_id, :scan_id, :now)
    ON CONFLICT (health_code_id, venue_id) DO UPDATE
        SET scan_id = excluded.scan_id, checked_in_at = excluded.checked_in_at
        WHERE latest_checkins.checked_in_at <= :dedup_before
    RETURNING scan_id
), record AS (
    INSERT INTO scans (id, scanned_at, venue_id, health_code_id, kind, colour, passed, offline)
    SELECT scan_id, :now, :venue_id, :code_id, 'checkin', :colour, :passed, false FROM claim
    RETURNING id
)
SELECT (SELECT id FROM record) AS created,
       (SELECT checked_in_at FROM latest_checkins WHERE health_code_id = :code_id AND venue_id = :venue_id) AS previous
""").bindparams(bindparam("now", type_=UTCDateTime), bindparam("dedup_before", type_=UTCDateTime)) \
    .columns(column("created", BigInteger), column("previous", UTCDateTime))


def _claim_visit(*, code_id: int, venue_id: int, colour: str, now: datetime) -> tuple[bool, datetime]:
    """PostgreSQL: _CLAIM_VISIT on its own autocommit connection (one atomic statement); (created, checked-in time)."""
    (created, previous), = execute_alone(_CLAIM_VISIT, {
        "code_id": code_id, "venue_id": venue_id, "scan_id": random_id(), "now": now,
        "dedup_before": now - CHECKIN_DEDUP, "colour": colour, "passed": colour == "green"})
    if created is not None:
        return True, now
    # The visit that beat this one may have committed after this statement's snapshot: read it now.
    return False, previous or db.session.execute(_previous_visit(code_id, venue_id)).scalar()


def _claim_visit_portable(*, code_id: int, venue_id: int, colour: str, now: datetime) -> tuple[bool, datetime]:
    """SQLite: the upsert, then the scan row (or the earlier visit's time) in the same transaction."""
    transaction()
    scan_id = random_id()
    if db.session.execute(_claim_upsert(code_id=code_id, venue_id=venue_id, scan_id=scan_id, now=now)).scalar():
        db.session.add(Scan(id=scan_id, scanned_at=now, venue_id=venue_id, health_code_id=code_id, kind="checkin",
                            colour=colour, passed=colour == "green"))
        return True, now
    return False, db.session.execute(_previous_visit(code_id, venue_id)).scalar()


def checkin_keys() -> list[str]:
    """The cache keys a check-in reads (the venue's card, the code's), named from the request body before the auth
    check so that they come in its round trip (`cache.prefetch`)."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        return []
    venue_id, code_id = codes.peek_venue_id(body.get("venue_code")), id_value(body.get("health_code_id"))
    return ([venue_service.card_key(venue_id)] if venue_id else []) + \
        ([hc_service.card_key(code_id)] if code_id else [])


def _checkin_view(user, venue_code: str, code_id: int) -> tuple[dict, dict]:
    """(venue card, verdict) for a check-in: from the cache when both cards are there, else one SELECT (which fills
    them). Raises venue_code_invalid/outdated, health_code_not_found (someone else's code), code_revoked."""
    venue_id, version = codes.parse(venue_code)
    now = utcnow()
    venue, card = venue_service.cached_card(venue_id), hc_service.cached_card(hc_service.card_key(code_id))
    current = card.verdict(now) if venue is not None and card is not None and card.usable(user.id, now) else None
    if current is None:
        row, code = _venue_and_code(venue_id, version, code_id)
        if code.owner_id != user.id:
            raise NotFound("health_code_not_found", "健康码不存在")
        if code.revoked_at is not None:
            raise Gone("code_revoked", "该健康码已注销，请重新申领")
        return venue_service.remember_card(row), hc_service.verdict(code)
    if version != venue["code_version"]:
        raise _outdated()
    return venue, current


def check_in(*, user, venue_code: str, health_code_id: int) -> tuple[dict, bool]:
    """扫场所码: record the visit (one per code and venue within 5 minutes); returns (result, created)."""
    venue, current = _checkin_view(user, venue_code, health_code_id)
    now = utcnow()
    claim = _claim_visit if upsert.is_postgres() else _claim_visit_portable
    created, checked_in_at = claim(code_id=health_code_id, venue_id=int(venue["id"]), colour=current["colour"],
                                   now=now)
    commit_held()
    result = {"venue": {key: venue[key] for key in ("id", "name", "address", "category")},
              "colour": current["colour"], "pass": current["pass"], "holder": current["holder"],
              "reason": current["reason"], "checked_in_at": checked_in_at}
    return result, created


def _payload_hash(venue_id: int, token: str, scanned_at: datetime) -> str:
    return hashlib.sha256(f"{venue_id}|{token}|{scanned_at.isoformat()}".encode()).hexdigest()


def _judge(item: dict, now: datetime) -> tuple[str | None, str | None, HealthCode | None]:
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
    reused for a different scan is an item error. Claims the ids first, so concurrent replays cannot both write."""
    venue_service.ensure_staff(venue_id, user)
    now = utcnow()
    keys = [str(i["client_scan_id"]) for i in items]
    known = {m.client_scan_id: m for m in db.session.execute(
        select(OfflineScan).where(OfflineScan.client_scan_id.in_(keys))).scalars()}
    results, claims = [], {}
    for key, item in zip(keys, items):
        digest = _payload_hash(venue_id, item["token"], item["scanned_at"])
        marker = known.get(key) or claims.get(key)
        if marker is not None:
            results.append(_replayed(key, marker, digest))
            continue
        error, message, code = _judge(item, now)
        scan = None if code is None else Scan(
            id=random_id(), scanned_at=item["scanned_at"], venue_id=venue_id, health_code_id=code.id, kind="staff",
            colour=code.colour, passed=code.colour == "green", staff_user_id=user.id, offline=True)
        claims[key] = OfflineScan(client_scan_id=key, payload_hash=digest, venue_id=venue_id,
                                  scan_id=scan.id if scan else None, scanned_at=item["scanned_at"],
                                  result=error or "accepted")
        claims[key].scan = scan
        results.append({"client_scan_id": key, "status": "rejected", "error": error, "message": message}
                       if error else {"client_scan_id": key, "status": "accepted", "colour": code.colour,
                                      "scan_id": str(scan.id)})
    lost = _claim(list(claims.values()))
    db.session.commit()
    return [{"client_scan_id": r["client_scan_id"], "status": "duplicate", "result": claims[r["client_scan_id"]].result}
            if r["client_scan_id"] in lost and r["status"] != "duplicate" else r for r in results]


def _replayed(key: str, marker: OfflineScan, digest: str) -> dict:
    if marker.payload_hash != digest:
        return {"client_scan_id": key, "status": "rejected", "error": "idempotency_conflict",
                "message": "该扫码编号已用于另一条不同的扫码记录"}
    return {"client_scan_id": key, "status": "duplicate", "result": marker.result}


def _claim(markers: list[OfflineScan]) -> set[str]:
    """Insert the idempotency keys (ON CONFLICT DO NOTHING) and the scans of those this call won;
    returns the keys another upload claimed first."""
    if not markers:
        return set()
    rows = [{c: getattr(m, c) for c in ("client_scan_id", "payload_hash", "venue_id", "scan_id", "scanned_at",
                                         "result")} for m in markers]
    won = set(db.session.execute(upsert.insert(OfflineScan).values(rows).on_conflict_do_nothing(
        index_elements=["client_scan_id"]).returning(OfflineScan.client_scan_id)).scalars())
    db.session.add_all([m.scan for m in markers if m.scan is not None and m.client_scan_id in won])
    return {m.client_scan_id for m in markers} - won


def visits(*, user, code_id: int, cursor: str | None, limit: int) -> dict:
    """A resident's own visit history for one of their codes, newest first."""
    hc_service.get_own(code_id=code_id, owner_id=user.id)
    stmt = select(Scan, Venue.name).join(Venue, Venue.id == Scan.venue_id, isouter=True).where(
        Scan.health_code_id == code_id)
    after = decode_cursor(cursor, 2)
    if after:
        at, sid = datetime.fromisoformat(after[0]), int(after[1])
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
