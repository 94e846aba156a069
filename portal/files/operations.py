"""Writes on work-order files (flush only; the caller commits, and a rollback removes the bytes again)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from typing import Any, BinaryIO

from portal import db
from portal.agencies.models import StaffUser
from portal.config import FILES_AT_ONCE
from portal.files import storage
from portal.files.models import WorkOrderFile
from portal.operations import FieldError
from portal.people.models import Person
from portal.workorders.models import WorkOrder


def add_file(order: WorkOrder, stream: BinaryIO, filename: str | None, *, person: Person | None = None,
             staff: StaffUser | None = None) -> WorkOrderFile:
    """Check an upload by its content and keep it (and a thumbnail for a photo) as a file of `order`.

    Everything is checked before anything is written: a refusal (FieldError) leaves no row and no file."""
    if (person is None) == (staff is None):
        raise ValueError("a file is uploaded by one person or one staff user")
    uploader = person or staff
    if uploader.agency_id != order.agency_id:
        raise FieldError("file", "This work order was not found.")
    checked = storage.check(storage.read_limited(stream, storage.max_bytes()))
    thumb = storage.thumbnail(checked.data) if checked.content_type != storage.PDF else None
    row = WorkOrderFile(
        agency_id=order.agency_id, work_order_id=order.id, person_id=person.id if person else None,
        staff_id=staff.id if staff else None, stored_name=storage.new_name(), original_name=clean_name(filename),
        content_type=checked.content_type, size=len(checked.data), sha256=checked.sha256,
        has_thumbnail=thumb is not None,
    )
    storage.write(db.session, storage.path_of(row.agency_id, row.stored_name), checked.data)
    if thumb is not None:
        storage.write(db.session, storage.path_of(row.agency_id, row.stored_name, thumbnail=True), thumb)
    db.session.add(row)
    db.session.flush()
    return row


MAX_AT_ONCE = min(5, FILES_AT_ONCE)  # a request's photos: within what a request may carry (MAX_CONTENT_LENGTH)


def add_uploads(order: WorkOrder, uploads: Iterable[Any], *, person: Person | None = None,
                staff: StaffUser | None = None, field: str = "file") -> list[WorkOrderFile]:
    """Keep the files a form sent (werkzeug FileStorage; empty inputs skipped), MAX_AT_ONCE at most. A refusal
    names `field`; the caller rolls back, which removes the ones already written."""
    chosen = [u for u in uploads or () if u is not None and getattr(u, "filename", None)]
    if len(chosen) > MAX_AT_ONCE:
        raise FieldError(field, f"Send {MAX_AT_ONCE} files at most at once.")
    kept = []
    for upload in chosen:
        try:
            kept.append(add_file(order, upload.stream, upload.filename, person=person, staff=staff))
        except FieldError as err:
            name = clean_name(upload.filename)
            raise FieldError(field, f"{name}: {err.message}" if name else err.message) from None
    return kept


def clean_name(filename: str | None) -> str:
    """The uploader's file name as a label: its last part, printable characters only, 200 at most."""
    name = unicodedata.normalize("NFC", (filename or "").replace("\\", "/").rsplit("/", 1)[-1])
    name = re.sub(r"[\x00-\x1f\x7f\"<>]", "", name).strip(" .")
    return name[:200]
