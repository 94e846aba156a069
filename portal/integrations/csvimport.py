"""CSV files of units and stays for a CSV integration: the documented column layout, its templates, and the
import of an uploaded file as one sync run (trigger "upload").

A file whose columns are wrong is refused whole (FileRefused: nothing recorded); otherwise each line is taken
on its own: a bad line (a bad date, departure before arrival, an unknown unit, an external ID twice in the
file) becomes an error of the run with its line number and text, and the good lines are still imported."""

from __future__ import annotations

import codecs
import csv
import io
import json
from collections import Counter
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from sqlalchemy import select

from portal import db, queue
from portal.bookings.models import Channel
from portal.csvsafe import read_text_cell, text_cell
from portal.integrations import stays as engine
from portal.integrations.models import Integration, RunStatus, SyncRun
from portal.integrations.units import UnitIn
from portal.properties.models import BEDROOMS, CAPACITY, Unit

MAX_BYTES = 5 * 1024 * 1024
MAX_LINES = 20_000  # a file's lines: larger files are split
EXCERPT = 300
INLINE_LINES = 100  # a file this small is imported in the request; a larger one by a job, with its progress
CHUNK = 200  # a job's lines per transaction (a few seconds each)
KEEP_SECONDS = 24 * 3600  # how long a queued file waits in Redis for its job
JOB_TIMEOUT = 3600
EXTRA_CELLS = "\x00extra"  # marks a line with more cells than the header has columns (no heading has a NUL)


@dataclass(frozen=True)
class Column:
    name: str
    required: bool
    meaning: str
    example: str


UNIT_COLUMNS = [
    Column("external_id", True, "The unit's ID in your other system; the same ID updates the same unit.", "VIL-12"),
    Column("name", True, "The unit's name, as guests and staff see it.", "Villa Azul"),
    Column("property", True, "The building or complex; made if you have none with this name.", "Costa Serena Villas"),
    Column("bedrooms", False, f"A whole number from {BEDROOMS[0]} to {BEDROOMS[1]}.", "3"),
    Column("capacity", False, f"How many guests it sleeps, {CAPACITY[0]} to {CAPACITY[1]}.", "6"),
]
STAY_COLUMNS = [
    Column("external_id", True, "The stay's ID in your other system; the same ID updates the same booking.",
           "RES-20481"),
    Column("unit_external_id", True, "The external ID of one of your units (import the units first).", "VIL-12"),
    Column("arrival", True, "The arrival date, YYYY-MM-DD.", "2026-07-04"),
    Column("departure", True, "The departure date, YYYY-MM-DD, after the arrival.", "2026-07-11"),
    Column("guest_name", True, "The lead guest's full name.", "Maria Lopez"),
    Column("guest_email", False, "The guest's e-mail address: links the booking to the person and their portal.",
           "maria@example.com"),
    Column("guest_phone", False, "The guest's phone number.", "+34 600 123 456"),
    Column("adults", False, "A whole number from 1 to 99.", "2"),
    Column("amount_due", False, "What the guest owes for the stay, e.g. 1250.00 (a point, no currency sign).",
           "1250.00"),
    Column("channel", False, "Where it was booked: " + ", ".join(c.value for c in Channel) + ".", "airbnb"),
    Column("status", False, "confirmed (the default) or cancelled.", "confirmed"),
    Column("reference", False, "The channel's reservation code, to recognise a stay another source also sends.",
           "HMABC123"),
]
LAYOUTS = {"units": UNIT_COLUMNS, "stays": STAY_COLUMNS}
CANCELLED = {"cancelled", "canceled"}
CONFIRMED = {"", "confirmed", "booked", "reserved"}


class FileRefused(Exception):
    """The file as a whole cannot be read as this layout: nothing of it is taken."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def template(what: str) -> bytes:
    """A template CSV for `what` (units or stays): the header and one example line, UTF-8 with a BOM (Excel)."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out)
    writer.writerow([c.name for c in LAYOUTS[what]])
    writer.writerow([text_cell(c.example) for c in LAYOUTS[what]])
    return out.getvalue().encode("utf-8")


@dataclass
class Parsed:
    """A file read as a layout: each data line's number, cells and text."""

    what: str
    lines: list[tuple[int, dict[str, str], str]]


def read(raw: bytes, what: str) -> Parsed:
    """Read an uploaded file as the `what` layout, or refuse it whole with a message people can act on."""
    if not raw.strip():
        raise FileRefused("The file is empty.")
    if len(raw) > MAX_BYTES:
        raise FileRefused(f"The file is larger than {MAX_BYTES // (1024 * 1024)} MB: split it into smaller files.")
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise FileRefused("The file is UTF-16 text. Save it from your spreadsheet as “CSV UTF-8” and upload it "
                          "again.")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = raw[:err.start].count(b"\n") + 1
        raise FileRefused(f"The file is not UTF-8 text (line {line} has a byte UTF-8 does not allow). Save it from "
                          "your spreadsheet as “CSV UTF-8” and upload it again.") from None
    if "\x00" in text:
        raise FileRefused("The file is not a CSV text file (it holds binary data). Save it from your spreadsheet "
                          "as “CSV UTF-8” and upload it again.")
    layout = LAYOUTS[what]
    reader = csv.reader(io.StringIO(text, newline=""), strict=False)
    try:
        # "External ID" and "external_id" are the same column; an empty heading (a spreadsheet's trailing
        # comma) is no column at all.
        header = ["_".join(h.strip().lower().split()) for h in next(reader)]
    except (StopIteration, csv.Error):
        raise FileRefused("The file has no header line.") from None
    _check_columns(header, layout, what)
    lines: list[tuple[int, dict[str, str], str]] = []
    try:
        for row in reader:
            if not any(cell.strip() for cell in row):
                continue  # a blank line, often the last one
            if len(lines) >= MAX_LINES:
                raise FileRefused(f"The file has more than {MAX_LINES:,} lines: split it into smaller files.")
            cells = {name: read_text_cell(row[i].strip()) if i < len(row) else ""
                     for i, name in enumerate(header) if name}
            if any(cell.strip() for cell in row[len(header):]):
                cells[EXTRA_CELLS] = "x"
            lines.append((reader.line_num, cells, _excerpt(row)))
    except csv.Error as err:
        raise FileRefused(f"Line {reader.line_num} cannot be read as CSV ({err}).") from None
    if not lines:
        raise FileRefused("The file has a header line but no data lines.")
    return Parsed(what, lines)


def _check_columns(header: list[str], layout: list[Column], what: str) -> None:
    known = {c.name for c in layout}
    expected = ", ".join(c.name for c in layout)
    dupes = sorted(n for n, k in Counter(header).items() if k > 1 and n)
    missing = [c.name for c in layout if c.required and c.name not in header]
    unknown = [h for h in header if h and h not in known]
    if dupes:
        raise FileRefused(f"The column {dupes[0]!r} appears twice. A {what} file has these columns: {expected}.")
    if missing or unknown:
        said = []
        if missing:
            said.append("it lacks " + ", ".join(missing))
        if unknown:
            said.append("it has columns this layout does not know: " + ", ".join(repr(u[:40]) for u in unknown[:5]))
        raise FileRefused(f"This is not a {what} file: {'; '.join(said)}. A {what} file has these columns "
                          f"(the optional ones may be left out): {expected}. Download the template to start from.")


def _excerpt(row: list[str]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="").writerow(row)
    text = out.getvalue()
    return text if len(text) <= EXCERPT else text[:EXCERPT - 1] + "…"


def _whole(cells: dict[str, str], name: str, low: int, high: int) -> int | None:
    raw = cells.get(name, "")
    if not raw:
        return None
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 6) or not low <= int(raw) <= high:
        raise ValueError(f"{name} must be a whole number from {low} to {high} (it is {raw[:20]!r}).")
    return int(raw)


def _day(cells: dict[str, str], name: str) -> date:
    raw = cells.get(name, "")
    try:
        day = date.fromisoformat(raw) if len(raw) == 10 else None
    except ValueError:
        day = None
    if day is None:
        raise ValueError(f"The {name} date {raw[:30]!r} is not a date written as YYYY-MM-DD." if raw
                         else f"The {name} date is missing.")
    return day  # its range is the engine's to check, as for any source


def _unit(line: int, cells: dict[str, str], excerpt: str) -> engine.Located | engine.BadRecord:
    where = f"line {line}"
    try:
        if EXTRA_CELLS in cells:
            raise ValueError("The line has more cells than the header has columns.")
        for name in ("external_id", "name", "property"):
            if not cells.get(name):
                raise ValueError(f"The {name.replace('_', ' ').replace(' id', ' ID')} is missing.")
        unit = UnitIn(external_id=cells["external_id"], name=cells["name"], property_name=cells["property"],
                      bedrooms=_whole(cells, "bedrooms", *BEDROOMS), capacity=_whole(cells, "capacity", *CAPACITY))
    except ValueError as err:
        return engine.BadRecord(where, str(err), excerpt, external_id=cells.get("external_id") or None)
    return engine.Located(where, unit, excerpt)


def _stay(line: int, cells: dict[str, str], excerpt: str, units: dict[str, int]) -> engine.Located | engine.BadRecord:
    where = f"line {line}"
    external_id = cells.get("external_id") or None
    try:
        if EXTRA_CELLS in cells:
            raise ValueError("The line has more cells than the header has columns.")
        if not external_id:
            raise ValueError("The external ID is missing.")
        unit_key = cells.get("unit_external_id", "")
        if not unit_key:
            raise ValueError("The unit's external ID is missing.")
        if unit_key not in units:
            raise ValueError(f"There is no unit with the external ID {unit_key[:60]!r}: import it first (a units "
                             "file), or correct the ID.")
        arrival, departure = _day(cells, "arrival"), _day(cells, "departure")  # their order: the engine's check
        if not cells.get("guest_name"):
            raise ValueError("The guest's name is missing.")
        status = cells.get("status", "").lower()
        if status not in CANCELLED | CONFIRMED:
            raise ValueError(f"The status {status[:30]!r} is not confirmed or cancelled.")
        channel_raw = cells.get("channel", "").lower()
        channels = {c.value: c for c in Channel}
        if channel_raw and channel_raw not in channels:
            raise ValueError(f"The channel {channel_raw[:30]!r} is not one of {', '.join(channels)}.")
        amount = None
        if cells.get("amount_due"):
            try:
                amount = Decimal(cells["amount_due"]) if len(cells["amount_due"]) <= 20 else None
            except InvalidOperation:
                amount = None
            if amount is None:  # a number the engine then checks as an amount
                raise ValueError(f"The amount due {cells['amount_due'][:30]!r} is not an amount such as 1250.00.")
        stay = engine.StayIn(
            external_id=external_id, unit_id=units[unit_key], arrival=arrival, departure=departure,
            guest_name=cells["guest_name"], guest_email=cells.get("guest_email") or None,
            guest_phone=cells.get("guest_phone") or None, reference=cells.get("reference") or None,
            adults=_whole(cells, "adults", 1, 99), amount_due=amount,
            channel=channels[channel_raw] if channel_raw else None, cancelled=status in CANCELLED)
    except ValueError as err:
        return engine.BadRecord(where, str(err), excerpt, external_id=external_id)
    return engine.Located(where, stay, excerpt)


def _duplicates(parsed: Parsed) -> dict[str, list[int]]:
    """External IDs on more than one line of the file, with those lines."""
    seen: dict[str, list[int]] = {}
    for line, cells, _ in parsed.lines:
        key = " ".join(cells.get("external_id", "").split())
        if key:
            seen.setdefault(key, []).append(line)
    return {k: v for k, v in seen.items() if len(v) > 1}


def items(integration: Integration, parsed: Parsed, start: int = 0,
          stop: int | None = None) -> list[engine.Located | engine.BadRecord]:
    """The file's lines start..stop as what the engine takes, or as their errors. An external ID on several
    lines of the file is refused on each of them: which one is right is for people to say, not for the
    import to guess."""
    dupes = _duplicates(parsed)
    chosen = parsed.lines[start:stop]
    units: dict[str, int] = {}
    if parsed.what == "stays":
        wanted = {cells.get("unit_external_id", "") for _, cells, _ in chosen} - {""}
        units = dict(db.session.execute(select(Unit.external_id, Unit.id).where(
            Unit.agency_id == integration.agency_id, Unit.external_id.in_(wanted))).all()) if wanted else {}
    out: list[engine.Located | engine.BadRecord] = []
    for line, cells, excerpt in chosen:
        key = " ".join(cells.get("external_id", "").split())
        if key in dupes:
            others = ", ".join(str(n) for n in dupes[key] if n != line)
            out.append(engine.BadRecord(f"line {line}", f"The external ID {key[:60]!r} is also on line "
                                        f"{others} of this file: correct it and upload the file again.",
                                        excerpt, external_id=key))
        elif parsed.what == "units":
            out.append(_unit(line, cells, excerpt))
        else:
            out.append(_stay(line, cells, excerpt, units))
    return out


def start(integration: Integration, parsed: Parsed) -> SyncRun:
    """Record the upload's run (its total: the file's lines). Flushes."""
    return engine.start_run(integration, "upload", len(parsed.lines))


def take_lines(integration: Integration, run: SyncRun, parsed: Parsed, start: int = 0,
               stop: int | None = None) -> None:
    """Take the file's lines start..stop into `run`, each in its own savepoint: units whether or not sync is
    on; stays only while it is on (SPEC I2: when off, each is counted skipped). Flushes."""
    found = items(integration, parsed, start, stop)
    if parsed.what == "units":
        for item in found:
            if isinstance(item, engine.BadRecord):
                engine.record_error(run, item.location, item.message, item.excerpt)
                run.done += 1
            else:
                engine.take_units(integration, run, [item])
    else:
        engine.take(integration, run, found)


def finish(integration: Integration, run: SyncRun, parsed: Parsed) -> None:
    """Close the upload's run: succeeded (saying so when sync stays is off), or partial for refused lines. Flushes."""
    engine.finish_run(run)


def run_import(integration: Integration, run: SyncRun, parsed: Parsed) -> SyncRun:
    """Take the whole file into `run` and close it (a small file, in the request). Flushes."""
    take_lines(integration, run, parsed)
    finish(integration, run, parsed)
    return run


# -- a larger file: imported by a job, a chunk of lines per transaction so that its progress shows ---------

def _key(run_id: int) -> str:
    return f"portico:integrations:upload:{run_id}"


def queue_import(integration: Integration, run: SyncRun, parsed: Parsed) -> None:
    """Once the run is committed, keep the file's lines in Redis for a day and enqueue their import."""
    payload = json.dumps({"what": parsed.what, "lines": parsed.lines})
    # Guests' names and e-mails leave the database's transaction only if it commits: an upload rolled back
    # leaves nothing behind in Redis.
    db.after_commit(db.session, _keep_and_enqueue, run.id, payload)


def _keep_and_enqueue(run_id: int, payload: str) -> None:
    queue.redis().set(_key(run_id), payload, ex=KEEP_SECONDS)
    queue.get_queue("default").enqueue(import_upload, run_id, job_timeout=JOB_TIMEOUT)


def import_upload(run_id: int) -> int | None:
    """RQ job: import an uploaded file's lines into its run, CHUNK lines per transaction, so the run's page
    shows the progress and a failure keeps what was taken before it. The run's id, or None if it is gone."""
    s = db.session
    run = s.scalar(select(SyncRun).where(SyncRun.id == run_id).execution_options(all_agencies=True))
    if run is None or run.status != RunStatus.RUNNING:
        return None
    db.scope(s, run.agency_id)
    integration = s.get(Integration, run.integration_id)
    raw = queue.redis().get(_key(run_id))
    if raw is None or integration is None:
        engine.finish_run(run, "The uploaded file was lost before it was imported (the queue was reset): "
                               "upload it again.")
        return run.id
    data = json.loads(raw)
    parsed = Parsed(data["what"], [(line, cells, excerpt) for line, cells, excerpt in data["lines"]])
    try:
        for begin in range(run.done, len(parsed.lines), CHUNK):
            take_lines(integration, run, parsed, begin, begin + CHUNK)
            s.commit()  # mid-way: each chunk of lines is its own transaction, and the progress shows
        finish(integration, run, parsed)
    except Exception as error:
        s.rollback()
        engine.finish_run(s.merge(run), f"The import stopped: {type(error).__name__}: {str(error)[:300]}")
        s.commit()  # mid-way: the failed run is on record whatever happens to the job
        raise
    queue.redis().delete(_key(run_id))
    return run.id
