"""Work orders (D6): requests for repairs and cleaning, and their life cycle."""

from portal.workorders import holdings  # noqa: F401  (registers whose orders and invoices are whose)
