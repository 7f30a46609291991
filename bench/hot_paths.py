"""Prepare functions for the hot paths of landed domains: rows made once through the domains' own services
(the bench database is kept between runs), requests spread over many codes, venues and tokens.

Each runs in an app context right before its scenario, so tokens that live two minutes are fresh."""
from datetime import date, timedelta

from sqlalchemy import delete, select
from stdnum.cn import ric

from bench.core import Request

RESIDENTS = 200  # codes, one per bench resident
VENUES = 250  # venues, one per bench venue worker: 200 x 250 = 50,000 distinct check-ins per 5 minutes
#               (2,000/s for 25 s)
NAMES = "一二三四五六七八九十"


def _id_number(i: int) -> str:
    """A valid mainland ID number, distinct per i (birth date + sequence; never the fake identity provider's
    mismatching sequence 000)."""
    body = f"440106{date(1950, 1, 1) + timedelta(days=i):%Y%m%d}{i % 999 + 1:03d}"
    return body + ric.calc_check_digit(body + "0")


def codes(fx) -> list[tuple]:
    """(code, owner's access token) for each bench resident: one live health code each."""
    from app.health_codes import service as hc_service

    pairs = []
    for i, (user, token) in enumerate(zip(fx.users(RESIDENTS), fx.tokens(RESIDENTS))):
        own = hc_service.list_own(owner_id=user.id)
        code = own[0] if own else hc_service.apply(
            owner_id=user.id, name=f"陈{NAMES[i % 10]}明", id_type="cn_resident_id", id_number=_id_number(i),
            phone=None, relation="self", consent=True)
        pairs.append((code, token))
    return pairs


def venues(fx) -> list[tuple]:
    """(venue, its worker's access token) for each bench venue, one per community spread over the city."""
    from app.extensions import db
    from app.venues import service as venue_service
    from app.venues.models import Venue, VenueStaff

    communities = fx.area_codes("community", VENUES)
    staff = fx.users(VENUES, role="venue_staff", area="4401")
    pairs = []
    for i, (user, area) in enumerate(zip(staff, communities)):
        venue = db.session.scalars(select(Venue).where(Venue.created_by == user.id)).first()
        if venue is None:
            venue = venue_service.create(user=user, name=f"基准测试场所{i:03d}", category="商场",
                                         address=f"测试路 {i} 号", area=area, lat=23.13, lng=113.26)
        elif venue_service.staff_role(venue.id, user.id) is None:  # a reload of users dropped the binding
            db.session.add(VenueStaff(venue_id=venue.id, user_id=user.id, role="admin"))
            db.session.commit()
        pairs.append((venue, fx.token_for(user)))
    return pairs


def token_issue(fx) -> list[Request]:
    return [Request("GET", f"/api/v1/health-codes/{code.id}/token", token=token) for code, token in codes(fx)]


def qr_png(fx) -> list[Request]:
    return [Request("GET", f"/api/v1/health-codes/{code.id}/qr.png", token=token) for code, token in codes(fx)[:50]]


def staff_verify(fx) -> list[Request]:
    """Venue workers scanning residents' current dynamic tokens at their own venue (the scan is recorded)."""
    from app.health_codes import service as hc_service

    people, places = codes(fx), venues(fx)
    return [Request("POST", "/api/v1/health-codes/verify", token=places[i % VENUES][1],
                    body={"token": hc_service.issue_token(code=people[i % RESIDENTS][0]).token,
                          "venue_id": str(places[i % VENUES][0].id)})
            for i in range(4 * RESIDENTS)]


def check_in(fx) -> list[Request]:
    """Residents scanning venue codes: every (code, venue) pair once, so each request records a new visit."""
    from app.extensions import db
    from app.venues import service as venue_service
    from app.venues.models import LatestVisit

    people, places = codes(fx), venues(fx)
    # A run within five minutes of the last would meet its own visits and answer 200 instead of recording.
    db.session.execute(delete(LatestVisit).where(LatestVisit.person_id.in_([c.person_id for c, _ in people])))
    db.session.commit()
    return [Request("POST", "/api/v1/checkins", token=token,
                    body={"venue_code": venue_service.venue_code(venue), "health_code_id": str(code.id)})
            for venue, _ in places for code, token in people]


CHECKINS = 40_000  # distinct (volunteer, patrol) sign-ups: each checks in once (25 s at up to 1,600 req/s)
STATS = [(by, area) for area in ("4401", "440106") for by in
         ("district", "street", "community", "grid", "trade", "interest", "service_role")
         if not (by == "district" and area != "4401")]


def patrol_check_in(fx) -> list[Request]:
    """Volunteers checking in on site at patrols under way in the busiest communities, each sign-up once."""
    from bench.patrol_checkins import checkin_body, checkin_pairs

    return [Request("POST", "/api/v1/patrols/checkins", token=fx.token_for(_Id(user_id)),
                    body=checkin_body(patrol_id)) for patrol_id, user_id in checkin_pairs(CHECKINS)]


def volunteer_stats(fx) -> list[Request]:
    """Organisers' counts, every dimension over the city and over 天河区, by city-wide admins."""
    tokens = fx.tokens(20, role="admin")
    return [Request("GET", f"/api/v1/stats/volunteers?by={by}&area={area}", token=tokens[i % len(tokens)])
            for i, (by, area) in enumerate(STATS * 2)]


def leaderboard(fx) -> list[Request]:
    """Every area board (the busiest district, street, community, grid) and the city-wide 快递物流 group's, for each
    period, asked by the board's lowest-placed volunteer (the costliest rank); an admin asks when no ledger exists."""
    from app.patrols import points
    from bench import patrols

    keys = dict(zip(("all", "week", "month"), points.period_keys(points.today())))
    built = patrols.has_ledger()
    areas = patrols.busiest_areas() if built else {s: fx.area_codes(s, 1)[0] for s in patrols.AREA_SCOPES}
    boards = [(scope, areas[scope]) for scope in patrols.AREA_SCOPES] + [("group", str(patrols.express_group()))]
    admin = fx.tokens(1, role="admin")[0]
    requests = []
    for scope, scope_id in boards:
        for period, key in keys.items():
            caller = patrols.lowest_placed(scope, scope_id, key) if built else None
            token = fx.token_for(caller) if caller is not None and caller.id else admin
            requests.append(Request("GET", f"/api/v1/leaderboards?scope={scope}&id={scope_id}&period={period}",
                                    token=token))
    return requests


class _Id:
    """A user as token_for needs it: an id (no load of thousands of users to sign their tokens)."""

    def __init__(self, user_id: int):
        self.id = user_id
