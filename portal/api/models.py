"""API keys (a secret per client, stored hashed, read or read-write) and the responses kept for idempotency keys."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.agencies.models import StaffUser
from portal.db import AgencyOwned, Base
from portal.types import UTCDateTime, enum_column, utcnow


class ApiScope(enum.StrEnum):
    READ = "read"  # GET only
    READ_WRITE = "read-write"


class ApiKey(AgencyOwned, Base):
    """One client's key to /api/v1: its prefix identifies it, its secret is kept only as a SHA-256 hash."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    # "ptc_" and 8 hex digits: the start of the key, shown in the list so staff can tell keys apart.
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    # SHA-256 of the whole key: the key has 256 random bits, so a plain hash cannot be brute-forced
    # (argon2 is for passwords people choose) and it is checked on every request, cheaply.
    secret_hash: Mapped[str] = mapped_column(String(64))
    scope: Mapped[ApiScope] = mapped_column(enum_column(ApiScope), default=ApiScope.READ)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id", ondelete="SET NULL"))
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    created_by: Mapped[StaffUser | None] = relationship()

    @property
    def can_write(self) -> bool:
        return self.scope == ApiScope.READ_WRITE

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"


class IdempotentRequest(AgencyOwned, Base):
    """A POST made with an Idempotency-Key, and the response it got, to replay for 24 hours."""

    __tablename__ = "api_idempotency"
    __table_args__ = (UniqueConstraint("api_key_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    api_key_id: Mapped[int] = mapped_column(ForeignKey("api_keys.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(255))
    # SHA-256 of the method, path and body: the same key with another request is refused, not replayed.
    fingerprint: Mapped[str] = mapped_column(String(64))
    status: Mapped[int] = mapped_column(Integer)
    body: Mapped[str] = mapped_column(Text)
    headers: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # Location, ETag
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
