"""Surveys: staff build them in the back office; people answer through a one-time link (L4)."""
