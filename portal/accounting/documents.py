"""A statement as a file: CSV (one row per line, with its source named as the pages name it,
portal.accounting.sources; parse_csv reads it back) and PDF.

Descriptions and unit names come from tenants, vendors and staff: written through portal.csvsafe (a cell that
would be a formula starts with an apostrophe); amounts are written as they are."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

from flask import Response

from portal.accounting.ledger import last_day_of
from portal.accounting.models import Statement
from portal.accounting.sources import source_type, stored_type
from portal.csvsafe import read_text_cell, text_cell

CSV_HEADER = ["row", "date", "unit", "kind", "description", "amount", "currency", "source_type", "source_id"]


def statement_csv(statement: Statement) -> str:
    """The statement as CSV: an opening row, one row per line (with the row it comes from), a closing row."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    first, last = statement.month, last_day_of(statement.month)  # as the PDF dates them
    writer.writerow(["opening", first.isoformat(), "", "", "Opening balance", f"{statement.opening:f}",
                     statement.currency, "", ""])
    for line in statement.lines:
        writer.writerow(["line", line.line_date.isoformat(), text_cell(line.unit_name), line.kind.value,
                         text_cell(line.description),
                         f"{line.amount:f}", statement.currency, source_type(line.source_type, line.kind.value),
                         line.source_id])
    writer.writerow(["closing", last.isoformat(), "", "", "Closing balance", f"{statement.closing:f}",
                     statement.currency, "", ""])
    return out.getvalue()


def parse_csv(text: str) -> dict:
    """A statement CSV read back: {'opening', 'closing': Decimal, 'currency', 'lines': [dict]}."""
    rows = list(csv.DictReader(io.StringIO(text)))
    result: dict = {"lines": []}
    for row in rows:
        amount = Decimal(row["amount"])
        if row["row"] in ("opening", "closing"):
            result[row["row"]] = amount
            result["currency"] = row["currency"]
        else:
            result["lines"].append({**row, "amount": amount, "unit": read_text_cell(row["unit"]),
                                    "description": read_text_cell(row["description"]),
                                    "source_type": stored_type(row["source_type"]),
                                    "source_id": int(row["source_id"]) if row["source_id"] else None})
    return result


def statement_pdf(statement: Statement) -> bytes:
    """The statement as a branded PDF (portal.accounting.pdf)."""
    from portal.accounting.pdf import render

    return render(statement)


def download(statement: Statement, extension: str, *, owner_in_name: bool = False) -> Response:
    """The statement as a file to save ("pdf" or "csv"), never cached; the back office's name carries the owner
    id (staff download many owners'), the owner's does not."""
    if extension == "pdf":
        body, mimetype = statement_pdf(statement), "application/pdf"
    else:
        body, mimetype = statement_csv(statement).encode("utf-8"), "text/csv"  # Werkzeug adds the charset
    who = f"{statement.owner_id}-" if owner_in_name else ""
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = (
        f'attachment; filename="statement-{who}{statement.month:%Y-%m}-{statement.currency}.{extension}"')
    response.headers["Cache-Control"] = "private, no-store"
    return response
