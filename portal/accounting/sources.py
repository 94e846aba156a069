"""How a statement line's source row is named, the same on every page and in the CSV: an owner entry is named by
its kind ("payout #3", "correction #5", "contribution #7"), the other rows by their type ("invoice #12")."""

from __future__ import annotations

from portal.accounting.models import EntryKind

OWNER_ENTRY = "owner_entry"  # the stored source type of a payout, a correction and a contribution
ENTRY_KINDS = frozenset(kind.value for kind in EntryKind)


def source_type(stored: str, kind: str) -> str:
    """The source type as people and the CSV see it (an owner entry: its kind)."""
    return str(kind) if stored == OWNER_ENTRY else stored


def stored_type(shown: str) -> str:
    """The stored source type of a shown one (the CSV read back)."""
    return OWNER_ENTRY if shown in ENTRY_KINDS else shown


def source_label(stored: str, source_id: int | None, kind: str) -> str:
    """A line's source as pages name it: "payout #3", "invoice #12", "unit #4"."""
    return f"{source_type(stored, kind).replace('_', ' ')} #{source_id}"
