"""Documents and e-signatures (D7)."""
