"""Agencies (D1) and their staff users (D2)."""
