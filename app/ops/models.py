"""Tables the platform keeps for itself: Redis's generation, key checks, idempotent requests."""
from datetime import datetime

from sqlalchemy import BigInteger, Integer, LargeBinary, SmallInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from app.common.time import utcnow
from app.common.types import UTCDateTime, byte_string
from app.extensions import db


class CacheSync(db.Model):
    """One row: the generation of facts Redis must hold (bumped by every write that could not reach Redis)."""

    __tablename__ = "cache_sync"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    generation: Mapped[int] = mapped_column(BigInteger, default=0)


class KeyCheck(db.Model):
    """What the configured keys made of a known text at first start: a restart with other keys is refused."""

    __tablename__ = "key_checks"

    name: Mapped[str] = mapped_column(String(80), primary_key=True)
    value: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class IdempotentRequest(db.Model):
    """A POST made with an Idempotency-Key: its fingerprint and, once answered, the answer to replay."""

    __tablename__ = "idempotent_requests"

    account_id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(byte_string(64))
    status: Mapped[int | None] = mapped_column(SmallInteger)
    body: Mapped[bytes | None] = mapped_column(LargeBinary)
    location: Mapped[str | None] = mapped_column(String(500))  # the answer's Location header, replayed with it
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
