"""Patrol check-ins to replay: volunteers signed up to patrols under way in the busiest communities, each able to
check in once (used by the HTTP hot path in bench/hot_paths.py and by bench/patrols.py's in-process timing)."""
from datetime import timedelta

from sqlalchemy import text

BENCH_PATROL = "压测巡逻"


def clear_bench_patrols() -> None:
    """Remove the check-in bench's patrols and everything hanging off them (the points ledger stays)."""
    from app.extensions import db

    mine = "(SELECT id FROM patrols WHERE title = :t)"
    for sql in (f"DELETE FROM notifications WHERE patrol_id IN {mine}",
                f"DELETE FROM patrol_hours_certifications WHERE attendance_id IN "
                f"(SELECT id FROM patrol_attendances WHERE patrol_id IN {mine})",
                f"DELETE FROM points_entries WHERE patrol_id IN {mine}",
                f"DELETE FROM patrol_attendances WHERE patrol_id IN {mine}",
                f"DELETE FROM patrol_signups WHERE patrol_id IN {mine}", "DELETE FROM patrols WHERE title = :t"):
        db.session.execute(text(sql), {"t": BENCH_PATROL})
    db.session.commit()


def checkin_pairs(count: int, communities: int = 200) -> list[tuple[int, int]]:
    """(patrol id, user id) of `count` volunteers signed up to patrols under way in the busiest communities (up to
    500 each): every pair can check in once. Earlier bench patrols are removed first."""
    from app.auth.models import User
    from app.common import time as clock
    from app.common.ids import random_id
    from app.extensions import db
    from app.patrols import service
    from app.volunteers import locality

    clear_bench_patrols()
    admin = db.session.execute(text("SELECT id FROM users WHERE username = 'bench-patrol-admin'")).scalar()
    if admin is None:
        admin = db.session.execute(text("INSERT INTO users (id, username, is_active, created_at) VALUES "
                                        "(:id, 'bench-patrol-admin', true, now()) RETURNING id"),
                                   {"id": random_id()}).scalar()
        db.session.execute(text("INSERT INTO role_grants (user_id, role, area_code, created_at) "
                                "VALUES (:u, 'admin', '4401', now())"), {"u": admin})
        db.session.commit()
    actor = db.session.get(User, admin)
    busiest = db.session.execute(text("""
        SELECT substr(grid_code, 1, 12) c, count(*) FROM volunteers WHERE left_at IS NULL AND user_id IS NOT NULL
        GROUP BY 1 ORDER BY 2 DESC LIMIT :n"""), {"n": communities}).all()
    now, pairs = clock.utcnow(), []
    for community, _ in busiest:
        if len(pairs) >= count:
            break
        locality.ensure_auto_groups({community})
        group = locality.auto_group_of(community + "01")
        patrol = service.create(actor=actor, data={
            "group_id": group.id, "area": community, "title": BENCH_PATROL, "starts_at": now - timedelta(minutes=10),
            "ends_at": now + timedelta(hours=2), "meeting_point": {"lat": 23.13, "lng": 113.35}, "radius_m": 200,
            "capacity": 500, "points_per_hour": 10})
        people = db.session.execute(text("""
            SELECT id, user_id FROM volunteers WHERE grid_code >= :c AND grid_code < :c || '~' AND left_at IS NULL
            AND user_id IS NOT NULL ORDER BY id LIMIT :n"""), {"c": community, "n": min(500, count - len(pairs))}).all()
        db.session.execute(text("""
            INSERT INTO patrol_signups (id, patrol_id, volunteer_id, user_id, status, starts_at, ends_at, created_at,
                                        updated_at)
            SELECT 2000000000000 + row_number() OVER () + :base, :p, v.id, v.user_id, 'active', :s, :e, now(), now()
            FROM unnest(CAST(:vids AS bigint[]), CAST(:uids AS bigint[])) AS v(id, user_id)"""),
            {"base": len(pairs), "p": patrol.id, "s": patrol.starts_at, "e": patrol.ends_at,
             "vids": [p.id for p in people], "uids": [p.user_id for p in people]})
        db.session.execute(text("UPDATE patrols SET active_count = :n WHERE id = :p"),
                           {"n": len(people), "p": patrol.id})
        db.session.commit()
        pairs += [(patrol.id, p.user_id) for p in people]
    return pairs


def checkin_body(patrol_id: int) -> dict:
    """A check-in on site with the patrol's current code (valid for this window and the next)."""
    from app.common import time as clock
    from app.patrols import codes

    return {"token": codes.sign(patrol_id, codes.window_of(clock.utcnow())), "lat": 23.13, "lng": 113.35,
            "accuracy_m": 15}
