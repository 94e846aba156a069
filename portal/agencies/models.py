"""Agencies, staff users, the sessions of staff and portal users, and login attempts."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask_login import UserMixin
from sqlalchemy import JSON, CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.dates import DEFAULT_LOCALE, locale_for
from portal.db import AgencyOwned, Base
from portal.types import UTCDateTime, enum_column, utcnow


class Agency(Base):
    """A property-management company: the root every other row belongs to."""

    __tablename__ = "agencies"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(60), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    currency: Mapped[str] = mapped_column(String(3), default="EUR")
    language: Mapped[str] = mapped_column(String(8), default="en")
    # How dates read on every page and mail (Babel locale: 'en_GB' -> 1 Dec 2026, 'de_DE' -> 01.12.2026).
    locale: Mapped[str] = mapped_column(String(16), default=DEFAULT_LOCALE, server_default=DEFAULT_LOCALE)
    primary_color: Mapped[str] = mapped_column(String(7), default="#1f4e79")
    accent_color: Mapped[str] = mapped_column(String(7), default="#e07a1f")
    logo_url: Mapped[str | None] = mapped_column(String(500))
    host_name: Mapped[str | None] = mapped_column(String(255), unique=True)
    settings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def zone(self) -> ZoneInfo:
        """The agency's time zone, in which its days, windows and appointments are reckoned."""
        return ZoneInfo(self.timezone)

    @property
    def babel_locale(self) -> str:
        """The agency's locale as Babel knows it (the default if the stored one is unknown)."""
        return locale_for(self.locale)

    def today(self) -> date:
        """Today's date in the agency's time zone."""
        from portal import clock

        return clock.now().astimezone(self.zone).date()

    def __repr__(self) -> str:
        return f"<Agency {self.slug}>"


class StaffRole(enum.StrEnum):
    ADMIN = "admin"
    MANAGER = "manager"


class StaffUser(AgencyOwned, UserMixin, Base):
    """A back-office user of one agency."""

    __tablename__ = "staff_users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[StaffRole] = mapped_column(
        enum_column(StaffRole),
        default=StaffRole.MANAGER,
    )
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    agency: Mapped[Agency] = relationship(lazy="joined")

    # Set by the user loader: the server-side session this request runs under.
    session_token = None

    def get_id(self) -> str | None:
        """Flask-Login stores the server-side session token, not the user id."""
        return self.session_token

    @property
    def is_active(self) -> bool:
        return self.active


class LoginSession(Base):
    """A signed-in session of a staff user or of a person in the portals (its `kind`); deleting the
    row signs its cookie out everywhere. Started, looked up and ended by portal.sessions."""

    __tablename__ = "sessions"
    __table_args__ = (
        CheckConstraint("(kind = 'staff' AND user_id IS NOT NULL AND person_id IS NULL) OR "
                        "(kind = 'portal' AND person_id IS NOT NULL AND user_id IS NULL AND agency_id IS NOT NULL)",
                        name="kind_subject"),
    )

    token: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id", ondelete="CASCADE"), index=True)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    ip: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(500))

    __mapper_args__ = {"polymorphic_on": kind}


class StaffSession(LoginSession):
    """A staff user's session (the back office)."""

    __mapper_args__ = {"polymorphic_identity": "staff"}


class PortalSession(LoginSession):
    """A person's session in one agency's portals (signed in by link or code)."""

    __mapper_args__ = {"polymorphic_identity": "portal"}


class LoginAttempt(Base):
    """A failed staff login, counted for rate limiting per address and per IP."""

    __tablename__ = "login_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), index=True)
    ip: Mapped[str] = mapped_column(String(64), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class StaffAudit(AgencyOwned, Base):
    """Something a staff user did that the agency may want to account for (e.g. viewing a portal as someone)."""

    __tablename__ = "staff_audit"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id", ondelete="SET NULL"), index=True)
    action: Mapped[str] = mapped_column(String(60))
    detail: Mapped[str | None] = mapped_column(String(500))
    ip: Mapped[str | None] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
