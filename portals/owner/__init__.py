"""The owner portal: home, and the shared pages it offers."""

from portals.owner import statements  # noqa: F401  (its statements and send-money pages)
from portals.owner import occupants  # noqa: F401  (its bookings and leases pages)
from portals.owner.views import bp  # the blueprint, with this portal's own pages added

__all__ = ["bp"]
