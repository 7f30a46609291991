"""Patrols kept in step with volunteers who move or leave, through `volunteers.signals.volunteers_moved`
(connected in create_app; the volunteers domain names no patrols):
- a new grid (or none, after leaving) is copied onto the volunteers' summary rows, in the mover's transaction,
  so that area leaderboards rank people where they live now; a departed volunteer's group-board rows go;
- a departure ends the volunteer's upcoming sign-ups, their seats going to the people waiting."""
from collections import defaultdict

from app.extensions import db
from app.patrols import points, signups
from app.patrols.models import GroupPointsSummary, PointsSummary


def follow_moves(_sender, *, moved: dict[int, str | None]) -> None:
    """Receive volunteers_moved: re-home the summary rows of moved volunteers; for those who left (grid None),
    drop their group-board rows and end their upcoming sign-ups. No commit."""
    by_grid = defaultdict(list)
    for volunteer_id, grid in moved.items():
        by_grid[grid].append(volunteer_id)
    for grid, ids in sorted(by_grid.items(), key=lambda item: item[0] or ""):
        db.session.execute(PointsSummary.__table__.update().where(PointsSummary.volunteer_id.in_(sorted(ids)))
                           .values(**points.area_codes(grid)))
    departed = sorted(by_grid.get(None, ()))
    if departed:
        db.session.execute(GroupPointsSummary.__table__.delete().where(
            GroupPointsSummary.volunteer_id.in_(departed)))
        for volunteer_id in departed:
            signups.drop_future(volunteer_id)
