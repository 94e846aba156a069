"""The statement as PDF and CSV: the PDF's extracted text carries every figure of the database (many lines across
pages, a name in any script, the agency's branding); the CSV reads back to the same figures."""

import io
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pypdfium2
import pytest
from pypdf import PdfReader

from portal import clock, db
from portal.accounting import operations as acc
from portal.accounting import queries
from portal.accounting.documents import parse_csv, statement_csv, statement_pdf
from portal.accounting.models import LineKind
from portal.accounting.pdf import FONT_DIR, amount_text, local_logo
from portal.money.operations import pay, refund
from tests import factories as f

D = Decimal
NOV = date(2026, 11, 1)
SHOTS = Path("/tmp/portico-shots")


@pytest.fixture
def statement(ctx):
    """November for an owner with a non-Latin name: 3 units, 70 payments, refunds, a payout, a contribution."""
    a = f.agency("alpha", timezone="Europe/Madrid", name="Costa Serena Rentals")
    a.settings = {acc.FEE_PERCENT: "12.5", acc.FEE_FIXED: "30.00"}
    a.primary_color, a.accent_color = "#1f4e79", "#e07a1f"
    owner = f.person(a, "Zoë Łukasiewicz-Øster (Зоя Ωμέγα)", "zoe@example.com", roles=["owner"])
    tenant = f.person(a, "Tom Tenant", "tom@example.com", roles=["tenant"])
    prop = f.prop(a, "Seafront Residences")
    units = [f.unit(a, prop, name) for name in ("Flat 1A", "Flat 2B", "Ático 3C")]
    for u in units:
        u.owners.append(owner)
    db.session.flush()
    leases = [f.lease(a, u, tenant) for u in units]
    start = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
    for i in range(70):
        charge = f.charge(a, lease=leases[i % 3], amount=f"{100 + i * 7}.{i % 100:02d}",
                          description=f"Rent instalment {i + 1} — Müller & Söhne")
        with clock.frozen_at(start + timedelta(hours=9 * i)):
            payment = pay(charge, tenant, charge.amount, channel="office")
            if i % 17 == 0:
                refund(payment, "12.34", "Heating out for a day")
    with clock.frozen_at(datetime(2026, 11, 29, 10, tzinfo=UTC)):
        acc.record_entry(owner, "payout", D("1500.00"), "EUR", date(2026, 11, 29), "Transfer to ES12 3456")
        acc.record_entry(owner, "contribution", D("200.00"), "EUR", date(2026, 11, 15), "For the new boiler")
    with clock.frozen_at(datetime(2026, 12, 2, 8, tzinfo=UTC)):
        s = acc.generate(owner, NOV, "EUR")
    db.session.commit()
    return queries.statement(s.id)


def _text(pdf: bytes) -> tuple[str, int]:
    reader = PdfReader(io.BytesIO(pdf))
    return "\n".join(page.extract_text() for page in reader.pages), len(reader.pages)


def test_the_pdf_text_carries_every_figure_of_the_database(statement):
    pdf = statement_pdf(statement)
    assert pdf.startswith(b"%PDF")
    text, pages = _text(pdf)
    assert pages >= 2
    assert f"Page 1 of {pages}" in text and f"Page {pages} of {pages}" in text
    assert "Costa Serena Rentals" in text and "Zoë Łukasiewicz-Øster (Зоя Ωμέγα)" in text and "November 2026" in text
    assert "Ático 3C" in text
    # Every line's amount, in the order of the lines, then its unit's subtotal after them.
    position = 0
    groups = {}
    for line in statement.lines:
        groups.setdefault(line.unit_id, []).append(line)
    for unit_id, name, subtotal in statement.subtotals():
        for line in groups[unit_id]:
            found = text.find(amount_text(line.amount, "EUR"), position)
            assert found >= 0, (line.description, line.amount)
            position = found
        found = text.find(f"Subtotal · {name if unit_id else 'your account'}", position)
        assert found >= 0
        position = text.find(amount_text(subtotal, "EUR"), found)
        assert position >= 0, (name, subtotal)
    # The summary and the balances.
    assert text.count(amount_text(statement.opening, "EUR")) >= 2
    closing = f"{amount_text(statement.closing, 'EUR')} EUR"
    assert text.count(closing) == 2  # the summary and the foot
    for kind in (LineKind.INCOME, LineKind.REFUND, LineKind.FEE, LineKind.PAYOUT, LineKind.CONTRIBUTION):
        assert amount_text(statement.total(kind), "EUR") in text
    assert statement.closing == statement.opening + sum(line.amount for line in statement.lines)
    assert len(statement.lines) == 70 + 5 + 3 * 2 + 2  # payments, refunds, two fees per unit, the two entries


def test_the_pdf_looks_like_the_agency(statement):
    """Rendered to PNG (for a look at /tmp/portico-shots): the header band is the agency's main colour."""
    pdf = statement_pdf(statement)
    document = pypdfium2.PdfDocument(pdf)
    SHOTS.mkdir(parents=True, exist_ok=True)
    for old in SHOTS.glob("statement-page*.png"):
        old.unlink()
    for index in range(len(document)):
        image = document[index].render(scale=1.6).to_pil()
        image.save(SHOTS / f"statement-page{index + 1}.png")
        if index == 0:
            band = image.getpixel((image.width // 2, 2))[:3]
            assert max(abs(c - e) for c, e in zip(band, (0x1f, 0x4e, 0x79), strict=True)) <= 3
    document.close()


def test_an_empty_month_says_so(ctx):
    a = f.agency("alpha", timezone="Europe/Madrid")
    owner = f.person(a, "Olga Owner", "olga@example.com", roles=["owner"])
    unit = f.unit(a)
    unit.owners.append(owner)
    db.session.flush()
    with clock.frozen_at(datetime(2026, 12, 2, 8, tzinfo=UTC)):
        s = acc.generate(owner, NOV, "EUR")
    text, pages = _text(statement_pdf(s))
    assert pages == 1 and "No activity this month" in text
    assert text.count("0.00 EUR") == 2
    parsed = parse_csv(statement_csv(s))
    assert parsed == {"opening": D("0"), "closing": D("0"), "currency": "EUR", "lines": []}


def test_the_csv_round_trips(statement):
    text = statement_csv(statement)
    parsed = parse_csv(text)
    assert parsed["opening"] == statement.opening and parsed["closing"] == statement.closing
    assert parsed["currency"] == "EUR"
    assert [(r["date"], r["unit"], r["kind"], r["description"], r["amount"], r["source_type"], r["source_id"])
            for r in parsed["lines"]] == [
        (line.line_date.isoformat(), line.unit_name, line.kind.value, line.description, line.amount,
         line.source_type, line.source_id) for line in statement.lines]
    assert parsed["opening"] + sum(r["amount"] for r in parsed["lines"]) == parsed["closing"]


def test_a_remote_logo_is_never_fetched_and_a_local_one_must_stay_inside_static():
    assert local_logo("https://example.com/logo.png") is None
    assert local_logo("/static/../../etc/passwd") is None
    assert local_logo(None) is None
    assert FONT_DIR.joinpath("DejaVuSans.ttf").is_file()  # .ci/run installs fonts-dejavu-core


def test_the_csv_never_writes_a_formula_from_text_and_keeps_negative_amounts(statement):
    """A vendor or tenant text such as =HYPERLINK(...) is written as text ('=...), read back as it was; an
    amount such as -50.00 stays a number."""
    import csv
    import io

    evil = '=HYPERLINK("http://evil.example","click")'
    statement.lines[0].description = evil
    statement.lines[0].unit_name = "@SUM(A1)"
    text = statement_csv(statement)
    cells = [cell for row in csv.reader(io.StringIO(text)) for cell in row]
    assert not any(cell.startswith(("=", "@", "+")) for cell in cells)
    assert "'" + evil in cells and "'@SUM(A1)" in cells
    negatives = [line for line in statement.lines if line.amount < 0]
    assert negatives and all(f"{line.amount:f}" in cells for line in negatives)
    parsed = parse_csv(text)
    assert parsed["lines"][0]["description"] == evil and parsed["lines"][0]["unit"] == "@SUM(A1)"
