"""Appointments (D9): viewings, inspections, repairs, key hand-overs."""
