"""The statement PDF (fpdf2): the agency's name, logo and colours, one table per unit, opening and closing."""

from __future__ import annotations

from portal.accounting.models import Statement


def render(statement: Statement) -> bytes:
    """The statement as PDF bytes."""
    raise NotImplementedError("the statement PDF comes next")
