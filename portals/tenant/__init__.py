"""The tenant portal: home, work requests, and the shared pages it offers."""

from portals.tenant.views import bp  # the blueprint, with this portal's own pages added

__all__ = ["bp"]
