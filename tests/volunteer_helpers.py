"""Shared pieces of the volunteer tests: places, registering, groups made through the API, the counters check."""
from sqlalchemy import select

from app.volunteers import counts
from app.volunteers.models import Group, GroupMember, Volunteer

# 五山街道 (440106001): 华林社区 (…001001) and 荷塘社区 (…001002); 员村街道 (440106002); 沙面街道 in 荔湾区 (440103001).
GRID_A1, GRID_A2 = "44010600100101", "44010600100102"
GRID_B = "44010600100201"
GRID_OTHER_STREET = "44010600200101"
GRID_OTHER_DISTRICT = "44010300100101"
WUSHAN, YUANCUN, TIANHE = "440106001", "440106002", "440106"


def profile_body(**overrides) -> dict:
    body = {"real_name": "陈大文", "grid": GRID_A1, "trade": "express", "interests": ["running", "anti_fraud"],
            "service_roles": ["patroller"], "consent": True}
    body.update(overrides)
    return body


def register(client, login, **overrides):
    """A resident who registers as a volunteer: (user, headers, response body)."""
    user, headers = login("resident")
    r = client.post("/api/v1/volunteers", json=profile_body(**overrides), headers=headers)
    assert r.status_code == 201, r.get_json()
    return user, headers, r.get_json()


def volunteer_row(db, volunteer_id) -> Volunteer:
    db.session.expire_all()
    return db.session.execute(select(Volunteer).where(Volunteer.id == int(volunteer_id))).scalar_one()


def assert_counts_exact() -> None:
    """The counters hold exactly what the volunteer rows say."""
    assert counts.stored() == counts.expected()


def count(dim: str, area: str, key: str = "") -> int:
    return counts.stored().get((dim, area, key), 0)


def make_group(client, headers, **overrides):
    """A group made through the API by `headers` (a trade group in 五山 unless overridden): the 201 body."""
    body = {"name": "五山快递群", "kind": "trade", "area": WUSHAN, "trade": "express", "join_policy": "open"}
    body.update(overrides)
    r = client.post("/api/v1/groups", json=body, headers=headers)
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def members_of(db, group_id):
    db.session.expire_all()
    return {(m.volunteer_id, m.status, m.role) for m in db.session.execute(
        select(GroupMember).where(GroupMember.group_id == int(group_id))).scalars()}


def member_count(db, group_id):
    db.session.expire_all()
    return db.session.get(Group, int(group_id)).member_count
