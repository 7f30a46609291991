"""地缘 groups: the automatic group of each community (created when first needed), and the locality memberships
that a move or a departure ends."""
from collections import Counter

from sqlalchemy import delete, select, tuple_, update

from app.areas import service as area_service
from app.common.ids import random_id
from app.common.time import utcnow
from app.common.upsert import insert
from app.extensions import db
from app.volunteers.models import Group, GroupMember

_IN_LIST_MAX = 200


def auto_group_name(community_name: str) -> str:
    """The automatic group's name: 五山东风社区街坊群."""
    return f"{community_name}街坊群"[:40]


def ensure_auto_groups(communities: set[str]) -> None:
    """Create the automatic groups of these communities that do not exist yet (race-safe); no commit."""
    # A bulk batch names thousands of communities: then reading every automatic group (one per community, a few
    # thousand short rows) beats an IN list of thousands of parameters.
    query = select(Group.auto_area).where(Group.auto_area.is_not(None) if len(communities) > _IN_LIST_MAX
                                          else Group.auto_area.in_(communities))
    missing = sorted(communities - set(db.session.execute(query).scalars()))
    if not missing:
        return
    names, now = area_service.names(set(missing)), utcnow()
    rows = [dict(id=random_id(), name=auto_group_name(names.get(code, code)), kind="locality", area_code=code,
                 join_policy="open", description="本社区全体志愿者自动加入", auto_area=code, member_count=0,
                 created_at=now, updated_at=now) for code in missing]
    # executemany (one compiled statement, sent in multi-row pages), not .values(rows): compiling one VALUES clause
    # of thousands of rows took ~1 s of Python and PostgreSQL a further ~0.4 s to parse it on a city's first import
    db.session.execute(insert(Group.__table__).on_conflict_do_nothing(index_elements=["auto_area"]), rows)


def auto_group_of(grid_code: str) -> Group | None:
    """The automatic group of the community a grid lies in."""
    return db.session.execute(select(Group).where(Group.auto_area == grid_code[:12])).scalar_one_or_none()


def drop_memberships(new_grids: dict[int, str | None]) -> int:
    """End the locality memberships (and automatic-group leaderships) that no longer fit where each volunteer
    lives now ({volunteer_id: new grid, or None for a departure: every membership ends}); no commit."""
    if not new_grids:
        return 0
    rows = db.session.execute(
        select(GroupMember.group_id, GroupMember.volunteer_id, GroupMember.status, Group.kind, Group.area_code,
               Group.auto_area).join(Group, Group.id == GroupMember.group_id)
        .where(GroupMember.volunteer_id.in_(list(new_grids)))).all()
    gone = [r for r in rows if new_grids[r.volunteer_id] is None
            or (r.kind == "locality" and not new_grids[r.volunteer_id].startswith(r.area_code))]
    if not gone:
        return 0
    db.session.execute(delete(GroupMember).where(tuple_(GroupMember.group_id, GroupMember.volunteer_id).in_(
        [(r.group_id, r.volunteer_id) for r in gone])))
    adjust_member_counts(Counter(r.group_id for r in gone if r.status == "active" and r.auto_area is None), sign=-1)
    return len(gone)


def adjust_member_counts(changes: Counter, sign: int = 1) -> None:
    """Atomic member_count += n per group, in id order (no deadlock between concurrent writers); no commit."""
    for group_id in sorted(changes):
        if changes[group_id]:
            db.session.execute(update(Group).where(Group.id == group_id)
                               .values(member_count=Group.member_count + sign * changes[group_id]))
