"""The owner portal: home, and the shared pages it offers."""

from portals.owner import applicants  # noqa: F401  (its pages: applicants and their decisions)
from portals.owner.views import bp  # the blueprint, with this portal's own pages added

__all__ = ["bp"]
