"""Tags: one agency-wide vocabulary shared by people, units and bookings."""

from __future__ import annotations

from sqlalchemy import Column, ForeignKey, String, Table, UniqueConstraint, select
from sqlalchemy.orm import Mapped, mapped_column

from portal import db
from portal.db import AgencyOwned, Base


class Tag(AgencyOwned, Base):
    """A label such as `vip` or `beachfront`."""

    __tablename__ = "tags"
    __table_args__ = (UniqueConstraint("agency_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(60))

    def __str__(self) -> str:
        return self.name


def tag_table(owner: str, singular: str) -> Table:
    """The association table `<singular>_tags` between rows of table `owner` and tags."""
    return Table(
        f"{singular}_tags",
        Base.metadata,
        Column(f"{singular}_id", ForeignKey(f"{owner}.id", ondelete="CASCADE"), primary_key=True),
        Column("tag_id", ForeignKey("tags.id", ondelete="CASCADE"), primary_key=True),
    )


def parse(text: str | None) -> list[str]:
    """Comma-separated input to distinct, trimmed, lower-case names in input order."""
    seen: dict[str, None] = {}
    for part in (text or "").split(","):
        name = " ".join(part.split()).lower()
        if name:
            seen[name[:60]] = None
    return list(seen)


def resolve(agency_id: int, names: list[str]) -> list[Tag]:
    """The agency's tags with these names, creating the missing ones (flushes)."""
    if not names:
        return []
    found = {t.name: t for t in db.session.scalars(select(Tag).where(Tag.name.in_(names)))}
    for name in names:
        if name not in found:
            found[name] = Tag(agency_id=agency_id, name=name)
            db.session.add(found[name])
    db.session.flush()
    return [found[n] for n in names]


def render(tags: list[Tag]) -> str:
    """Tags back to the comma-separated form input."""
    return ", ".join(sorted(t.name for t in tags))


def choices() -> list[tuple[str, str]]:
    """The agency's tags as (name, name) choices, by name."""
    return [(t.name, t.name) for t in db.session.scalars(select(Tag).order_by(Tag.name))]
