"""Sending a stored file to a browser: its checked type, never sniffed, never run."""

from __future__ import annotations

from flask import Response, abort, send_file

from portal.files import storage
from portal.files.models import WorkOrderFile

FILE_CSP = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; frame-ancestors 'self'; sandbox"


def send(row: WorkOrderFile, *, thumbnail: bool = False) -> Response:
    """The file's bytes (or its thumbnail's) with headers that keep a browser from running anything in it;
    the caller has checked who asks (portal.files.queries.get_file)."""
    if thumbnail and not row.has_thumbnail:
        abort(404)
    path = storage.path_of(row.agency_id, row.stored_name, thumbnail=thumbnail)
    if not path.is_file():
        abort(404)
    response = send_file(
        path, mimetype="image/jpeg" if thumbnail else row.content_type, conditional=True,
        etag=row.sha256 + ("-thumb" if thumbnail else ""),
        download_name=(row.original_name or f"file-{row.id}") if not thumbnail else f"thumb-{row.id}.jpg",
        # A PDF is downloaded, not opened in the site's origin; photos are shown.
        as_attachment=row.content_type == storage.PDF and not thumbnail, max_age=0,
    )
    # Shown in a sandbox with nothing allowed: were a file ever more than it seems, it could run nothing.
    response.headers["Content-Security-Policy"] = FILE_CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-cache"
    return response
