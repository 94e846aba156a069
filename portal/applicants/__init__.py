"""Applicants (SPEC P-O): prospective tenants or bookers of one unit, from the public form or staff, decided
by the unit's owner (portal or link) or by staff on the owner's word."""

from portal.applicants import holdings  # noqa: F401  (registers whose applicants are whose)
