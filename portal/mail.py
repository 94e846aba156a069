"""Compose mail, log it (D8), and send it over SMTP only after the causing transaction commits."""

from __future__ import annotations

import contextlib
import logging
import re
import smtplib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.errors import HeaderParseError
from email.header import decode_header, make_header
from email.message import EmailMessage
from email.utils import formatdate, getaddresses, make_msgid, parseaddr
from functools import lru_cache
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from flask import Flask, current_app, render_template
from markupsafe import Markup, escape
from rq.timeouts import BaseTimeoutException
from sqlalchemy import and_, or_, select, update

from portal import agencies, clock, db, delivery, links, queue
from portal.filters import linkify
from portal.messages.models import Message, MessageStatus
from portal.people.models import Person
from portal.types import utcnow

log = logging.getLogger(__name__)


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
    db.collect_after_commit(db.session, _release_outbox, message.id)  # one delivery job per commit
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
    """RQ job: claim the due queued messages for a lease, send them over one SMTP connection, and
    commit each outcome as soon as the server has answered: a killed job leaves one in doubt."""
    s = db.session
    now = clock.now()
    lease = now + timedelta(seconds=current_app.config["MAIL_LEASE_SECONDS"])
    m = Message.__table__
    # A conditional update claims each message once, however often (or early) its job is run.
    claimed = s.scalars(
        update(m).where(m.c.id.in_(message_ids), m.c.status == MessageStatus.QUEUED.value,
                        or_(m.c.next_attempt_at.is_(None), m.c.next_attempt_at <= now))
        .values(status=MessageStatus.SENDING.value, attempts=m.c.attempts + 1, lease_until=lease)
        .returning(m.c.id).execution_options(all_agencies=True)  # a wake-up's batch may span agencies
    ).all()
    s.commit()  # mid-way: the lease is on record before SMTP is tried, so no second delivery overlaps
    outcome = {"sent": 0, "retrying": 0, "failed": 0}
    if not claimed:
        return outcome
    messages = s.scalars(
        select(Message)
        .where(Message.id.in_(claimed))
        .order_by(Message.id)
        .execution_options(all_agencies=True, populate_existing=True)
    ).all()
    s.expire_on_commit = False  # the batch's rows are this job's until their lease ends
    try:
        with Connection() as smtp:
            for message in messages:
                settle(message, smtp.send(message))
                s.commit()  # mid-way: each server answer is on record at once: a killed job leaves one in doubt
                outcome["sent" if message.status == MessageStatus.SENT
                        else "retrying" if message.status == MessageStatus.QUEUED else "failed"] += 1
    finally:
        s.expire_on_commit = True
    return outcome


class Connection:
    """One SMTP connection for a batch, opened at its first message. `send` returns None once the
    server has taken a message, else why not (portal.delivery); once the server is gone, the rest
    of the batch is not tried and gets the same transient failure."""

    def __init__(self) -> None:
        self.smtp: smtplib.SMTP | None = None
        self.down: delivery.Failure | None = None

    def send(self, message: Message) -> delivery.Failure | None:
        """Hand one logged message to the server; None if it took it, else the failure."""
        if self.smtp is None and self.down is None:
            try:
                self.smtp = smtp_connection()
            except BaseTimeoutException:  # the job's time is up: no verdict on the server (see below)
                raise
            except Exception as exc:
                # Not being let in (refused, a 5xx greeting, bad credentials) is about the server and
                # its settings, not the message: retried until someone fixes it or the limit passes.
                reason = delivery.classify(exc).reason.removeprefix("SMTP server unavailable: ")
                self.down = delivery.Failure(f"SMTP server unavailable: {reason}", True)
        if self.down is not None:
            return self.down
        try:
            self.smtp.send_message(compose(message), to_addrs=envelope_recipients(message))
        except BaseTimeoutException:
            # RQ ending the job mid-send says nothing about the message: the job stops here, its
            # lease lapses and the message is sent again (same Message-ID), never failed for good.
            raise
        except Exception as exc:
            failure = delivery.classify(exc)
            if _connection_lost(exc):
                self.down = failure
            return failure
        return None

    def __enter__(self) -> Connection:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.smtp is not None:
            with contextlib.suppress(OSError, smtplib.SMTPException):
                self.smtp.quit()


def _connection_lost(exc: BaseException) -> bool:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return False
    if isinstance(exc, smtplib.SMTPResponseException):
        return exc.smtp_code == 421  # "service not available, closing transmission channel"
    return isinstance(exc, OSError)  # smtplib's disconnects, resets, timeouts


def settle(message: Message, failure: delivery.Failure | None) -> None:
    """Record the server's answer on a portal message: sent; queued again for a transient failure
    while MAIL_RETRY_HOURS last; else failed with the server's words."""
    if failure is None:
        record(message, MessageStatus.SENT)
        return
    when = delivery.next_attempt(message.attempts, message.created_at, clock.now()) if failure.transient else None
    if when is not None:
        message.status, message.next_attempt_at, message.lease_until = MessageStatus.QUEUED, when, None
        message.error = failure.reason[:1000]
    elif failure.transient:
        record(message, MessageStatus.FAILED, delivery.gave_up(message.attempts, failure.reason))
    else:
        record(message, MessageStatus.FAILED, failure.reason)


def record(message: Message, status: MessageStatus, error: str | None = None) -> None:
    """Note a final outcome on a message (sent, or failed with why)."""
    message.status = status
    message.error = error[:1000] if error else None
    message.lease_until = message.next_attempt_at = None
    if status == MessageStatus.SENT:
        message.sent_at = utcnow()


@dataclass(frozen=True)
class Outbox:
    """Another table of mail owed (portal sign-in requests) that the sweeper looks after with the messages:
    registered by its owner's init_app, so mail need not know it."""

    name: str  # its count's key in what `sweep` returns
    drop_stale: Callable[[datetime], None]  # forget what is too old to help (flushes)
    wake: Callable[[datetime, timedelta, int], int]  # wake up to `limit` rows whose wake-up was lost


def register_outbox(app: Flask, outbox: Outbox) -> None:
    """Have the sweeper wake `outbox` too (once, while the app is built)."""
    app.extensions.setdefault("mail.outboxes", []).append(outbox)


SWEEP_GRACE = timedelta(seconds=10)  # a wake-up normally reaches a worker long before this
SWEEP_LIMIT = 2000  # messages re-enqueued per sweep, less what the mail queue already holds
BATCH = 100  # messages per delivery job


def sweep(grace: timedelta = SWEEP_GRACE) -> dict[str, int]:
    """RQ job on the cron scheduler (and `portico mail requeue`): queue again the messages whose
    delivery job's lease lapsed, and wake up the queued messages and sign-in requests whose wake-up
    was lost (Redis down, flushed) or whose retry is due. Duplicate wake-ups are harmless."""
    outboxes: list[Outbox] = current_app.extensions.get("mail.outboxes", [])
    s = db.session
    now = clock.now()
    m = Message.__table__
    lapsed = and_(m.c.status == MessageStatus.SENDING.value, m.c.lease_until < now)
    too_old = m.c.created_at < now - timedelta(hours=delivery.retry_hours())
    gave_up = s.execute(update(m).where(lapsed, too_old).values(
        status=MessageStatus.FAILED.value, lease_until=None, next_attempt_at=None,
        error=f"gave up after {delivery.retry_hours()} h: the delivery kept stopping before the server answered",
    ).execution_options(all_agencies=True)).rowcount  # the sweeper looks after every agency's mail
    reclaimed = s.execute(update(m).where(lapsed).values(
        status=MessageStatus.QUEUED.value, lease_until=None, next_attempt_at=now,
        error="the delivery stopped before the server's answer was recorded: sending again",
    ).execution_options(all_agencies=True)).rowcount
    # A message held by its automation task (sending, no lease of its own) is the task's to settle
    # (automation.sending.release_abandoned).
    for outbox in outboxes:
        outbox.drop_stale(now)
    s.commit()  # mid-way: the writes are done: no database lock is held while Redis is called below
    room = SWEEP_LIMIT - queue.get_queue("mail").count * BATCH  # backpressure: no pile of duplicate jobs
    due = or_(m.c.next_attempt_at <= now, and_(m.c.next_attempt_at.is_(None), m.c.created_at <= now - grace))
    ids = list(s.scalars(select(m.c.id).where(m.c.status == MessageStatus.QUEUED.value, due)
                         .order_by(m.c.id).limit(room).execution_options(all_agencies=True))) if room > 0 else []
    for start in range(0, len(ids), BATCH):
        _enqueue(ids[start:start + BATCH], dedupe=True)
    done = {"reclaimed": reclaimed, "requeued": len(ids), "gave_up": gave_up}
    room -= len(ids)
    for outbox in outboxes:
        done[outbox.name] = outbox.wake(now, grace, room) if room > 0 else 0
        room -= done[outbox.name]
    return done


def requeue_pending() -> int:
    """Sweep at once (no grace): what is queued is enqueued again, lapsed leases reclaimed first."""
    done = sweep(grace=timedelta(0))
    return sum(count for key, count in done.items() if key not in {"reclaimed", "gave_up"})  # the wake-ups


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


def _enqueue(ids: list[int], dedupe: bool = False) -> None:
    # A job never outlives its messages' lease, so no two deliveries of one message overlap.
    timeout = max(2, current_app.config["MAIL_LEASE_SECONDS"] - 1)
    job_id = f"mail-{ids[0]}-{len(ids)}"
    if dedupe:  # a sweep: the same wake-up still waiting in the queue is enough
        queue.enqueue(deliver, ids, queue="mail", job_id=job_id, job_timeout=timeout)
    else:  # right after a commit: new message ids, so a new job id
        queue.get_queue("mail").enqueue(deliver, ids, job_id=job_id, job_timeout=timeout)


def _release_outbox(ids: list[int]) -> None:
    # After the commit (portal.db.after_commit): the transaction's messages, one delivery job.
    try:
        _enqueue(ids)
    except Exception:  # Redis down: the rows stay queued and the sweeper wakes them up later
        log.exception("could not enqueue mail delivery for messages %s (the sweeper will)", ids)


def init_app(app: Flask) -> None:
    """Register mail's template filters."""
    app.add_template_filter(readable, "readable_header")
    app.add_template_filter(lambda text: links.redact(text or ""), "redact_links")  # a logged body, shown
