"""Compose mail, log it (D8), and send it over SMTP only after the causing transaction commits."""

from __future__ import annotations

import contextlib
import logging
import re
import smtplib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from email.errors import HeaderParseError
from email.header import decode_header, make_header
from email.message import EmailMessage
from email.utils import formatdate, getaddresses, make_msgid, parseaddr
from functools import lru_cache
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from flask import Flask, current_app, render_template
from markupsafe import Markup, escape
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from portal import agencies, db, links, queue
from portal.assets import linkify
from portal.messages.models import Message, MessageStatus
from portal.people.models import Person
from portal.types import utcnow

log = logging.getLogger(__name__)
OUTBOX = "mail_outbox"


def send(
    *,
    to: str | Sequence[str],
    subject: str,
    text: str,
    html: str | None = None,
    person: Person | None = None,
    about: Any = None,
    cc: Iterable[str] = (),
    bcc: Iterable[str] = (),
    sender: str | None = None,
    agency_id: int | None = None,
) -> Message:
    """Record a message in the communication log; it leaves over SMTP after the commit (flushes)."""
    recipients = [to] if isinstance(to, str) else list(to)
    if any(c in field for field in [subject, *recipients, *cc, *bcc] for c in "\r\n"):
        raise ValueError("line breaks are not allowed in a subject or an address")
    addresses = [a for _, a in getaddresses(recipients)]
    if not addresses or not all("@" in a for a in addresses):
        raise ValueError(f"a message needs valid recipient addresses, not {recipients!r}")
    scoped = db.session.info.get("agency_id")
    agency_id = agency_id or (person.agency_id if person else None) or scoped
    if agency_id is None:
        raise ValueError("a message belongs to an agency: scope the session or pass agency_id")
    if scoped and scoped != agency_id:
        raise ValueError("refusing to send mail for another agency than the session's")
    message = Message(
        agency_id=agency_id,
        message_id=make_msgid(domain=domain()),
        person=person,
        about_type=type(about).__name__.lower() if about is not None else None,
        about_id=getattr(about, "id", None),
        sender=sender or default_sender(agency_id),
        to=", ".join(recipients),
        cc=", ".join(cc) or None,
        bcc=", ".join(bcc) or None,
        subject=subject,
        text_body=text,
        html_body=html,
    )
    db.session.add(message)
    db.session.flush()
    db.session.info.setdefault(OUTBOX, []).append(message.id)
    return message


def default_sender(agency_id: int) -> str:
    """The agency's name on the configured MAIL_FROM address."""

    agency = agencies.get(agency_id)
    addr = parseaddr(current_app.config["MAIL_FROM"])[1]
    return address(agency.name, addr) if agency else current_app.config["MAIL_FROM"]


def address(name: str | None, email: str) -> str:
    """'Marco Müller <marco@example.com>' as people read it; RFC 2047 encoding happens only on the wire."""
    name = " ".join((name or "").split())  # a header holds one line
    if not name:
        return email
    if _SPECIALS.search(name):  # quoted as RFC 5322 asks (what email.utils.formataddr does, minus encoding)
        name = '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return f"{name} <{email}>"


_SPECIALS = re.compile(r'[][\\()<>@,:;".]')


def readable(header: str | None) -> str:
    """A header as people read it: RFC 2047 encoded words (in older rows) decoded."""
    if not header:
        return ""
    try:
        return str(make_header(decode_header(header)))
    except (HeaderParseError, LookupError, UnicodeDecodeError):
        return header


_BODY = re.compile(r"<body[^>]*>(.*)</body>", re.IGNORECASE | re.DOTALL)


def present(message: Message, for_staff: bool = False) -> tuple[str, str, str]:
    """Subject, text and HTML as the recipient gets them: the agency's one mail layout around the
    message, with real links and codes (for SMTP) or with them described, unusable (for staff)."""
    fill: Callable[[str, bool], str] = links.redact if for_staff else (lambda value, html=False: links.expand(value))
    agency = agencies.get(message.agency_id)
    text = fill(message.text_body, False)
    if message.html_body:
        inner = message.html_body
        whole = _BODY.search(inner)  # a complete document: its body goes inside the layout
        html_inner = Markup(fill(whole.group(1) if whole else inner, True))
    else:
        html_inner = Markup('<p style="white-space: pre-wrap">{}</p>').format(linkify(text))
    brand = _Brand(agency.name, agency.primary_color, agency.accent_color,
                   agency.settings.get("contact_email")) if agency else None
    text_shell, html_shell = _layout(brand)
    return (fill(message.subject, False), text_shell.replace(_MARK_BODY, text.rstrip()),
            html_shell.replace(_MARK_SUBJECT, str(escape(message.subject))).replace(_MARK_BODY, html_inner))


_MARK_BODY, _MARK_SUBJECT = "\x00portico-mail-body\x00", "\x00portico-mail-subject\x00"


@dataclass(frozen=True)
class _Brand:
    """What the mail layout shows of an agency (hashable: the rendered layout is cached by it)."""

    name: str
    primary_color: str | None
    accent_color: str | None
    contact_email: str | None

    @property
    def settings(self) -> dict[str, str | None]:
        return {"contact_email": self.contact_email}


@lru_cache(maxsize=256)
def _layout(brand: _Brand | None) -> tuple[str, str]:
    # Rendered once per branding, with markers where the body goes: a batch of mail renders no template.
    context = {"agency": brand, "subject": _MARK_SUBJECT}
    return (render_template("mail/layout.txt", body=_MARK_BODY, **context),
            render_template("mail/base.html", body=Markup(_MARK_BODY), **context))


def compose(message: Message) -> EmailMessage:
    """The multipart (text + HTML) e-mail for a logged message, its links made real here only."""
    subject, text, html = present(message)
    email = EmailMessage()
    email["From"] = message.sender
    email["To"] = message.to
    if message.cc:
        email["Cc"] = message.cc
    email["Subject"] = subject
    email["Message-ID"] = message.message_id
    email["Date"] = formatdate(message.created_at.timestamp(), localtime=False)
    email.set_content(text)
    email.add_alternative(html, subtype="html")
    return email


def envelope_recipients(message: Message) -> list[str]:
    """Every address the message goes to, Bcc included (Bcc never appears in a header)."""
    fields = [message.to, message.cc or "", message.bcc or ""]
    return [addr for _, addr in getaddresses(fields) if addr]


def deliver(message_ids: list[int]) -> dict[str, int]:
    """RQ job: claim queued messages, send them over one SMTP connection, record the outcome."""
    s = db.session
    claimed = []
    for mid in message_ids:
        # A conditional update claims each message once, however often the job is run.
        result = s.execute(
            update(Message)
            .where(Message.id == mid, Message.status == MessageStatus.QUEUED)
            .values(status=MessageStatus.SENDING, attempts=Message.attempts + 1)
            .execution_options(all_agencies=True, synchronize_session=False)
        )
        if result.rowcount == 1:
            claimed.append(mid)
    s.commit()
    if not claimed:
        return {"sent": 0, "failed": 0}
    messages = s.scalars(
        select(Message)
        .where(Message.id.in_(claimed))
        .execution_options(all_agencies=True, populate_existing=True)
    ).all()
    outcome = {"sent": 0, "failed": 0}
    with Connection() as smtp:
        for message in messages:
            smtp.send(message)
            outcome["sent" if message.status == MessageStatus.SENT else "failed"] += 1
    s.commit()
    return outcome


class Connection:
    """One SMTP connection for a batch, opened at its first message. Each message is recorded
    as sent or failed with the server's words; once the server is gone, the rest fail with why."""

    def __init__(self) -> None:
        self.smtp: smtplib.SMTP | None = None
        self.down: str | None = None

    def send(self, message: Message) -> None:
        """Hand one logged message to the server and record the outcome on it."""
        if self.smtp is None and self.down is None:
            try:
                self.smtp = smtp_connection()
            except (OSError, smtplib.SMTPException) as exc:
                self.down = f"SMTP server unavailable: {exc}"
        if self.down is not None:
            record(message, MessageStatus.FAILED, self.down)
            return
        try:
            self.smtp.send_message(compose(message), to_addrs=envelope_recipients(message))
        except (smtplib.SMTPServerDisconnected, OSError) as exc:  # the connection is gone
            self.down = f"SMTP server unavailable: {exc}"
            record(message, MessageStatus.FAILED, self.down)
        except Exception as exc:  # this message is bad (refused, malformed): record why
            record(message, MessageStatus.FAILED, f"{type(exc).__name__}: {exc}")
        else:
            record(message, MessageStatus.SENT)

    def __enter__(self) -> Connection:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.smtp is not None:
            with contextlib.suppress(OSError, smtplib.SMTPException):
                self.smtp.quit()


def record(message: Message, status: MessageStatus, error: str | None = None) -> None:
    """Note what the SMTP server said about a message."""
    message.status = status
    message.error = error[:1000] if error else None
    if status == MessageStatus.SENT:
        message.sent_at = utcnow()


def requeue_pending() -> int:
    """Enqueue delivery of every message still queued (after a Redis restart, say)."""
    ids = list(
        db.session.scalars(
            select(Message.id)
            .where(Message.status == MessageStatus.QUEUED)
            .execution_options(all_agencies=True)
        )
    )
    for start in range(0, len(ids), 100):
        _enqueue(ids[start : start + 100])
    return len(ids)


def smtp_connection() -> smtplib.SMTP:
    """An SMTP connection to `SMTP_URL` (smtp://, smtps://, ?starttls=1, user:password@)."""
    url = urlsplit(current_app.config["SMTP_URL"])
    host, port = url.hostname or "127.0.0.1", url.port
    if url.scheme == "smtps":
        smtp: smtplib.SMTP = smtplib.SMTP_SSL(host, port or 465, timeout=30)
    else:
        smtp = smtplib.SMTP(host, port or 25, timeout=30)
        if parse_qs(url.query).get("starttls", ["0"])[0] in {"1", "true", "yes"}:
            smtp.starttls()
    if url.username:
        smtp.login(unquote(url.username), unquote(url.password or ""))
    return smtp


def domain() -> str:
    """The host name our Message-IDs end in."""
    return urlsplit(current_app.config["BASE_URL"]).hostname or "localhost"


def _enqueue(ids: list[int]) -> None:
    # Message ids are never reused, so the job id is unique: no need to look for an existing job.
    queue.get_queue("mail").enqueue(deliver, ids, job_id=f"mail-{ids[0]}-{len(ids)}")


def _after_commit(session: Session) -> None:
    ids = session.info.pop(OUTBOX, None)
    if not ids:
        return
    try:
        _enqueue(ids)
    except Exception:  # Redis down: the rows stay queued and `requeue_pending` sends them later
        log.exception("could not enqueue mail delivery for messages %s", ids)


def _after_rollback(session: Session) -> None:
    session.info.pop(OUTBOX, None)


def init_app(app: Flask) -> None:
    """Hook mail release to the session's commit and drop it on rollback."""
    from sqlalchemy import event

    app.add_template_filter(readable, "readable_header")
    app.add_template_filter(lambda text: links.redact(text or ""), "redact_links")  # a logged body, shown
    factory = app.extensions["db.sessionmaker"]
    event.listen(factory, "after_commit", _after_commit)
    event.listen(factory, "after_rollback", _after_rollback)
