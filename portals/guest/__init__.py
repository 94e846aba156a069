"""The guest portal: home, stays, and the shared pages it offers."""

from portals.guest.views import bp  # the blueprint, with this portal's own pages added

__all__ = ["bp"]
