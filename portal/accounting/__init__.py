"""Owner accounting: what the agency holds for each owner (per currency), and their monthly statements."""
