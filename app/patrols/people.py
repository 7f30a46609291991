"""Read-only look-ups of volunteers that patrols need for many at once (the volunteers' service reads one by one)."""
from sqlalchemy import select

from app.extensions import db
from app.volunteers import service as volunteer_service
from app.volunteers.models import Volunteer


def masked_names(ids) -> dict[int, str | None]:
    """{volunteer id: masked name (None once they left)} in one query."""
    ids = list(set(ids))
    if not ids:
        return {}
    rows = db.session.execute(select(Volunteer).where(Volunteer.id.in_(ids))).scalars()
    return {v.id: volunteer_service.masked_name(v) for v in rows}


def grid_of(volunteer_id: int) -> str | None:
    """Where a volunteer lives now (None once they left): the area their points count for."""
    return db.session.execute(select(Volunteer.grid_code).where(Volunteer.id == volunteer_id)).scalar()
