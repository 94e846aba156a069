"""Template helpers: filters, the current agency's branding, and safe link rendering."""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal

from flask import Flask, g
from flask_login import current_user
from markupsafe import Markup, escape
from sqlalchemy.exc import SQLAlchemyError

from portal.money import format_money

_URL = re.compile(r"https?://[^\s<>\"']+")
_HEX = re.compile(r"^#[0-9a-fA-F]{6}$")


def money(amount: Decimal | None, currency: str | None = None) -> str:
    """Format an amount in the signed-in agency's currency unless one is given."""
    if currency is None:
        agency = _agency()
        currency = agency.currency if agency else "EUR"
    return format_money(amount, currency)


def localtime(value: datetime | None, fmt: str = "%d %b %Y %H:%M") -> str:
    """A UTC datetime shown in the agency's time zone."""
    if value is None:
        return ""
    agency = _agency()
    zone = agency.zone if agency else None
    return value.astimezone(zone).strftime(fmt) if zone else value.strftime(fmt)


def nicedate(value: date | None) -> str:
    """2026-12-01 -> 'Tue 1 Dec 2026'."""
    return f"{value:%a} {value.day} {value:%b %Y}" if value else ""


def linkify(text: str) -> Markup:
    """Escape text and make its http(s) URLs clickable."""
    out, last = [], 0
    for m in _URL.finditer(text or ""):
        out.append(escape(text[last : m.start()]))
        url = m.group(0)
        out.append(Markup('<a href="{0}" rel="noopener noreferrer">{0}</a>').format(url))
        last = m.end()
    out.append(escape((text or "")[last:]))
    return Markup("").join(out)


def color(value: str | None, fallback: str) -> str:
    """A #rrggbb colour safe to put in CSS, or the fallback."""
    return value if value and _HEX.match(value) else fallback


def _agency():
    if "agency" in g:
        return g.agency
    try:
        return current_user.agency if current_user.is_authenticated else None
    except (AttributeError, RuntimeError, SQLAlchemyError):
        return None


def init_app(app: Flask) -> None:
    """Register filters and the branding context."""
    app.jinja_env.filters.update(
        money=money, localtime=localtime, nicedate=nicedate, linkify=linkify,
        css_color=lambda value: color(value, "#1f4e79"),
    )

    @app.context_processor
    def _branding():
        agency = _agency()
        return {
            "agency": agency,
            "brand": {
                "name": agency.name if agency else "Portico",
                "primary": color(agency.primary_color if agency else None, "#1f4e79"),
                "accent": color(agency.accent_color if agency else None, "#e07a1f"),
                "logo": agency.logo_url if agency else None,
            },
        }
