"""Prepare functions for the hot paths of landed domains: rows made once through the domains' own services
(the bench database is kept between runs), requests spread over many codes, venues and tokens.

Each runs in an app context right before its scenario, so tokens that live two minutes are fresh."""
from datetime import date, timedelta

from sqlalchemy import delete, select
from stdnum.cn import ric

from bench.core import Request

RESIDENTS = 200  # codes, one per bench resident
VENUES = 80  # venues, one per bench venue worker: 200 x 80 = 16,000 distinct check-ins per 5 minutes
NAMES = "一二三四五六七八九十"


def _id_number(i: int) -> str:
    """A valid mainland ID number, distinct per i (birth date + sequence)."""
    body = f"440106{date(1950, 1, 1) + timedelta(days=i):%Y%m%d}{i % 1000:03d}"
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
    from app.venues.models import Venue

    communities = fx.area_codes("community", VENUES)
    staff = fx.users(VENUES, role="venue_staff", area="4401")
    pairs = []
    for i, (user, area) in enumerate(zip(staff, communities)):
        venue = db.session.scalars(select(Venue).where(Venue.created_by == user.id)).first()
        if venue is None:
            venue = venue_service.create(user=user, name=f"基准测试场所{i:03d}", category="商场",
                                         address=f"测试路 {i} 号", area=area, lat=23.13, lng=113.26)
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
                    body={"token": hc_service.issue_token(code=people[i % RESIDENTS][0])["token"],
                          "venue_id": str(places[i % VENUES][0].id)})
            for i in range(4 * RESIDENTS)]


def check_in(fx) -> list[Request]:
    """Residents scanning venue codes: every (code, venue) pair once, so each request records a new visit."""
    from app.extensions import db
    from app.venues import service as venue_service
    from app.venues.models import LatestCheckin

    people, places = codes(fx), venues(fx)
    # A run within five minutes of the last would meet its own visits and answer 200 instead of recording.
    db.session.execute(delete(LatestCheckin).where(LatestCheckin.health_code_id.in_([c.id for c, _ in people])))
    db.session.commit()
    return [Request("POST", "/api/v1/checkins", token=token,
                    body={"venue_code": venue_service.venue_code(venue), "health_code_id": str(code.id)})
            for venue, _ in places for code, token in people]
