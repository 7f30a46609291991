"""/health: is the service up, and can it reach its database."""
import logging

import marshmallow as ma
from sqlalchemy import text

from app.common.blueprint import Blueprint
from app.errors import doc_errors
from app.extensions import db

log = logging.getLogger("jiefang.health")
blp = Blueprint("system", __name__, url_prefix="/api/v1", description="服务状态")


class HealthRead(ma.Schema):
    status = ma.fields.String(required=True, metadata={"example": "ok"})
    database = ma.fields.String(required=True, metadata={"example": "ok"})


@blp.route("/health", methods=["GET"])
@blp.response(200, HealthRead)
@blp.alt_response(503, schema=HealthRead, description="数据库不可用")
def health():
    """Liveness and database reachability (503 when the database is down)."""
    try:
        db.session.execute(text("SELECT 1"))
    except Exception:  # noqa: BLE001 — any failure to reach the database means "down"
        db.session.rollback()
        log.warning("health check: database unreachable")
        return {"status": "degraded", "database": "down"}, 503
    return {"status": "ok", "database": "ok"}
