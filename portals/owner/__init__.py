"""The owner portal: home, and the shared pages it offers."""

from portals.owner import (
    applicants,  # noqa: F401  (its pages: applicants and their decisions)
    occupants,  # noqa: F401  (its bookings and leases pages)
    statements,  # noqa: F401  (its statements and send-money pages)
)
from portals.owner.views import bp  # the blueprint, with this portal's own pages added

__all__ = ["bp"]
