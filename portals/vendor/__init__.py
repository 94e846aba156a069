"""The vendor portal: what needs the vendor, their orders and invoices, and the shared pages it offers."""

from portals.vendor.views import bp  # the blueprint, with this portal's own pages added

__all__ = ["bp"]
