"""Properties and units (D3)."""
