"""The sync engine: stays and calendar blocks as a source describes them -> bookings and blocked dates
(SPEC I2, I3), whatever the source (an iCalendar feed, a CSV file, a PMS pushing through the API).

Writes flush only; the request or the job commits. A run checks a batch's records first and writes the good
ones in one flush, so a refused record leaves nothing behind and the rest of the source is still taken; only
when the database refuses that flush is each record taken again in its own savepoint, to find the one at fault."""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from sqlalchemy import insert, select, update
from sqlalchemy.exc import DataError, IntegrityError
from sqlalchemy.orm import selectinload

from portal import agencies, clock, db
from portal.bookings.models import Booking, BookingStatus, Channel, PaymentType
from portal.fields import EARLIEST, LATEST, MAX_AMOUNT
from portal.integrations.models import (
    BlockedDates,
    BookingSource,
    Integration,
    Outcome,
    RunStatus,
    SyncError,
    SyncRun,
    WhenMissing,
)
from portal.integrations.units import UnitIn, import_unit
from portal.money.currency import fits
from portal.money.operations import sync_booking_balance
from portal.operations import FieldError
from portal.people.models import Person, PortalRole
from portal.people.operations import grant_role
from portal.properties.models import Unit

__all__ = [
    "SYNC_OFF_CONSEQUENCE",
    "SYNC_ON_CONSEQUENCE",
    "BadRecord",
    "Located",
    "StayIn",
    "counter",
    "finish_run",
    "set_sync",
    "start_run",
    "take",
    "take_units",
    "upsert_stay",
]

# What staff confirm before switching (seed 004); the back office shows these words beside the tick box.
SYNC_ON_CONSEQUENCE = ("All imported units will be considered active for syncing: their new and changed stays "
                       "become bookings in Portico.")
SYNC_OFF_CONSEQUENCE = ("Syncing will stop: no new or updated stays will be taken from this source. "
                        "Bookings already taken stay as they are.")

# Channels whose guests pay the channel, not the agency.
_COLLECTING = {Channel.AIRBNB, Channel.BOOKING_COM, Channel.VRBO, Channel.OTHER}
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
EXCERPT_LIMIT = 1000


@dataclass(frozen=True)
class StayIn:
    """A stay (or a calendar block) as a source describes it."""

    external_id: str
    unit_id: int
    arrival: date
    departure: date  # exclusive: the day the guest leaves
    guest_name: str = ""
    guest_email: str | None = None
    guest_phone: str | None = None
    reference: str | None = None  # the channel's or PMS's reservation code: links a stay two integrations know
    adults: int | None = None
    amount_due: Decimal | None = None
    channel: Channel | None = None
    cancelled: bool = False
    block: bool = False  # not a reservation (an owner block, "Not available"): blocked dates, never a booking
    summary: str = ""  # a block's label as the source gives it


Excerpt = str | Callable[[], str]  # the text a record came from, or how to get it (only wanted on refusal)


@dataclass(frozen=True)
class Located:
    """A stay or unit with where the source said it ("line 14", "feed of 1A · event abc@airbnb.com") and the
    text it came from, for the run's errors."""

    location: str
    item: StayIn | UnitIn
    excerpt: Excerpt = ""


class BadRecord(Exception):
    """A record the source could not describe (a malformed event or line): a run error, nothing taken.

    `external_id` when the record's ID could still be read: that stay is then not "missing" from the source.
    `unknown_stay`: the record may have been a stay whose ID is unknown, so the source's list of stays is
    not known to be complete and nothing is cancelled for missing from it."""

    def __init__(self, location: str, message: str, excerpt: str = "", *, external_id: str | None = None,
                 unknown_stay: bool | None = None) -> None:
        super().__init__(message)
        self.location, self.message, self.excerpt = location, message, excerpt
        self.external_id = external_id
        self.unknown_stay = external_id is None if unknown_stay is None else unknown_stay


# -- runs --------------------------------------------------------------------------------------------

def start_run(integration: Integration, trigger: str, total: int) -> SyncRun:
    """Record the start of a sync run (its progress: `done` of `total` items). Flushes."""
    run = SyncRun(agency_id=integration.agency_id, integration_id=integration.id, trigger=trigger[:20],
                  status=RunStatus.RUNNING, total=total, done=0)
    integration.last_run_at = run.started_at = clock.now()
    db.session.add(run)
    db.session.flush()
    return run


def record_error(run: SyncRun, location: str, message: str, excerpt: Excerpt = "") -> SyncError:
    """Add one refused item to the run's errors (flushes)."""
    text = excerpt() if callable(excerpt) else excerpt
    error = SyncError(agency_id=run.agency_id, run_id=run.id, location=_cut(location, 300),
                      message=_cut(message, 500), excerpt=_cut(text, EXCERPT_LIMIT))
    db.session.add(error)
    db.session.flush()
    return error


def finish_run(run: SyncRun, message: str = "") -> None:
    """Close the run: failed when nothing could be read (`message` says why), partial when some items were
    refused or it stopped, else succeeded (saying how many stays it did not take while sync stays was off,
    whatever the source). Flushes."""
    errors = db.session.scalar(select(SyncError.id).where(SyncError.run_id == run.id).limit(1)) is not None
    taken = run.created + run.updated + run.cancelled + run.skipped + run.units_created + run.units_updated
    if message:
        run.message = _cut(message, 500)
        run.status = RunStatus.PARTIAL if taken else RunStatus.FAILED
    else:
        if run.skipped and not run.integration.sync_stays:  # off means not taken, which is no failure (SPEC I2)
            run.message = f"Sync stays is off: {run.skipped} stay{'' if run.skipped == 1 else 's'} not taken."
        run.status = RunStatus.PARTIAL if errors else RunStatus.SUCCEEDED
    run.finished_at = clock.now()
    db.session.flush()


# The run's counter of each outcome: a stay unchanged, or not taken while sync is off, is skipped.
_STAY_COUNTERS = {Outcome.CREATED: "created", Outcome.UPDATED: "updated", Outcome.LINKED: "updated",
                  Outcome.CANCELLED: "cancelled", Outcome.SKIPPED: "skipped", Outcome.UNCHANGED: "skipped"}
_UNIT_COUNTERS = {Outcome.CREATED: "units_created", Outcome.UPDATED: "units_updated"}


def counter(outcome: Outcome, unit: bool = False) -> str | None:
    """The SyncRun column that counts this outcome of a stay (or a unit); None when none does."""
    return (_UNIT_COUNTERS if unit else _STAY_COUNTERS).get(outcome)


def count(run: SyncRun, outcome: Outcome, unit: bool = False) -> None:
    """Add one outcome to the run's counts."""
    column = counter(outcome, unit)
    if column is not None:
        setattr(run, column, getattr(run, column) + 1)


def set_sync(integration: Integration, on: bool, confirmed: bool) -> None:
    """Switch "sync stays" on or off; refused without the ticked confirmation of its consequence (SPEC I2)."""
    if bool(on) == integration.sync_stays:
        return
    if not confirmed:
        raise FieldError("confirmed", SYNC_ON_CONSEQUENCE if on else SYNC_OFF_CONSEQUENCE)
    integration.sync_stays = bool(on)
    integration.sync_changed_at = clock.now()
    db.session.flush()


# -- units -------------------------------------------------------------------------------------------

def take_units(integration: Integration, run: SyncRun, units: Iterable[UnitIn | Located | BadRecord],
               *, count_items: bool = True) -> None:
    """Import units one by one, each in its own savepoint; refusals become the run's errors."""
    for item in units:
        location, unit, excerpt = _unpack(item, "unit")
        if unit is not None:
            try:
                with db.session.begin_nested():
                    _, outcome = import_unit(integration, unit)  # type: ignore[arg-type]
                count(run, outcome, unit=True)
            except FieldError as error:
                record_error(run, location, error.message, excerpt)
            except (IntegrityError, DataError):
                record_error(run, location, "This unit clashes with another one (its external ID?).", excerpt)
        if count_items:
            run.done += 1
    db.session.flush()


# -- stays -------------------------------------------------------------------------------------------

def upsert_stay(integration: Integration, stay: StayIn) -> tuple[Booking | BlockedDates | None, Outcome]:
    """Create, update, link or cancel the booking (or blocked dates) this integration knows by the stay's
    external ID. SKIPPED while sync stays is off. Flushes; raises FieldError for bad input."""
    batch = _Batch(integration, [stay])
    return batch.upsert(stay)


def take(integration: Integration, run: SyncRun, stays: Iterable[StayIn | Located | BadRecord], *,
         complete_for_units: set[int] | None = None, count_items: bool = True) -> None:
    """Take a source's stays into the run: each one whole or not at all (a refused one leaves nothing and
    becomes the run's error, with where it was and its text), looking rows up per batch rather than per stay.

    complete_for_units: the source listed every stay of these units, so this integration's stays on them
    that it no longer lists are cancelled (when_missing CANCEL; stays that are over are history and kept)
    and its blocks there that it no longer lists are removed. count_items: each item is one step of the
    run's progress (a CSV line); an iCal sync counts feeds instead. Flushes."""
    items = list(stays)
    _ensure_scope(integration)
    wanted: list[tuple[int, str, StayIn, Excerpt]] = []
    refused: list[tuple[int, str, str, Excerpt]] = []
    met: set[tuple[bool, str]] = set()  # (block, external ID) of each stay, for duplicates
    listed: set[str] = set()  # every external ID the source listed, refused or not
    complete = complete_for_units is not None
    for index, item in enumerate(items):
        if isinstance(item, BadRecord):
            refused.append((index, item.location, item.message, item.excerpt))
            if item.external_id:
                listed.add(item.external_id)
            complete = complete and not item.unknown_stay
            continue
        location, stay, excerpt = _unpack(item, "stay")
        if not isinstance(stay, StayIn):
            refused.append((index, location, "This is not a stay.", excerpt))
            continue
        key = _external_id_key(stay.external_id, stay.block)
        listed.add(key[1])
        if key in met and key[1]:
            refused.append((index, location, f"The external ID {key[1]} appears twice in this source; the first "
                                             "one was taken.", excerpt))
        else:
            met.add(key)
            wanted.append((index, location, stay, excerpt))
    outcomes, not_taken = _take_all(integration, wanted)
    for outcome in outcomes:
        count(run, outcome)
    for _, location, message, excerpt in sorted([*refused, *not_taken], key=lambda error: error[0]):
        record_error(run, location, message, excerpt)
    if count_items:
        run.done += len(items)
    if complete and complete_for_units and integration.sync_stays:
        _take_missing(integration, run, complete_for_units, listed)
    db.session.flush()


def _take_all(integration: Integration, wanted: list[tuple[int, str, StayIn, Excerpt]]
              ) -> tuple[list[Outcome], list[tuple[int, str, str, Excerpt]]]:
    """The stays of a batch, all written in one flush: every check that can refuse a stay runs before it
    changes anything, so a refused stay leaves nothing behind. Should the database still refuse the flush
    (another sync wrote the same stay a moment ago), the batch is undone and each stay taken in its own
    savepoint, which finds the one at fault."""
    stays = [stay for _, _, stay, _ in wanted]
    outcomes: list[Outcome] = []
    refused: list[tuple[int, str, str, Excerpt]] = []
    try:
        with db.session.no_autoflush, db.session.begin_nested():
            batch = _Batch(integration, stays, flush_each=False, rows=False, bulk=True)
            for index, location, stay, excerpt in wanted:
                try:
                    outcomes.append(batch.upsert(stay)[1])
                except FieldError as error:
                    refused.append((index, location, error.message, excerpt))
                _note(batch, stay, (index, location, excerpt), refused)
            batch.write()
            db.session.flush()
            batch.settle()
        return outcomes, refused
    except (IntegrityError, DataError):
        pass
    outcomes, refused = [], []
    batch = _Batch(integration, stays, rows=False)
    for index, location, stay, excerpt in wanted:
        try:
            with db.session.begin_nested():
                outcome = batch.upsert(stay)[1]
            outcomes.append(outcome)
            _note(batch, stay, (index, location, excerpt), refused)
        except FieldError as error:
            batch.forget(stay)
            refused.append((index, location, error.message, excerpt))
        except (IntegrityError, DataError):
            batch.forget(stay)
            refused.append((index, location, "This stay clashes with another record (its reference or external "
                                              "ID).", excerpt))
    batch.settle()
    return outcomes, refused


def _note(batch: _Batch, stay: StayIn, where: tuple[int, str, Excerpt],
          errors: list[tuple[int, str, str, Excerpt]]) -> None:
    """Why the batch skipped the stay, if it says, among the run's errors."""
    note = batch.notes.pop(_external_id_key(stay.external_id, stay.block)[1], None)
    if note:
        errors.append((where[0], where[1], note, where[2]))


def _external_id_key(external_id: str, block: bool) -> tuple[bool, str]:
    return (block, " ".join(str(external_id or "").split()))


def _unpack(item: object, what: str) -> tuple[str, StayIn | UnitIn | None, Excerpt]:
    if isinstance(item, Located):
        return item.location, item.item, item.excerpt
    if isinstance(item, StayIn | UnitIn):
        return f"{what} {item.external_id}", item, ""
    return what, None, ""


def _ensure_scope(integration: Integration) -> None:
    # An unscoped session sees no rows at all: every stay would look new and be duplicated.
    if db.session.info.get("agency_id") != integration.agency_id:
        raise RuntimeError("the session is not scoped to the integration's agency")


def _cut(text: str | None, limit: int) -> str:
    text = (text or "").replace("\x00", "")
    return text if len(text) <= limit else text[: limit - 1] + "…"


# A source's fingerprint starting with this: the source itself cancelled the stay (cancelled in its list, or
# gone from it). Only such a booking comes back when the source lists the stay again; one staff cancelled stays so.
SOURCE_CANCELLED = "cancelled:"


def fingerprint(stay: StayIn) -> str:
    """A hash of everything Portico takes from a stay: the same hash means nothing to do."""
    parts = (stay.unit_id, stay.arrival.isoformat(), stay.departure.isoformat(), stay.guest_name,
             stay.guest_email or "", stay.guest_phone or "", stay.reference or "", stay.adults,
             str(stay.amount_due) if stay.amount_due is not None else "", stay.channel or "", stay.cancelled)
    digest = hashlib.sha256(repr(parts).encode()).hexdigest()
    return SOURCE_CANCELLED + digest[: 64 - len(SOURCE_CANCELLED)] if stay.cancelled else digest


@dataclass
class _Clean:
    """A stay's values, checked."""

    external_id: str
    guest_name: str
    guest_email: str | None
    guest_phone: str | None
    reference: str | None
    summary: str


def _checked(stay: StayIn, units: set[int], currency: str) -> _Clean:
    external_id = " ".join(str(stay.external_id or "").split())
    if not external_id:
        raise FieldError("external_id", "The stay has no external ID.")
    if len(external_id) > 255:
        raise FieldError("external_id", "The external ID is longer than 255 characters.")
    for name in ("arrival", "departure"):
        value = getattr(stay, name)
        if not isinstance(value, date) or isinstance(value, datetime):
            raise FieldError(name, f"The {name} date is missing or not a date.")
        if not EARLIEST <= value <= LATEST:
            raise FieldError(name, f"The {name} date {value.isoformat()} is out of range.")
    if stay.departure <= stay.arrival:
        raise FieldError("departure", f"Departure ({stay.departure.isoformat()}) must be after arrival "
                                      f"({stay.arrival.isoformat()}).")
    if stay.unit_id not in units:
        raise FieldError("unit_id", f"There is no unit {stay.unit_id} in this agency.")
    email = (stay.guest_email or "").strip().lower() or None
    if email is not None and (len(email) > 254 or not _EMAIL.fullmatch(email)):
        raise FieldError("guest_email", f"{_cut(email, 60)!r} is not an e-mail address.")
    name = " ".join((stay.guest_name or "").split())
    if len(name) > 200:
        raise FieldError("guest_name", "The guest's name is longer than 200 characters.")
    phone = " ".join((stay.guest_phone or "").split()) or None
    if phone is not None and len(phone) > 40:
        raise FieldError("guest_phone", "The guest's phone number is longer than 40 characters.")
    reference = " ".join((stay.reference or "").split()) or None
    if reference is not None and len(reference) > 120:
        raise FieldError("reference", "The reference is longer than 120 characters.")
    if stay.adults is not None and (isinstance(stay.adults, bool) or not isinstance(stay.adults, int)
                                    or not 1 <= stay.adults <= 99):
        raise FieldError("adults", "Adults must be a whole number from 1 to 99.")
    if stay.amount_due is not None:
        try:
            amount = Decimal(stay.amount_due)
        except (InvalidOperation, TypeError, ValueError):
            raise FieldError("amount_due", "The amount due is not a number.") from None
        if not amount.is_finite() or amount < 0 or amount >= MAX_AMOUNT or not fits(amount, currency):
            raise FieldError("amount_due", f"The amount due {_cut(str(stay.amount_due), 30)} is not a valid amount "
                                           f"in {currency}.")
    if stay.channel is not None and not isinstance(stay.channel, Channel):
        raise FieldError("channel", "Unknown channel.")
    return _Clean(external_id, name, email, phone, reference, _cut(" ".join(stay.summary.split()), 300))


@dataclass
class _Batch:
    """What one batch of stays needs from the database, looked up once per batch rather than per stay.

    flush_each: each stay is flushed as it is taken (and its balance kept at once); otherwise the caller
    flushes the batch and then calls settle()."""

    integration: Integration
    stays: Sequence[StayIn]
    flush_each: bool = True
    rows: bool = True  # upsert() returns the booking also when it is unchanged (a run needs only outcomes)
    units: set[int] = field(default_factory=set)
    sources: dict[str, BookingSource] = field(default_factory=dict)
    blocks: dict[str, BlockedDates] = field(default_factory=dict)
    people: dict[str, Person] = field(default_factory=dict)
    # Bookings not cancelled on the batch's units around its dates (for overlaps and links), by unit, and
    # every integration's sources of them.
    nearby: dict[int, list[Booking]] = field(default_factory=dict)
    known_as: dict[Booking, list[BookingSource]] = field(default_factory=dict)
    # Channel reservation codes already on a booking: (channel, code).
    codes: set[tuple[Channel, str]] = field(default_factory=set)
    seen_sources: set[int] = field(default_factory=set)
    balances: list[Booking] = field(default_factory=list)
    references: list[str] = field(default_factory=list)
    notes: dict[str, str] = field(default_factory=dict)  # by external ID: why a stay was skipped, for the run
    # bulk: new bookings whose guest is new and has no e-mail, with nothing due (a channel calendar's), wait in
    # `pending` for write(): one INSERT for their guests, one for them, one for their sources, instead of three
    # ORM objects each. The others (a guest found by e-mail, a balance to keep) go through the session.
    bulk: bool = False
    pending: list[_Pending] = field(default_factory=list)
    pending_blocks: list[dict[str, object]] = field(default_factory=list)  # new blocks' rows, bulk too

    def __post_init__(self) -> None:
        _ensure_scope(self.integration)
        self.agency = agencies.get(self.integration.agency_id)
        self._loaded: set[str] = set()
        if not self.integration.sync_stays or not self.stays:
            return
        # What every stay needs is read now; what only new or changed stays need, when the first one comes
        # (a feed that repeats itself costs a few queries).
        s = db.session
        agency_id = self.integration.agency_id
        unit_ids = {stay.unit_id for stay in self.stays if isinstance(stay.unit_id, int)}
        self.units = set(s.scalars(select(Unit.id).where(Unit.agency_id == agency_id, Unit.id.in_(unit_ids))))
        # Both kinds under every ID: a stay that turns into a block (or back) replaces the other kind.
        ids = sorted({i for _, i in (_external_id_key(stay.external_id, stay.block) for stay in self.stays) if i})
        if ids:
            self.sources = {src.external_id: src for src in s.scalars(
                select(BookingSource).where(BookingSource.integration_id == self.integration.id,
                                            BookingSource.external_id.in_(ids)))}
            self.blocks = {b.external_id: b for b in s.scalars(
                select(BlockedDates).where(BlockedDates.integration_id == self.integration.id,
                                           BlockedDates.external_id.in_(ids)))}

    def _load(self, what: str) -> None:
        """Read, once per batch, what new or changed stays need."""
        if what in self._loaded:
            return
        self._loaded.add(what)
        s = db.session
        agency_id = self.integration.agency_id
        stays = [stay for stay in self.stays if not stay.block]
        if what == "bookings":  # the bookings of the sources this batch knows, with their guests
            ids = [src.booking_id for src in self.sources.values() if src.booking_id is not None]
            if ids:
                s.scalars(select(Booking).where(Booking.id.in_(ids)).options(selectinload(Booking.guest))).all()
        elif what == "people":
            emails = {stay.guest_email.strip().lower() for stay in stays
                      if isinstance(stay.guest_email, str) and stay.guest_email.strip()}
            if emails:
                for person in s.scalars(select(Person).where(Person.agency_id == agency_id,
                                                             Person.email.in_(emails))
                                        .options(selectinload(Person.accounts)).order_by(Person.id.desc())):
                    self.people.setdefault(person.email, person)  # the oldest wins when two share an address
        elif what == "codes":
            codes = {stay.reference.strip() for stay in stays
                     if isinstance(stay.reference, str) and stay.reference.strip()}
            channels = {stay.channel or Channel.OTHER for stay in stays}
            if codes:  # by channel too: the unique index (agency, channel, external ID) answers it
                self.codes |= {(channel, code) for channel, code in s.execute(
                    select(Booking.channel, Booking.external_id).where(
                        Booking.agency_id == agency_id, Booking.channel.in_(channels), Booking.external_id.in_(codes)))}
        elif what == "nearby":
            dated = [stay for stay in stays if _is_day(stay.arrival) and _is_day(stay.departure)]
            if not dated or not self.units:
                return
            first = min(stay.arrival for stay in dated)
            last = max(stay.departure for stay in dated)
            for booking in s.scalars(
                select(Booking).where(Booking.agency_id == agency_id, Booking.unit_id.in_(self.units),
                                      Booking.status != BookingStatus.CANCELLED, Booking.arrival < last,
                                      Booking.departure > first)
                .options(selectinload(Booking.guest))
            ):
                if booking not in self.nearby.get(booking.unit_id, []):
                    self.nearby.setdefault(booking.unit_id, []).append(booking)
                self.known_as.setdefault(booking, [])
            by_id = {booking.id: booking for booking in self.known_as if booking.id is not None}
            if by_id:
                for source in s.scalars(select(BookingSource).where(BookingSource.booking_id.in_(by_id))):
                    if source not in self.known_as[by_id[source.booking_id]]:
                        self.known_as[by_id[source.booking_id]].append(source)

    # -- one stay: every check that can refuse it comes before its first change

    def upsert(self, stay: StayIn) -> tuple[Booking | BlockedDates | None, Outcome]:
        if not self.integration.sync_stays:
            return None, Outcome.SKIPPED
        clean = _checked(stay, self.units, self.agency.currency)
        source = self.sources.get(clean.external_id)
        if stay.block:
            if source is not None:  # it was a stay: cancelled as though the source had cancelled it
                self._cancel(source, stay, clean)
            return self._block(stay, clean)
        print_ = fingerprint(stay)
        if source is not None:
            if source.id is not None:
                self.seen_sources.add(source.id)
            if source.fingerprint == print_ and clean.external_id not in self.blocks:
                return (source.booking if self.rows else None), Outcome.UNCHANGED
            for what in ("bookings", "nearby", "people"):
                self._load(what)
            revive = (source.fingerprint or "").startswith(SOURCE_CANCELLED)
            outcome = self._update(source.booking, stay, clean, revive=revive)
            source.fingerprint = print_
            self._drop_block(clean.external_id)
            self._flush()
            return source.booking, outcome
        if stay.cancelled:
            self._drop_block(clean.external_id)
            self._flush()
            return None, Outcome.SKIPPED  # a stay we never took was cancelled: nothing to do
        for what in ("nearby", "people", "codes"):
            self._load(what)
        twin = self._twin(stay, clean)
        if twin is not None:
            self._drop_block(clean.external_id)
            self._add_source(twin, clean.external_id, print_)
            self._flush()
            return twin, Outcome.LINKED
        self._check_overlap(stay, None)
        self._drop_block(clean.external_id)  # it was a block: now a stay
        if self.bulk and not clean.guest_email and not stay.amount_due:
            self._queue(stay, clean, print_)
            return None, Outcome.CREATED
        booking = self._create(stay, clean)
        self._add_source(booking, clean.external_id, print_)
        self._flush()
        return booking, Outcome.CREATED

    def _cancel(self, source: BookingSource, stay: StayIn, clean: _Clean) -> None:
        """The source no longer has the stay as a stay (it lists a block under its ID): cancel its booking."""
        gone = StayIn(clean.external_id, stay.unit_id, stay.arrival, stay.departure, cancelled=True)
        self._update(source.booking, gone, clean, revive=False)
        source.fingerprint = SOURCE_CANCELLED  # a stay again later: taken again

    def _drop_block(self, external_id: str) -> None:
        """The source lists a stay under a block's ID: the block is gone from it."""
        block = self.blocks.pop(external_id, None)
        if block is not None:
            db.session.delete(block)

    def _flush(self) -> None:
        if self.flush_each:
            db.session.flush()
            self.settle()

    def settle(self) -> None:
        """After the flush: the balances of the bookings whose amounts changed, and when the source last listed
        the stays it repeated (one statement for the batch)."""
        for booking in self.balances:
            sync_booking_balance(booking)
        self.balances.clear()
        if self.seen_sources:
            db.session.execute(update(BookingSource).where(BookingSource.id.in_(self.seen_sources))
                               .values(last_seen_at=clock.now()).execution_options(synchronize_session=False))
            self.seen_sources.clear()

    def forget(self, stay: StayIn) -> None:
        """A stay's savepoint was rolled back: drop what the batch learnt from it."""
        key = _external_id_key(stay.external_id, stay.block)[1]
        source = self.sources.get(key)
        if source is not None and source not in db.session:
            del self.sources[key]
        for bookings in self.nearby.values():
            bookings[:] = [b for b in bookings if b in db.session]
        self.known_as = {b: [src for src in sources if src in db.session]
                         for b, sources in self.known_as.items() if b in db.session}
        self.people = {email: p for email, p in self.people.items() if p in db.session}
        if key in self.blocks and self.blocks[key] not in db.session:
            del self.blocks[key]
        self.balances.clear()

    def _add_source(self, booking: Booking, external_id: str, print_: str) -> None:
        now = clock.now()
        source = BookingSource(agency_id=booking.agency_id, integration_id=self.integration.id,
                               external_id=external_id, fingerprint=print_, first_seen_at=now, last_seen_at=now,
                               booking=booking)
        db.session.add(source)
        self.sources[external_id] = source
        self.known_as.setdefault(booking, []).append(source)

    def _twin(self, stay: StayIn, clean: _Clean) -> Booking | None:
        """The booking another source (or staff) already has for this stay: same unit and dates, and the same
        guest (e-mail or name) or reference."""
        for booking in self.nearby.get(stay.unit_id, []):
            if booking.arrival != stay.arrival or booking.departure != stay.departure:
                continue
            sources = self.known_as.get(booking, [])
            if any(src.integration_id == self.integration.id for src in sources):
                continue  # this integration's own stay under another ID: a separate reservation
            guest = booking.guest
            same_guest = (clean.guest_email is not None and (guest.email or "").lower() == clean.guest_email) or (
                bool(clean.guest_name) and _same_name(guest.name, clean.guest_name))
            same_reference = clean.reference is not None and clean.reference in (
                booking.reference, booking.external_id, *(src.external_id for src in sources))
            if same_guest or same_reference:
                return booking
        return None

    def _check_overlap(self, stay: StayIn, current: Booking | None) -> None:
        for booking in self.nearby.get(stay.unit_id, []):
            if booking is current or booking.status == BookingStatus.CANCELLED:
                continue
            if booking.arrival < stay.departure and booking.departure > stay.arrival:
                raise FieldError("arrival", f"{stay.arrival.isoformat()} to {stay.departure.isoformat()} overlaps "
                                            f"booking {booking.reference} ({booking.arrival.isoformat()} to "
                                            f"{booking.departure.isoformat()}) in the same unit.")

    def _guest(self, stay: StayIn, clean: _Clean) -> Person:
        person = self.people.get(clean.guest_email) if clean.guest_email else None
        if person is None:
            channel = stay.channel or Channel.OTHER
            name = clean.guest_name or f"{_CHANNEL_NAMES.get(channel, 'Channel')} guest"
            person = Person(agency_id=self.integration.agency_id, name=name, email=clean.guest_email,
                            phone=clean.guest_phone)
            db.session.add(person)
            if clean.guest_email:
                self.people[clean.guest_email] = person
        if person.email:
            grant_role(person, PortalRole.GUEST)  # as for any booking: a reachable guest gets the guest portal
        return person

    def _reference(self) -> str:
        """A new booking reference, drawn as new_reference() does but checked a few dozen at a time."""
        if not self.references:
            drawn = {str(secrets.randbelow(90_000_000) + 10_000_000) for _ in range(64)}
            taken = set(db.session.scalars(select(Booking.reference).where(
                Booking.agency_id == self.integration.agency_id, Booking.reference.in_(drawn))))
            self.references = sorted(drawn - taken)
        return self.references.pop()

    def _create(self, stay: StayIn, clean: _Clean) -> Booking:
        channel = stay.channel or Channel.OTHER
        code = clean.reference if clean.reference and (channel, clean.reference) not in self.codes else None
        booking = Booking(
            agency_id=self.integration.agency_id, reference=self._reference(), guest=self._guest(stay, clean),
            unit_id=stay.unit_id, arrival=stay.arrival, departure=stay.departure, status=BookingStatus.CONFIRMED,
            payment_type=PaymentType.CHANNEL if channel in _COLLECTING else PaymentType.BANK_TRANSFER,
            channel=channel, adults=stay.adults or 2, amount_due=stay.amount_due or Decimal(0),
            amount_paid=Decimal(0), external_id=code,
        )
        db.session.add(booking)
        if code:
            self.codes.add((channel, code))
        if booking.amount_due > 0:
            self.balances.append(booking)
        self.nearby.setdefault(stay.unit_id, []).append(booking)
        return booking

    def _queue(self, stay: StayIn, clean: _Clean, print_: str) -> None:
        """A new booking for write(); it counts for the batch's overlaps and links at once."""
        channel = stay.channel or Channel.OTHER
        code = clean.reference if clean.reference and (channel, clean.reference) not in self.codes else None
        name = clean.guest_name or f"{_CHANNEL_NAMES.get(channel, 'Channel')} guest"
        booking = _Pending(
            reference=self._reference(), guest=_PendingGuest(name, clean.guest_phone), unit_id=stay.unit_id,
            arrival=stay.arrival, departure=stay.departure, channel=channel, adults=stay.adults or 2,
            external_id=code, source_id=clean.external_id, fingerprint=print_)
        if code:
            self.codes.add((channel, code))
        self.pending.append(booking)
        self.nearby.setdefault(stay.unit_id, []).append(booking)  # type: ignore[arg-type]
        self.known_as[booking] = [_PendingSource(self.integration.id, clean.external_id)]  # type: ignore[index]

    def write(self) -> None:
        """Write the queued new blocks and bookings: the blocks, the bookings' guests, the bookings and their
        sources, one INSERT each (the batch's checks have passed); then flush listeners hear of the bookings
        (the planner plans them, I4)."""
        s = db.session
        if self.pending_blocks:
            s.execute(insert(BlockedDates.__table__), self.pending_blocks)
            self.pending_blocks.clear()
        if not self.pending:
            return
        agency_id = self.integration.agency_id
        now = clock.now()
        people, bookings, sources = Person.__table__, Booking.__table__, BookingSource.__table__
        # RETURNING's rows come in no promised order: the ids are matched back by content, and guests with the
        # same name and phone are interchangeable (each booking still gets its own).
        pool: dict[tuple[str, str | None], list[int]] = {}
        for row in s.execute(insert(people).returning(people.c.id, people.c.name, people.c.phone), [
                {"agency_id": agency_id, "name": b.guest.name, "email": None, "phone": b.guest.phone,
                 "created_at": now} for b in self.pending]):
            pool.setdefault((row.name, row.phone), []).append(row.id)
        ids = dict(s.execute(insert(bookings).returning(bookings.c.reference, bookings.c.id), [
            {"agency_id": agency_id, "reference": b.reference, "guest_id": pool[(b.guest.name, b.guest.phone)].pop(),
             "unit_id": b.unit_id, "arrival": b.arrival, "departure": b.departure, "status": BookingStatus.CONFIRMED,
             "payment_type": PaymentType.CHANNEL if b.channel in _COLLECTING else PaymentType.BANK_TRANSFER,
             "channel": b.channel, "adults": b.adults, "amount_due": Decimal(0), "amount_paid": Decimal(0),
             "external_id": b.external_id, "booked_at": now, "created_at": now, "updated_at": now}
            for b in self.pending]).all())
        s.execute(insert(sources), [
            {"agency_id": agency_id, "booking_id": ids[b.reference], "integration_id": self.integration.id,
             "external_id": b.source_id, "fingerprint": b.fingerprint, "first_seen_at": now, "last_seen_at": now}
            for b in self.pending])
        for booking in self.pending:
            booking.id = ids[booking.reference]
        self.pending.clear()
        db.inserted_in_bulk(s, Booking, agency_id, sorted(ids.values()))

    def _update(self, booking: Booking, stay: StayIn, clean: _Clean, revive: bool) -> Outcome:
        """revive: the source itself had cancelled the booking, so listing it again brings it back."""
        if stay.cancelled:
            if booking.status == BookingStatus.CANCELLED:
                return Outcome.UNCHANGED
            booking.status = BookingStatus.CANCELLED
            self.balances.append(booking)
            return Outcome.CANCELLED
        if booking.status == BookingStatus.CANCELLED and not revive:
            self.notes[clean.external_id] = "Cancelled in Portico: the source's change was not taken."
            return Outcome.SKIPPED
        if (booking.unit_id, booking.arrival, booking.departure) != (stay.unit_id, stay.arrival, stay.departure) \
                or booking.status == BookingStatus.CANCELLED:
            self._check_overlap(stay, booking)
        wanted: dict[str, object] = {"unit_id": stay.unit_id, "arrival": stay.arrival, "departure": stay.departure}
        if booking.status == BookingStatus.CANCELLED:
            wanted["status"] = BookingStatus.CONFIRMED  # the source took the cancellation back
        if stay.adults is not None:
            wanted["adults"] = stay.adults
        if stay.amount_due is not None:
            wanted["amount_due"] = Decimal(stay.amount_due)
        if clean.guest_email and (booking.guest.email or "").lower() != clean.guest_email:
            wanted["guest"] = self._guest(stay, clean)
        changed = {key: value for key, value in wanted.items() if getattr(booking, key) != value}
        if not changed:
            return Outcome.UNCHANGED
        for key, value in changed.items():
            setattr(booking, key, value)
        if booking not in self.nearby.get(booking.unit_id, []):
            self.nearby.setdefault(booking.unit_id, []).append(booking)
        if {"amount_due", "status", "guest"} & changed.keys():
            self.balances.append(booking)
        return Outcome.UPDATED

    def _block(self, stay: StayIn, clean: _Clean) -> tuple[BlockedDates | None, Outcome]:
        block = self.blocks.get(clean.external_id)
        if stay.cancelled:
            if block is None:
                return None, Outcome.SKIPPED
            db.session.delete(block)
            del self.blocks[clean.external_id]
            self._flush()
            return None, Outcome.CANCELLED
        summary = clean.summary or clean.guest_name
        if block is None and self.bulk:
            self.pending_blocks.append({
                "agency_id": self.integration.agency_id, "integration_id": self.integration.id,
                "external_id": clean.external_id, "unit_id": stay.unit_id, "start_date": stay.arrival,
                "end_date": stay.departure, "summary": summary, "created_at": clock.now()})
            return None, Outcome.CREATED
        if block is None:
            block = BlockedDates(agency_id=self.integration.agency_id, integration_id=self.integration.id,
                                 external_id=clean.external_id, unit_id=stay.unit_id, start_date=stay.arrival,
                                 end_date=stay.departure, summary=summary)
            db.session.add(block)
            self.blocks[clean.external_id] = block
            self._flush()
            return block, Outcome.CREATED
        wanted = {"unit_id": stay.unit_id, "start_date": stay.arrival, "end_date": stay.departure, "summary": summary}
        changed = {key: value for key, value in wanted.items() if getattr(block, key) != value}
        if not changed:
            return block, Outcome.UNCHANGED
        for key, value in changed.items():
            setattr(block, key, value)
        self._flush()
        return block, Outcome.UPDATED


@dataclass(frozen=True)
class _PendingGuest:
    name: str
    phone: str | None
    email: None = None


@dataclass(frozen=True)
class _PendingSource:
    integration_id: int
    external_id: str


@dataclass(eq=False)
class _Pending:
    """A new booking waiting for _Batch.write(), with what the batch's overlap and link checks read of one."""

    reference: str
    guest: _PendingGuest
    unit_id: int
    arrival: date
    departure: date
    channel: Channel
    adults: int
    external_id: str | None
    source_id: str
    fingerprint: str
    status: BookingStatus = BookingStatus.CONFIRMED
    id: int | None = None


_CHANNEL_NAMES = {Channel.AIRBNB: "Airbnb", Channel.BOOKING_COM: "Booking.com", Channel.VRBO: "Vrbo",
                  Channel.DIRECT: "Direct", Channel.WEB: "Web", Channel.OTHER: "Channel"}


def _is_day(value: object) -> bool:
    return isinstance(value, date) and not isinstance(value, datetime)


def _same_name(a: str, b: str) -> bool:
    return " ".join(a.casefold().split()) == " ".join(b.casefold().split())


def _take_missing(integration: Integration, run: SyncRun, units: set[int], listed: set[str]) -> None:
    """The source listed every stay of `units`: what it no longer lists is gone from it."""
    s = db.session
    today = agencies.get(integration.agency_id).today()
    # Plain rows first, compared here: the usual answer is "nothing is missing", for one cheap query.
    # From the units' bookings (a few) to their sources, not from the integration's sources (all of them).
    current = select(Booking.id).where(Booking.unit_id.in_(units), Booking.status != BookingStatus.CANCELLED,
                                       Booking.departure > today)
    rows = s.execute(select(BookingSource.id, BookingSource.external_id).where(
        BookingSource.booking_id.in_(current), BookingSource.integration_id == integration.id,
    )).all()
    missing_ids = [source_id for source_id, external_id in rows if external_id not in listed]
    missing = s.scalars(select(BookingSource).where(BookingSource.id.in_(missing_ids))
                        .options(selectinload(BookingSource.booking))).all() if missing_ids else []
    # Another integration still knows the stay (a move from one PMS to another): only this link goes.
    shared = set(s.scalars(select(BookingSource.booking_id).where(
        BookingSource.booking_id.in_([source.booking_id for source in missing]),
        BookingSource.integration_id != integration.id))) if missing else set()
    unlink = [source for source in missing if source.booking_id in shared]
    cancel = [source for source in missing if source.booking_id not in shared
              and integration.when_missing == WhenMissing.CANCEL]
    blocks = s.execute(select(BlockedDates.id, BlockedDates.external_id, BlockedDates.integration_id)
                       .where(BlockedDates.unit_id.in_(units))).all()
    gone = [block_id for block_id, external_id, source in blocks
            if source == integration.id and external_id not in listed]
    if not listed and (cancel or gone):
        # Channels do send an empty calendar by mistake: taken at its word it would cancel every coming stay
        # (each with its mail), only for the next good read to revive them.
        names = s.scalars(select(Unit.name).where(Unit.id.in_(units)).order_by(Unit.name))
        record_error(run, ", ".join(f"feed of {name}" for name in names),
                     "The feed listed no stays; nothing cancelled.")
        cancel, gone = [], []
    for source in unlink:
        s.delete(source)  # the booking is as it was: neither updated nor cancelled
    for source in cancel:
        source.booking.status = BookingStatus.CANCELLED
        source.fingerprint = SOURCE_CANCELLED  # listed again later: taken again
        sync_booking_balance(source.booking)
        run.cancelled += 1
    if gone:
        for block in s.scalars(select(BlockedDates).where(BlockedDates.id.in_(gone))):
            s.delete(block)
        run.cancelled += len(gone)
    s.flush()
