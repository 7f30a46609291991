"""Patrols kept in step with volunteers who move or leave, through events on the volunteers' model (their code
needs no knowledge of patrols):
- a new grid (or none, after leaving) is copied onto the volunteer's summary rows, in the same flush, so that
  area leaderboards rank people where they live now; a departed volunteer's group-board rows go;
- a departure ends the volunteer's upcoming sign-ups before the commit, their seats going to the people waiting.
Bulk imports write with Core statements and fire no ORM events: they send `volunteers_moved`, which
`follow_bulk_moves` receives (connected in create_app), in the import's transaction."""
from collections import defaultdict

from sqlalchemy import event, inspect
from sqlalchemy.orm import Session

from app.extensions import db
from app.patrols import points
from app.patrols.models import GroupPointsSummary, PointsSummary
from app.volunteers.models import Volunteer

_DEPARTED = "patrols_departed_volunteers"


@event.listens_for(Volunteer, "after_update")
def _moved_or_left(_mapper, connection, target: Volunteer) -> None:
    state = inspect(target)
    if state.attrs.grid_code.history.has_changes():
        connection.execute(PointsSummary.__table__.update().where(PointsSummary.volunteer_id == target.id)
                           .values(**points.area_codes(target.grid_code)))
        if target.grid_code is None:
            connection.execute(GroupPointsSummary.__table__.delete().where(
                GroupPointsSummary.volunteer_id == target.id))
    if target.left_at is not None and state.attrs.left_at.history.has_changes():
        state.session.info.setdefault(_DEPARTED, set()).add(target.id)


@event.listens_for(Session, "before_commit")
def _end_departed_signups(session: Session) -> None:
    if _DEPARTED not in session.info and not any(isinstance(o, Volunteer) for o in session.dirty):
        return
    session.flush()
    from app.patrols import signups

    for volunteer_id in sorted(session.info.pop(_DEPARTED, ())):
        signups.drop_future(volunteer_id)


@event.listens_for(Session, "after_rollback")
def _forget(session: Session) -> None:
    session.info.pop(_DEPARTED, None)


def follow_bulk_moves(_sender, *, moved: dict[int, str]) -> None:
    """Copy the new grids of volunteers a bulk write moved onto their summary rows; no commit."""
    by_grid = defaultdict(list)
    for volunteer_id, grid in moved.items():
        by_grid[grid].append(volunteer_id)
    for grid, ids in sorted(by_grid.items()):
        db.session.execute(PointsSummary.__table__.update().where(PointsSummary.volunteer_id.in_(sorted(ids)))
                           .values(**points.area_codes(grid)))
