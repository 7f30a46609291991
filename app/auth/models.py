"""Accounts, role grants, SMS codes and token state."""
from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, LargeBinary, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.common.ids import random_id
from app.common.time import utcnow
from app.common.types import UTCDateTime, byte_string, code_string
from app.extensions import db

ROLES = ("resident", "volunteer", "organiser", "venue_staff", "health_official", "admin", "community_staff",
         "street_staff", "department_staff")
# community_staff: a community's (社区) report takers; street_staff: a street's (街道) dispatchers, or a district's when
# granted over one; department_staff: a functional department's responders (app/reports).
STAFF_ROLES = ("organiser", "venue_staff", "health_official", "admin", "community_staff", "street_staff",
               "department_staff")
CITY_CODE = "4401"
# Roles granted over the whole city only: a health official traces and recolours anyone (docs/security-scope.md).
CITY_WIDE_ROLES = ("health_official",)


class User(db.Model):
    """An account: a resident by phone or WeChat, or staff by username and password."""

    __tablename__ = "users"
    # Most accounts have neither a username nor a WeChat id: their unique indexes leave the NULLs out (see 0009).
    __table_args__ = (
        Index("ix_users_username", "username", unique=True, postgresql_where=text("username IS NOT NULL"),
              sqlite_where=text("username IS NOT NULL")),
        Index("ix_users_wechat_openid_hash", "wechat_openid_hash", unique=True,
              postgresql_where=text("wechat_openid_hash IS NOT NULL"),
              sqlite_where=text("wechat_openid_hash IS NOT NULL")),
    )

    # Random like every other id (see 0014): an id tells neither how many accounts there are nor who came next.
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, default=random_id,
                                    autoincrement=False)
    phone_hash: Mapped[str | None] = mapped_column(byte_string(32), unique=True)
    phone_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    username: Mapped[str | None] = mapped_column(String(64))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    wechat_openid_hash: Mapped[str | None] = mapped_column(String(32))
    wechat_session_key_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    wechat_openid_enc: Mapped[bytes | None] = mapped_column(LargeBinary)  # to address subscribe messages
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # TOTP second factor (admin, health_official): the secret encrypted, when it was confirmed, the last time step
    # accepted (a code is good once).
    totp_secret_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    totp_enabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)

    grants: Mapped[list["RoleGrant"]] = relationship(back_populates="user", cascade="all, delete-orphan")

    @property
    def roles(self) -> set[str]:
        return {g.role for g in self.grants}

    @property
    def grants_in_order(self) -> list["RoleGrant"]:
        """The grants by role, then area: the order responses list them in."""
        return sorted(self.grants, key=lambda g: (g.role, g.area_code))

    def has_role(self, *roles: str) -> bool:
        """Whether the user holds any of these roles, in any area."""
        return any(g.role in roles for g in self.grants)

    def areas_for(self, *roles: str) -> list[str]:
        """Area codes over which the user holds any of these roles."""
        return sorted({g.area_code for g in self.grants if g.role in roles})

    def acts_on(self, area_code: str, *roles: str) -> bool:
        """Whether one of these roles is granted over area_code or an area above it."""
        return any(g.role in roles and area_code.startswith(g.area_code) for g in self.grants)


class RoleGrant(db.Model):
    """A role held over an area (and everything below it); residents hold theirs over the whole city."""

    __tablename__ = "role_grants"
    # The grant itself is the key (no surrogate id, nothing refers to a grant): its one index, led by user_id,
    # serves every look-up by user (see migrations 0008 and 0009).

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    role: Mapped[str] = mapped_column(byte_string(20), primary_key=True)
    area_code: Mapped[str] = mapped_column(code_string(14), primary_key=True, default=CITY_CODE)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped[User] = relationship(back_populates="grants")


class SignInFailure(db.Model):
    """Failed staff sign-ins of one username (known or not, keyed by its hash): the account lockout's state."""

    __tablename__ = "sign_in_failures"

    username_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(default=0)
    last_failed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)


class SmsCode(db.Model):
    """A one-time sign-in code, stored hashed; dies after five wrong tries or five minutes."""

    __tablename__ = "sms_codes"
    __table_args__ = (Index("ix_sms_codes_phone_created", "phone_hash", "created_at"),
                      Index("ix_sms_codes_ip_created", "ip", "created_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    phone_hash: Mapped[str] = mapped_column(String(32))
    code_hash: Mapped[str] = mapped_column(String(64))
    ip: Mapped[str] = mapped_column(String(45))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(default=0)
    consumed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class RefreshToken(db.Model):
    """A refresh token's state: used once, then replaced; reuse revokes its whole family."""

    __tablename__ = "refresh_tokens"

    jti: Mapped[str] = mapped_column(String(36), primary_key=True)
    family: Mapped[str] = mapped_column(String(36), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The pair this token was exchanged for, encrypted: a parallel refresh within the grace window gets it too.
    successor_enc: Mapped[bytes | None] = mapped_column(LargeBinary)


class RevokedToken(db.Model):
    """A revoked access token (logout), kept until it would have expired anyway."""

    __tablename__ = "revoked_tokens"

    jti: Mapped[str] = mapped_column(String(36), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
