"""Leases (long-term) and bookings (short-term stays) — D4."""
