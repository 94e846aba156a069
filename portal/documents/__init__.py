"""Documents and e-signatures (D7)."""

from portal.documents import holdings  # noqa: F401  (registers which documents an owner sees)
