"""A file attached to a work order: the row says what it is; the bytes live on disk under a random name."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import AgencyOwned, Base
from portal.types import UTCDateTime, utcnow


class WorkOrderFile(AgencyOwned, Base):
    """A photo or PDF of a work order, uploaded by a person (portal) or a staff user (back office)."""

    __tablename__ = "work_order_files"
    __table_args__ = (
        CheckConstraint("size > 0", name="size_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    work_order_id: Mapped[int] = mapped_column(ForeignKey("work_orders.id", ondelete="CASCADE"), index=True)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id", ondelete="SET NULL"))
    # The random name of the bytes under UPLOAD_DIR/<agency id>/ (never anything the uploader chose).
    stored_name: Mapped[str] = mapped_column(String(64), unique=True)
    # What the uploader called it, cleaned, only ever shown or offered as a download name.
    original_name: Mapped[str] = mapped_column(String(200), default="")
    content_type: Mapped[str] = mapped_column(String(40))  # image/jpeg, image/png, application/pdf
    size: Mapped[int] = mapped_column()
    sha256: Mapped[str] = mapped_column(String(64))
    has_thumbnail: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def is_image(self) -> bool:
        return self.content_type.startswith("image/")

    def __str__(self) -> str:
        return self.original_name or f"file {self.id}"
