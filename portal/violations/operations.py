"""Writes on violation notices (flush only; the request or job commits): record one with its photos, the
occupant's answer (acknowledge, or dispute with a comment), staff's resolution or withdrawal. Each step
is one event on the notice's timeline; a change of state bumps the version, which kills older links."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from sqlalchemy import update

from portal import agencies, clock, dates, db
from portal.agencies.models import StaffUser
from portal.bookings import occupancy
from portal.bookings.models import Booking, Lease
from portal.documents.models import Document, DocumentKind
from portal.documents.operations import save_document
from portal.files import storage
from portal.files.operations import MAX_AT_ONCE, clean_name
from portal.operations import FieldError
from portal.people.models import Person
from portal.violations.models import (
    ANSWERED,
    CLOSED,
    Violation,
    ViolationCategory,
    ViolationEvent,
    ViolationPhoto,
    ViolationStatus,
)

S = ViolationStatus
MAX_TEXT = 2000
PORTAL, LINK, BACK_OFFICE = "portal", "link", "back_office"


def _clean(text: str | None, limit: int) -> str:
    """Text as typed, trimmed, NUL-free; at most `limit` characters (the caller says so if longer)."""
    return (text or "").replace("\x00", "").strip()[: limit + 1]


def record(agency_id: int, data: dict[str, Any], staff: StaffUser, photos: Iterable[Any] = ()) -> Violation:
    """Record a violation on a lease (its tenant) or a booking (its guest), with its photos, and put the
    notice in the occupant's documents. Everything is checked before anything is kept."""
    held = occupancy.find(data.get("lease_id"), data.get("booking_id"))
    agency = agencies.get(agency_id)
    try:
        category = ViolationCategory(data.get("category") or "")
    except ValueError:
        raise FieldError("category", "Choose what kind of rule was broken.") from None
    rule = " ".join(_clean(data.get("rule"), 200).split())
    description = _clean(data.get("description"), 5000)
    observed: date | None = data.get("observed_on")
    if not rule:
        raise FieldError("rule", "Say which rule was broken.")
    if len(rule) > 200:
        raise FieldError("rule", "200 characters at most.")
    if not description:
        raise FieldError("description", "Describe what was observed.")
    if len(description) > 5000:
        raise FieldError("description", "5,000 characters at most.")
    if observed is None:
        raise FieldError("observed_on", "Enter the day it was observed.")
    if observed > agency.today():
        raise FieldError("observed_on", "The day observed cannot be in the future.")
    lease = held if isinstance(held, Lease) else None
    booking = held if isinstance(held, Booking) else None
    occupant = lease.tenant if lease else booking.guest
    violation = Violation(
        agency_id=agency_id, person_id=occupant.id, lease_id=lease.id if lease else None,
        booking_id=booking.id if booking else None, unit_id=held.unit_id, category=category, rule=rule,
        description=description, observed_on=observed, status=S.OPEN, status_changed_at=clock.now(),
        recorded_by=staff.id, version=1,
    )
    db.session.add(violation)
    db.session.flush()
    add_photos(violation, photos, staff)
    violation.document_id = save_document(None, agency_id, {
        "person_id": occupant.id, "kind": DocumentKind.VIOLATION, "title": f"Violation notice: {violation.title}"[:200],
        "body": notice_text(violation), "requires_signature": False}).id
    _event(violation, "record", BACK_OFFICE, None, staff=staff)
    db.session.flush()
    return violation


def notice_text(violation: Violation) -> str:
    """The notice as the occupant's document reads: while open it asks for an answer; after that it says
    first where the notice stands (answered, resolved, withdrawn) and asks nothing more."""
    agency = agencies.get(violation.agency_id)
    day = dates.format_day(violation.observed_on, agency.babel_locale, "long")
    notice = (f"Violation notice from {agency.name}\n\n"
              f"Where: {violation.unit} ({violation.occupancy})\n"
              f"Observed on: {day}\n"
              f"Rule broken: {violation.rule} ({violation.category.value.replace('-', ' ')})\n\n"
              f"{violation.description}")
    if violation.status == S.OPEN:
        return (f"{notice}\n\nPlease acknowledge this notice, or dispute it with your comment, from the e-mail we "
                "sent you or in your portal.")
    return f"{_standing(violation, agency)}\n\n{notice}"


def _standing(violation: Violation, agency: Any) -> str:
    """One line on where the notice stands now, with the day it got there and the word that came with it."""
    changed = violation.status_changed_at or clock.now()
    day = dates.format_day(changed.astimezone(agency.zone).date(), agency.babel_locale, "long")
    label, lead, note = {S.ACKNOWLEDGED: ("Acknowledged", "Comment", violation.response_comment),
                         S.DISPUTED: ("Disputed", "Comment", violation.response_comment),
                         S.RESOLVED: ("Resolved", "Note", violation.closing_note),
                         S.WITHDRAWN: ("Withdrawn by the property manager", "Why", violation.closing_note),
                         }[violation.status]
    said = f" {lead}: {note}" if note else ""
    after = "Nothing more needs doing." if violation.status in CLOSED else "The property manager has been told."
    return f"{label} on {day}.{said}{'' if said.endswith('.') or not said else '.'} {after}"


def _sync_document(violation: Violation) -> None:
    """Keep the occupant's document in step with the notice: its title says the state (so every list of
    documents shows it) and its text asks for an answer only while the notice is open."""
    document = db.session.get(Document, violation.document_id) if violation.document_id else None
    if document is None:
        return
    title = f"Violation notice: {violation.title}"
    if violation.status != S.OPEN:
        title = f"{violation.status.value.capitalize()}: {title}"
    document.title = title[:200]
    document.body = notice_text(violation)


PHOTOS = "Send a photo (JPEG or PNG)."  # what a notice takes: photos of what was seen, no documents


def add_photos(violation: Violation, uploads: Iterable[Any], staff: StaffUser) -> list[ViolationPhoto]:
    """Keep the photos a form sent (JPEG or PNG, checked by their content, with a thumbnail); a refused one
    raises FieldError("photos"), and the caller's rollback removes the bytes already written."""
    chosen = [u for u in uploads or () if u is not None and getattr(u, "filename", None)]
    if len(chosen) > MAX_AT_ONCE:
        raise FieldError("photos", f"Send {MAX_AT_ONCE} photos at most at once.")
    if violation.status in CLOSED:
        raise FieldError("photos", f"This notice is {violation.status.value}: no more photos.")
    kept = []
    for upload in chosen:
        name = clean_name(upload.filename)
        try:
            checked = storage.check(storage.read_limited(upload.stream, storage.max_bytes()), PHOTOS, pdf=False)
        except FieldError as err:
            raise FieldError("photos", f"{name}: {err.message}" if name else err.message) from None
        row = ViolationPhoto(agency_id=violation.agency_id, violation_id=violation.id, staff_id=staff.id,
                             stored_name=storage.new_name(), original_name=name,
                             content_type=checked.content_type, size=len(checked.data), sha256=checked.sha256,
                             has_thumbnail=True)
        storage.write(db.session, storage.path_of(row.agency_id, row.stored_name), checked.data)
        storage.write(db.session, storage.path_of(row.agency_id, row.stored_name, thumbnail=True),
                      storage.thumbnail(checked.data))
        db.session.add(row)
        kept.append(row)
    db.session.flush()
    return kept


def add_more_photos(violation: Violation, uploads: Iterable[Any], staff: StaffUser) -> list[ViolationPhoto]:
    """Photos added after the notice was recorded: a step on its timeline (links stay valid)."""
    kept = add_photos(violation, uploads, staff)
    if not kept:
        raise FieldError("photos", "Choose a photo (JPEG or PNG) to add.")
    _event(violation, "photo", BACK_OFFICE, None, staff=staff, note=f"{len(kept)} photo{'s' if len(kept) != 1 else ''}")
    return kept


def respond(violation: Violation, person: Person, choice: str | None, comment: str | None, *, source: str
            ) -> Violation:
    """The occupant acknowledges the notice, or disputes it with a comment (required); once only."""
    if person.id != violation.person_id:
        raise FieldError("choice", "This notice is not addressed to you.")
    text = _clean(comment, MAX_TEXT)
    if choice not in ("acknowledge", "dispute"):
        raise FieldError("choice", "Choose whether to acknowledge or to dispute the notice.")
    if len(text) > MAX_TEXT:
        raise FieldError("comment", "2,000 characters at most.")
    if choice == "dispute" and not text:
        raise FieldError("comment", "Say why you dispute this notice.")
    new = S.ACKNOWLEDGED if choice == "acknowledge" else S.DISPUTED
    _move(violation, (S.OPEN,), new, "This notice has already been answered or closed.")
    violation.response_comment = text or None
    violation.responded_at = clock.now()
    _sync_document(violation)
    _event(violation, choice, source, S.OPEN, person=person, note=text or None)
    db.session.flush()
    return violation


def resolve(violation: Violation, staff: StaffUser, note: str | None) -> Violation:
    """Staff close the notice as dealt with (an answer is not needed first: a notice can be resolved
    without one)."""
    text = _clean(note, MAX_TEXT)
    if len(text) > MAX_TEXT:
        raise FieldError("note", "2,000 characters at most.")
    old = violation.status
    _move(violation, (S.OPEN, *ANSWERED), S.RESOLVED, f"This notice is already {violation.status.value}.")
    violation.closing_note = text or None
    _sync_document(violation)
    _event(violation, "resolve", BACK_OFFICE, old, staff=staff, note=text or None)
    db.session.flush()
    return violation


def withdraw(violation: Violation, staff: StaffUser, reason: str | None) -> Violation:
    """Staff take the notice back, saying why: its links die, and its document says it was withdrawn."""
    text = _clean(reason, MAX_TEXT)
    if not text:
        raise FieldError("reason", "Say why the notice is withdrawn.")
    if len(text) > MAX_TEXT:
        raise FieldError("reason", "2,000 characters at most.")
    old = violation.status
    _move(violation, (S.OPEN, *ANSWERED), S.WITHDRAWN, f"This notice is already {violation.status.value}.")
    violation.closing_note = text
    _sync_document(violation)
    _event(violation, "withdraw", BACK_OFFICE, old, staff=staff, note=text)
    db.session.flush()
    return violation


def _move(violation: Violation, sources: tuple[ViolationStatus, ...], new: ViolationStatus, refusal: str) -> None:
    """Change the status only if it is still one of `sources` at this version, in one UPDATE: of a link and
    a portal answering at once, one wins and the other is told."""
    if violation.status not in sources:
        raise FieldError("choice", refusal)
    now = clock.now()
    claimed = db.session.execute(
        update(Violation)
        .where(Violation.id == violation.id, Violation.status.in_(sources), Violation.version == violation.version)
        .values(status=new, version=Violation.version + 1, status_changed_at=now, updated_at=now)
        .execution_options(synchronize_session=False))
    if claimed.rowcount != 1:
        raise FieldError("choice", "This notice changed in the meantime; please reload.")
    db.session.refresh(violation)


def _event(violation: Violation, action: str, source: str, old: ViolationStatus | None, *,
           staff: StaffUser | None = None, person: Person | None = None, note: str | None = None) -> None:
    db.session.add(ViolationEvent(
        agency_id=violation.agency_id, violation_id=violation.id, at=clock.now(), action=action, source=source,
        staff_user_id=staff.id if staff else None, person_id=person.id if person else None,
        actor_name=(staff or person).name if (staff or person) else "System",
        old_status=old.value if old else None, new_status=violation.status.value, note=note))
