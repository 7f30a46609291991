"""Benchmark yardsticks (`make bench`): what this stack costs before any business rule runs.

- `GET /api/v1/bench/json`: the framework ceiling (routing, request hooks, schema dump, JSON).
- `POST /api/v1/bench/write`: the one-write ceiling (the same, plus one INSERT and its COMMIT).

Hot paths are measured as a ratio to these, in the same run under the same gunicorn settings. The routes
exist only when `BENCH_YARDSTICKS` is on (never in production, which refuses it); the table always exists,
so the schema is the same everywhere.
"""
from datetime import datetime

import marshmallow as ma
from sqlalchemy import BigInteger, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.common.blueprint import Blueprint
from app.common.ids import random_id
from app.common.time import utcnow
from app.common.types import UTCDateTime
from app.extensions import db

blp = Blueprint("bench", __name__, url_prefix="/api/v1/bench", description="基准测试标尺（仅基准测试环境）")


class BenchWrite(db.Model):
    """One yardstick write: shaped like a scan row (random BIGINT key, a timestamp, a short value)."""

    __tablename__ = "bench_writes"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True,
                                    autoincrement=False)
    note: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PingRead(ma.Schema):
    status = ma.fields.String(required=True, metadata={"example": "ok"})


class WriteCreate(ma.Schema):
    note = ma.fields.String(load_default="", validate=ma.validate.Length(max=64))


class WriteRead(ma.Schema):
    id = ma.fields.String(required=True, metadata={"example": "4623193452671234567"})


def record_write(*, note: str) -> BenchWrite:
    """Exactly one INSERT and its COMMIT (the id is made here, so nothing is read back)."""
    row = BenchWrite(id=random_id(), note=note, created_at=utcnow())
    db.session.add(row)
    db.session.commit()
    return row


@blp.route("/json", methods=["GET"])
@blp.response(200, PingRead)
def bench_json():
    """Framework ceiling: no database, no rule."""
    return {"status": "ok"}


@blp.route("/write", methods=["POST"])
@blp.arguments(WriteCreate)
@blp.response(201, WriteRead)
def bench_write(data):
    """One-write ceiling: one INSERT + COMMIT."""
    row = record_write(note=data["note"])
    return {"id": str(row.id)}
