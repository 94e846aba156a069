"""Leases (long-term) and bookings (short-term stays) — D4."""

from portal.bookings import holdings  # noqa: F401  (registers whose bookings and leases are whose)
