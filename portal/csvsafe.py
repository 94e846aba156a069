"""CSV cells that a spreadsheet will not run: text typed by tenants, vendors or guests may start with = + - @
(a formula such as =HYPERLINK(...)); such a cell is written with a leading apostrophe, read as plain text.
For text columns only: an amount such as -50.00 is written as it is."""

from __future__ import annotations

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def text_cell(value: object) -> str:
    """`value` as a CSV text cell a spreadsheet shows as text, never evaluates."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def read_text_cell(cell: str) -> str:
    """A text cell written by text_cell, as it was."""
    return cell[1:] if cell.startswith("'") and cell[1:].startswith(FORMULA_STARTS) else cell
