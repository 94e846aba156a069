"""Template helpers: dates in the agency's locale, the current agency's branding, and safe link rendering.

Feature packages add their own filters through their `init_app` (money: portal.money.filters)."""

from __future__ import annotations

import re
from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask import Flask, g, has_request_context, request
from flask_login import current_user
from jinja2 import pass_context
from jinja2.runtime import Context
from markupsafe import Markup, escape
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from portal import dates, db
from portal.agencies.models import Agency

_URL = re.compile(r"https?://[^\s<>\"']+")
_HEX = re.compile(r"^#[0-9a-fA-F]{6}$")


@pass_context
def localtime(context: Context, value: datetime | None, style: str = "datetime") -> str:
    """A UTC datetime in the agency's time zone and locale: '1 Dec 2026, 09:05'.

    `style` is one of portal.dates.STYLES; an old strftime pattern ('%d %b') is read as the style it meant."""
    if style.startswith("%") or style not in dates.STYLES:
        style = dates.style_of_strftime(style)
    locale, zone = _locale_and_zone(context)
    return dates.format_moment(value, locale, zone, style)


@pass_context
def nicedate(context: Context, value: date | None, style: str = "weekday") -> str:
    """A calendar day in the agency's locale: 2026-12-01 -> 'Tue, 1 Dec 2026'."""
    locale, zone = _locale_and_zone(context)
    return dates.format_day(value, locale, style, zone)


def _locale_and_zone(context: Context | None = None) -> tuple[str, ZoneInfo | None]:
    agency = current_agency(context)
    if agency is None:
        return dates.DEFAULT_LOCALE, None
    return agency.babel_locale, agency.zone


@pass_context
def when(context: Context, value: object) -> object:
    """Dates and datetimes as the agency writes them; anything else unchanged (for generic table cells)."""
    if isinstance(value, datetime):
        text = localtime(context, value)
    elif isinstance(value, date):
        text = nicedate(context, value, "date")
    else:
        return value
    return Markup('<span class="nowrap">{0}</span>').format(text) if context.eval_ctx.autoescape else text


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


def current_agency(context: Context | None = None) -> Agency | None:
    """The agency a template is rendered for: the one it was given, else the request's."""
    # A template given its agency (mail rendered by a worker) says whose it is; a page asks the request.
    given = context.get("agency") if context is not None else None
    if isinstance(given, Agency):
        return given
    if "agency" in g:
        return g.agency
    try:
        return current_user.agency if current_user.is_authenticated else None
    except (AttributeError, RuntimeError, SQLAlchemyError):
        return None


def _signin_agency() -> Agency | None:
    """Whose staff sign-in page this is, where that is known: the agency on whose own host name it is
    served, or the only agency of this installation. Anywhere else it wears Portico's colours."""
    if not has_request_context() or request.endpoint != "manage.login":
        return None
    try:
        host = request.host.split(":", 1)[0].lower()
        agency = db.session.scalar(select(Agency).where(Agency.host_name == host)) if host else None
        if agency is None:
            only = db.session.scalars(select(Agency).limit(2)).all()
            agency = only[0] if len(only) == 1 else None
    except SQLAlchemyError:
        return None
    return agency


def why(reason: str) -> str:
    """A refusal's reason as a sentence: 'Check-in opens on Thu 10 Dec.'"""
    reason = (reason or "").strip()
    if not reason:
        return ""
    reason = reason[0].upper() + reason[1:]
    return reason if reason.endswith((".", "!", "?")) else reason + "."


def init_app(app: Flask) -> None:
    """Register filters and the branding context."""
    app.jinja_env.filters.update(
        localtime=localtime, nicedate=nicedate, linkify=linkify, when=when, why=why,
        css_color=lambda value: color(value, "#1f4e79"),
    )

    @app.context_processor
    def _branding():
        agency = current_agency() or _signin_agency()
        return {
            "agency": agency,
            "brand": {
                "name": agency.name if agency else "Portico",
                "primary": color(agency.primary_color if agency else None, "#1f4e79"),
                "accent": color(agency.accent_color if agency else None, "#e07a1f"),
                "logo": agency.logo_url if agency else None,
            },
        }
