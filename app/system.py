"""/health: is the service up, can it reach its database, and how far ahead are the scans partitioned."""
import logging

import marshmallow as ma
from sqlalchemy import text

from app.common.blueprint import Blueprint
from app.extensions import db
from app.venues import retention

log = logging.getLogger("jiefang.health")
blp = Blueprint("system", __name__, url_prefix="/api/v1", description="服务状态")


class PartitionHorizonRead(ma.Schema):
    current_month = ma.fields.Boolean(required=True, metadata={"description": "本月的扫码分区是否存在"})
    months_ahead = ma.fields.Integer(required=True, metadata={"description": "本月之后已建好的连续月份数"})
    default_rows = ma.fields.Integer(required=True, metadata={"description": "默认分区中的行数（应为 0）"})


class HealthRead(ma.Schema):
    status = ma.fields.String(required=True, metadata={"example": "ok"})
    database = ma.fields.String(required=True, metadata={"example": "ok"})
    scan_partitions = ma.fields.Nested(PartitionHorizonRead, allow_none=True,
                                       metadata={"description": "PostgreSQL 扫码表的分区状况；其他数据库为 null"})


@blp.route("/health", methods=["GET"])
@blp.response(200, HealthRead)
@blp.alt_response(503, schema=HealthRead, description="数据库不可用")
def health():
    """Liveness and database reachability (503 when the database is down)."""
    try:
        db.session.execute(text("SELECT 1"))
        horizon = retention.horizon()
    except Exception:  # noqa: BLE001 — any failure to reach the database means "down"
        db.session.rollback()
        log.warning("health check: database unreachable")
        return {"status": "degraded", "database": "down"}, 503
    if horizon is not None and (horizon.months_ahead < 1 or horizon.default_rows):
        log.warning("health check: scan partitions %s months ahead, %s rows in the default partition",
                    horizon.months_ahead, horizon.default_rows)
    return {"status": "ok", "database": "ok", "scan_partitions": horizon}
