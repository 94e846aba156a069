"""People and their portal accounts (D2)."""
