"""The statement PDF (fpdf2): the agency's name, logo and colours; a summary; one table per unit with its
subtotal; opening and closing balances; page numbers. Text in DejaVu Sans (Debian's fonts-dejavu-core), so any
name prints; without that font, the PDF core font with the characters it lacks replaced."""

from __future__ import annotations

import os
import tempfile
import threading
from decimal import Decimal
from pathlib import Path

from babel.dates import format_date
from fontTools import subset
from fpdf import FPDF
from fpdf.enums import XPos, YPos

from portal import agencies, dates
from portal.accounting.ledger import last_day_of
from portal.accounting.models import LineKind, Statement
from portal.money.currency import precision

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
STATIC = Path(__file__).resolve().parent.parent / "static"
MINUS = "\u2212"

KIND_LABELS = {
    LineKind.INCOME: "Income", LineKind.REFUND: "Refund", LineKind.EXPENSE: "Expense", LineKind.FEE: "Fee",
    LineKind.CONTRIBUTION: "Contribution", LineKind.PAYOUT: "Payout", LineKind.CORRECTION: "Correction",
}
# The summary's rows, in the order the balance is made of.
SUMMARY = (LineKind.INCOME, LineKind.REFUND, LineKind.EXPENSE, LineKind.FEE, LineKind.CONTRIBUTION,
           LineKind.PAYOUT, LineKind.CORRECTION)
SUMMARY_LABELS = {
    LineKind.INCOME: "Income (payments received)", LineKind.REFUND: "Refunds", LineKind.EXPENSE: "Expenses (invoices)",
    LineKind.FEE: "Management fees", LineKind.CONTRIBUTION: "Contributions (you sent)",
    LineKind.PAYOUT: "Payouts (paid to you)", LineKind.CORRECTION: "Corrections",
}


def amount_text(amount: Decimal, currency: str) -> str:
    """An amount as the PDF prints it: '1,250.50', or with a true minus sign (U+2212) before it."""
    text = f"{abs(amount):,.{precision(currency)}f}"
    return f"{MINUS}{text}" if amount < 0 else text


def _rgb(hex_colour: str | None, default: tuple[int, int, int]) -> tuple[int, int, int]:
    try:
        value = (hex_colour or "").lstrip("#")
        return (int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16)) if len(value) == 6 else default
    except ValueError:
        return default


def _tint(rgb: tuple[int, int, int], amount: float) -> tuple[int, int, int]:
    """The colour mixed with white (amount 0.9: nearly white)."""
    return tuple(round(c + (255 - c) * amount) for c in rgb)  # type: ignore[return-value]


def _ink(background: tuple[int, int, int]) -> tuple[int, int, int]:
    """White or near-black text, whichever reads on `background` (relative luminance, WCAG)."""
    def channel(c: int) -> float:
        c = c / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(c) for c in background)
    luminance = 0.2126 * r + 0.7152 * g + 0.0722 * b
    return (255, 255, 255) if (1.05 / (luminance + 0.05)) >= ((luminance + 0.05) / 0.05) else (25, 25, 25)


def local_logo(logo_url: str | None) -> Path | None:
    """The logo as a file of our own static folder (PNG or JPEG), or None: a remote address is never fetched."""
    if not logo_url or "://" in logo_url or not logo_url.startswith("/static/"):
        return None
    candidate = (STATIC / logo_url.removeprefix("/static/")).resolve()
    if STATIC not in candidate.parents or not candidate.is_file():
        return None
    return candidate if candidate.suffix.lower() in (".png", ".jpg", ".jpeg") else None


class _Document(FPDF):
    def __init__(self, footer_text: str, colour: tuple[int, int, int], unicode: bool) -> None:
        super().__init__(orientation="portrait", unit="mm", format="A4")
        self.footer_text = footer_text
        self.colour = colour
        self.family = "DejaVu" if unicode else "helvetica"
        self.unicode = unicode
        if unicode:
            self.add_font("DejaVu", "", str(_font("DejaVuSans")))
            self.add_font("DejaVu", "B", str(_font("DejaVuSans-Bold")))
        self.set_margins(16, 16, 16)
        self.set_auto_page_break(True, margin=22)
        self.set_title(footer_text)
        self.set_creator("Portico")

    def text_of(self, text: str) -> str:
        if self.unicode:
            return text
        return text.replace(MINUS, "-").encode("latin-1", "replace").decode("latin-1")

    def font(self, size: float, bold: bool = False) -> None:
        self.set_font(self.family, "B" if bold else "", size)

    def footer(self) -> None:
        self.set_y(-14)
        self.set_draw_color(*_tint(self.colour, 0.6))
        self.line(16, self.get_y() - 2, self.w - 16, self.get_y() - 2)
        self.font(7.5)
        self.set_text_color(110, 110, 110)
        self.cell(0, 5, self.text_of(self.footer_text), align="L")
        self.set_x(16)
        self.cell(0, 5, f"Page {self.page_no()} of {{nb}}", align="R")


# The scripts a statement prints (Latin, Greek, Cyrillic, Armenian, Hebrew, Georgian; punctuation, currency and
# letter-like signs, the minus): DejaVu cut down to them once per process reads three times faster per document.
_RANGES = ((0x20, 0x7E), (0xA0, 0x24F), (0x250, 0x2FF), (0x370, 0x52F), (0x530, 0x58F), (0x590, 0x5FF),
           (0x10A0, 0x10FF), (0x1E00, 0x1FFF), (0x2000, 0x206F), (0x20A0, 0x20CF), (0x2100, 0x214F),
           (0x2190, 0x21FF), (0x2200, 0x22FF), (0x25A0, 0x25FF))
_cut: dict[str, Path] = {}
_cut_lock = threading.Lock()


def _font(name: str) -> Path:
    """DejaVu `name` cut down to _RANGES, in a cache folder of this machine (made once, then reused)."""
    source = FONT_DIR / f"{name}.ttf"
    with _cut_lock:
        if name in _cut:
            return _cut[name]
        stat = source.stat()
        folder = Path(tempfile.gettempdir()) / "portico-fonts"
        target = folder / f"{name}-{stat.st_size}-{int(stat.st_mtime)}.ttf"
        if not target.is_file():
            folder.mkdir(exist_ok=True)
            options = subset.Options()
            options.layout_features, options.name_IDs, options.notdef_outline = ["*"], ["*"], True
            options.drop_tables = [*options.drop_tables, "FFTM"]
            font = subset.load_font(str(source), options)
            try:
                cutter = subset.Subsetter(options)
                cutter.populate(unicodes=[c for low, high in _RANGES for c in range(low, high + 1)])
                cutter.subset(font)
                partial = target.with_suffix(f".{os.getpid()}.part")
                subset.save_font(font, str(partial), options)
            finally:
                font.close()
            os.replace(partial, target)  # whole or not at all, if two processes make it at once
        _cut[name] = target
        return target


def render(statement: Statement) -> bytes:
    """The statement as PDF bytes."""
    agency = agencies.get(statement.agency_id)
    locale = agency.babel_locale
    currency = statement.currency
    primary = _rgb(agency.primary_color, (31, 78, 121))
    accent = _rgb(agency.accent_color, (224, 122, 31))
    month_name = format_date(statement.month, "MMMM y", locale=locale)
    unicode = (FONT_DIR / "DejaVuSans.ttf").is_file() and (FONT_DIR / "DejaVuSans-Bold.ttf").is_file()
    pdf = _Document(f"{agency.name} · Owner statement · {statement.owner.name} · {month_name} · {currency}", primary,
                    unicode)
    pdf.set_creation_date(statement.generated_at)
    t = pdf.text_of
    pdf.add_page()
    width = pdf.w - pdf.l_margin - pdf.r_margin

    # Header: logo or name, and what this is.
    pdf.set_fill_color(*primary)
    pdf.rect(0, 0, pdf.w, 4, style="F")
    pdf.set_fill_color(*accent)
    pdf.rect(0, 4, pdf.w, 1.2, style="F")
    pdf.set_y(12)
    logo = local_logo(agency.logo_url)
    if logo is not None:
        pdf.image(str(logo), x=16, y=11, h=14)
        pdf.set_y(27)
        pdf.font(10, bold=True)
        pdf.set_text_color(*primary)
        pdf.cell(width / 2, 6, t(agency.name))
    else:
        pdf.font(20, bold=True)
        pdf.set_text_color(*primary)
        pdf.cell(width * 0.6, 12, t(agency.name))
    pdf.set_xy(16 + width * 0.55, 12)
    pdf.font(9)
    pdf.set_text_color(110, 110, 110)
    pdf.cell(width * 0.45, 5, "OWNER STATEMENT", align="R", new_x=XPos.LEFT, new_y=YPos.NEXT)
    pdf.font(15, bold=True)
    pdf.set_text_color(30, 30, 30)
    pdf.cell(width * 0.45, 8, t(month_name), align="R", new_x=XPos.LEFT, new_y=YPos.NEXT)
    pdf.font(9)
    pdf.set_text_color(90, 90, 90)
    sent = dates.format_day(statement.sent_at, locale, "date", agency.zone)
    status = f"Sent {sent}" if statement.is_sent else "Draft"
    pdf.cell(width * 0.45, 5, t(f"{currency} · {status}"), align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    # Who it is for.
    pdf.set_y(max(pdf.get_y(), 34) + 4)
    pdf.font(8)
    pdf.set_text_color(120, 120, 120)
    pdf.cell(0, 4, "PREPARED FOR", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.font(12, bold=True)
    pdf.set_text_color(30, 30, 30)
    pdf.cell(0, 7, t(statement.owner.name), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.font(8.5)
    pdf.set_text_color(110, 110, 110)
    generated = dates.format_moment(statement.generated_at, locale, agency.zone)
    # The opening is dated the month's first day, the closing its last (as the CSV's rows are).
    first, last = (dates.format_day(day, locale, "date") for day in (statement.month, last_day_of(statement.month)))
    pdf.cell(0, 5, t(f"Period {first} \u2013 {last} · generated {generated}"),
             new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(4)

    # Summary card.
    top = pdf.get_y()
    rows = [(SUMMARY_LABELS[k], statement.total(k)) for k in SUMMARY if statement.total(k)]
    height = 9 + 6 * (len(rows) + 1) + 10
    pdf.set_fill_color(*_tint(primary, 0.92))
    pdf.rect(16, top, width, height, style="F", round_corners=True, corner_radius=2)
    pdf.set_xy(21, top + 3)
    pdf.font(9, bold=True)
    pdf.set_text_color(*primary)
    pdf.cell(width - 10, 6, "Summary", new_x=XPos.LEFT, new_y=YPos.NEXT)
    label_w, amount_w = width - 10 - 45, 45
    pdf.set_text_color(40, 40, 40)
    pdf.font(9.5)
    pdf.cell(label_w, 6, t(f"Opening balance, {first}"))
    pdf.cell(amount_w, 6, t(amount_text(statement.opening, currency)), align="R", new_x=XPos.LEFT, new_y=YPos.NEXT)
    pdf.set_x(21)
    for label, amount in rows:
        pdf.cell(label_w, 6, t(label))
        pdf.cell(amount_w, 6, t(amount_text(amount, currency)), align="R", new_x=XPos.LEFT, new_y=YPos.NEXT)
        pdf.set_x(21)
    if not rows:
        pdf.set_text_color(110, 110, 110)
        pdf.cell(label_w, 6, "No activity this month")
        pdf.cell(amount_w, 6, "", new_x=XPos.LEFT, new_y=YPos.NEXT)
        pdf.set_x(21)
        pdf.set_text_color(40, 40, 40)
    pdf.set_draw_color(*_tint(primary, 0.5))
    pdf.line(21, pdf.get_y() + 1, 16 + width - 5, pdf.get_y() + 1)
    pdf.ln(2.5)
    pdf.set_x(21)
    pdf.font(11, bold=True)
    pdf.set_text_color(*primary)
    pdf.cell(label_w, 7, t(f"Closing balance, {last}"))
    pdf.cell(amount_w, 7, t(f"{amount_text(statement.closing, currency)} {currency}"), align="R")
    pdf.set_y(top + height + 6)

    # One table per unit, then the account's own lines.
    columns = (("Date", 24, "L"), ("Description", width - 24 - 26 - 30, "L"), ("Kind", 26, "L"),
               (f"Amount ({currency})", 30, "R"))

    def table_head() -> None:
        pdf.font(8, bold=True)
        pdf.set_text_color(*_ink(primary))
        pdf.set_fill_color(*primary)
        for title, w, align in columns:
            pdf.cell(w, 6.5, t(title), align=align, fill=True)
        pdf.ln(6.5)

    def fit(text: str, w: float) -> str:
        text = t(text)
        if pdf.get_string_width(text) <= w - 2:
            return text
        while text and pdf.get_string_width(text + "…" if pdf.unicode else text + "...") > w - 2:
            text = text[:-1]
        return text + ("…" if pdf.unicode else "...")

    if statement.empty:
        pdf.font(10)
        pdf.set_text_color(110, 110, 110)
        pdf.set_draw_color(*_tint(primary, 0.7))
        pdf.cell(0, 16, "No activity this month: the closing balance is the opening balance.", border=1,
                 align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    groups: dict[int | None, list] = {}
    for line in statement.lines:
        groups.setdefault(line.unit_id, []).append(line)
    for unit_id, name, subtotal in statement.subtotals():
        lines = groups[unit_id]
        if pdf.will_page_break(8 + 6.5 + 6 * min(len(lines), 2) + 7):
            pdf.add_page()
        pdf.font(10.5, bold=True)
        pdf.set_text_color(*primary)
        pdf.cell(0, 8, t(name if unit_id is not None else "Your account (payouts, contributions, corrections)"),
                 new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        table_head()
        for i, line in enumerate(lines):
            if pdf.will_page_break(6):
                pdf.add_page()
                pdf.font(8)
                pdf.set_text_color(120, 120, 120)
                pdf.cell(0, 6, t(f"{name} (continued)"), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
                table_head()
            pdf.font(8.5)
            pdf.set_text_color(40, 40, 40)
            pdf.set_fill_color(*(_tint(primary, 0.95) if i % 2 else (255, 255, 255)))
            description = line.description
            if line.whole and abs(line.whole) != abs(line.amount) and line.kind != LineKind.FEE:
                description += f" (your part of {amount_text(abs(line.whole), currency)})"
            values = (dates.format_day(line.line_date, locale, "date"), description, KIND_LABELS[line.kind],
                      amount_text(line.amount, currency))
            for (_, w, align), value in zip(columns, values, strict=True):
                pdf.cell(w, 6, fit(value, w), align=align, fill=True)
            pdf.ln(6)
        pdf.set_draw_color(*_tint(primary, 0.4))
        pdf.line(16, pdf.get_y(), 16 + width, pdf.get_y())
        pdf.font(9, bold=True)
        pdf.set_text_color(30, 30, 30)
        pdf.cell(width - columns[-1][1], 7, t(f"Subtotal · {name if unit_id is not None else 'your account'}"),
                 align="R")
        pdf.cell(columns[-1][1], 7, t(amount_text(subtotal, currency)), align="R", new_x=XPos.LMARGIN,
                 new_y=YPos.NEXT)
        pdf.ln(3)

    # The balance carried forward, and what it means (kept together on one page).
    if pdf.will_page_break(45):
        pdf.add_page()
    pdf.ln(2)
    pdf.set_fill_color(*primary)
    pdf.set_text_color(*_ink(primary))
    pdf.font(9.5)
    pdf.cell(width - 50, 7, t(f"  Opening balance, {first}"), fill=True)
    pdf.cell(50, 7, t(f"{amount_text(statement.opening, currency)}  "), align="R", fill=True, new_x=XPos.LMARGIN,
             new_y=YPos.NEXT)
    pdf.cell(width - 50, 7, "  Movements this month", fill=True)
    pdf.cell(50, 7, t(f"{amount_text(statement.closing - statement.opening, currency)}  "), align="R", fill=True,
             new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_fill_color(*accent)
    pdf.set_text_color(*_ink(accent))
    pdf.font(11, bold=True)
    pdf.cell(width - 50, 9, t(f"  Closing balance, {last}"), fill=True)
    pdf.cell(50, 9, t(f"{amount_text(statement.closing, currency)} {currency}  "), align="R", fill=True,
             new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(4)
    pdf.font(7.5)
    pdf.set_text_color(120, 120, 120)
    pdf.multi_cell(0, 4, t("A positive balance is money we hold for you; a negative one is owed to us. Each line "
                           "names its source (payment, refund, invoice or entry) in the CSV version of this "
                           "statement. Income on a shared unit is split between its owners by their shares."))
    return bytes(pdf.output())

