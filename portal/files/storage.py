"""The bytes of uploaded files: what is accepted (by content, never by name), where it is kept, thumbnails.

Accepted: JPEG and PNG photos that Pillow reads whole, with nothing after the image's end and no
markup anywhere in them; PDFs that start with %PDF- and end with %%EOF, with no markup or script.
A file that is two things at once (a JPEG header followed by HTML, a PNG with a <script> in a text
chunk) is refused: a browser or a viewer could take it for the other thing."""

from __future__ import annotations

import hashlib
import io
import os
import re
import secrets
import struct
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from flask import current_app
from PIL import Image, ImageOps, UnidentifiedImageError
from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

from portal.operations import FieldError

JPEG, PNG, PDF = "image/jpeg", "image/png", "application/pdf"
MAX_PIXELS = 50_000_000  # a 50-megapixel photo; beyond it decoding could eat the memory of a worker
THUMB_SIZE = (320, 320)
# Markup or script inside an image or a PDF: the signs of a polyglot (case-insensitive).
# (Not <?xml: photo editors write XMP metadata as XML, which no browser runs from an image.)
_MARKUP = re.compile(rb"<\s*(?:script|html|body|svg|iframe|object|embed|!doctype)|javascript:", re.IGNORECASE)
_PDF_SCRIPT = re.compile(rb"/(?:JavaScript|JS|Launch|EmbeddedFile|XFA)\b")
WHAT = "Send a photo (JPEG or PNG) or a PDF."


@dataclass(frozen=True)
class Checked:
    """An upload that passed every check."""

    data: bytes
    content_type: str
    sha256: str


def upload_dir() -> Path:
    """Where files are kept: UPLOAD_DIR, or uploads/ in the instance folder."""
    configured = current_app.config.get("UPLOAD_DIR")
    return Path(configured) if configured else Path(current_app.instance_path) / "uploads"


def max_bytes() -> int:
    """The largest file accepted (UPLOAD_MAX_BYTES)."""
    return int(current_app.config["UPLOAD_MAX_BYTES"])


def read_limited(stream: BinaryIO, limit: int) -> bytes:
    """At most `limit` bytes of `stream`; FieldError when there are more (the rest is never read)."""
    data = stream.read(limit + 1)
    if len(data) > limit:
        raise FieldError("file", f"That file is too large: {limit // (1024 * 1024) or 1} MB at most.")
    return data


def check(data: bytes, what: str = WHAT, *, pdf: bool = True) -> Checked:
    """What the bytes are, by their content; FieldError for anything but a clean JPEG, PNG or (unless `pdf` is
    False) PDF. `what` ends each refusal: which kinds of file the caller accepts."""
    if not data:
        raise FieldError("file", "That file is empty. " + what)
    if _MARKUP.search(data):
        raise FieldError("file", "That file contains web markup or script. " + what)
    if data.startswith(b"%PDF-"):
        if not pdf:
            raise FieldError("file", "That is a PDF, not a photo. " + what)
        content_type = _check_pdf(data, what)
    elif data.startswith(b"\xff\xd8\xff"):
        content_type = _check_image(data, "JPEG", JPEG, _jpeg_end(data), what)
    elif data.startswith(b"\x89PNG\r\n\x1a\n"):
        content_type = _check_image(data, "PNG", PNG, _png_end(data), what)
    else:
        raise FieldError("file", ("That is not a photo or a PDF. " if pdf else "That is not a photo. ") + what)
    return Checked(data, content_type, hashlib.sha256(data).hexdigest())


def _check_pdf(data: bytes, what: str) -> str:
    end = data.rfind(b"%%EOF")
    if end < 0:
        raise FieldError("file", "That PDF is incomplete or damaged.")
    if data[end + 5:].strip(b"\x00\r\n\t "):
        raise FieldError("file", "That PDF has something else appended to it. " + what)
    if _PDF_SCRIPT.search(data):
        raise FieldError("file", "That PDF contains script or embedded files; print it to a plain PDF.")
    return PDF


def _check_image(data: bytes, pil_format: str, content_type: str, end: int | None, what: str) -> str:
    damaged = FieldError("file", "That photo is damaged or not a real image. " + what)
    too_large = FieldError("file", "That photo is too large (50 megapixels at most).")
    if end is None:
        raise damaged
    if data[end:].strip(b"\x00\r\n\t "):
        # Bytes after the image's end: where a polyglot keeps its second self.
        raise FieldError("file", "That photo has something else appended to it. " + what)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # a photo's odd metadata is no reason to refuse it
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=(pil_format,)) as im:
                if im.format != pil_format:
                    raise damaged
                if im.width * im.height > MAX_PIXELS:
                    raise too_large
                im.verify()
            with Image.open(io.BytesIO(data), formats=(pil_format,)) as im:
                im.load()  # verify() skips the pixels; a truncated photo fails only here
    except FieldError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise too_large from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, struct.error):
        raise damaged from None
    return content_type


def _png_end(data: bytes) -> int | None:
    """The offset just after the IEND chunk, walking the chunks; None when the structure is broken."""
    pos = 8
    while pos + 12 <= len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        pos += 12 + length
        if kind == b"IEND":
            return pos if pos <= len(data) else None
    return None


def _jpeg_end(data: bytes) -> int | None:
    """The offset just after the EOI marker, walking the segments and scans; None when broken."""
    pos, n = 2, len(data)
    while pos + 2 <= n:
        if data[pos] != 0xFF:
            return None
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker == 0xD9:
            return pos + 2
        if 0xD0 <= marker <= 0xD7 or marker == 0x01:
            pos += 2
            continue
        if pos + 4 > n:
            return None
        length = struct.unpack(">H", data[pos + 2:pos + 4])[0]
        if length < 2:
            return None
        pos += 2 + length
        if marker == 0xDA:  # start of scan: entropy-coded data runs to the next real marker
            while pos + 1 < n and not (data[pos] == 0xFF and data[pos + 1] not in (0x00, *range(0xD0, 0xD8))):
                pos += 1
    return None


def new_name() -> str:
    """A random stored name (128 bits): the only name a file has on disk."""
    return secrets.token_hex(16)


def path_of(agency_id: int, stored_name: str, *, thumbnail: bool = False) -> Path:
    """Where a stored file (or its thumbnail) lives."""
    if not re.fullmatch(r"[0-9a-f]{32}", stored_name):
        raise ValueError("not a stored name")
    return upload_dir() / str(int(agency_id)) / (stored_name + (".thumb.jpg" if thumbnail else ""))


def thumbnail(data: bytes) -> bytes:
    """A JPEG of at most THUMB_SIZE, turned upright (EXIF orientation) and without any metadata."""
    with warnings.catch_warnings(), Image.open(io.BytesIO(data)) as im:
        warnings.simplefilter("ignore")
        im = ImageOps.exif_transpose(im)
        im.thumbnail(THUMB_SIZE, Image.Resampling.LANCZOS)
        out = io.BytesIO()
        im.convert("RGB").save(out, "JPEG", quality=80)
        return out.getvalue()


def write(session: Session, path: Path, data: bytes) -> None:
    """Write `data` at `path` atomically; the file is removed again if `session`'s transaction rolls back."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".part")
    try:
        with open(tmp, "xb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    transaction = session.get_nested_transaction() or session.get_transaction()
    session.info.setdefault(_WRITTEN, []).append((path, transaction))


# -- files of a transaction that does not commit are removed ----------------------------------------
# The bytes are written while the request runs (so a full disk is the request's error, before any row
# is committed); if the transaction then rolls back, or ends without a commit, they are removed, so no
# file outlives the row that would have named it. A savepoint rolled back removes only its own files.

_WRITTEN = "files.written"


def _within(transaction: SessionTransaction | None, ancestor: SessionTransaction) -> bool:
    while transaction is not None:
        if transaction is ancestor:
            return True
        transaction = transaction.parent
    return False


def _remove(paths: list[Path]) -> None:
    for path in paths:
        path.unlink(missing_ok=True)


@event.listens_for(Session, "after_commit")
def _keep(session: Session) -> None:
    if not session.in_nested_transaction():
        session.info.pop(_WRITTEN, None)


@event.listens_for(Session, "after_soft_rollback")
def _rolled_back(session: Session, previous_transaction: SessionTransaction) -> None:
    written = session.info.get(_WRITTEN)
    if not written:
        return
    gone = [(p, t) for p, t in written if _within(t, previous_transaction)]
    _remove([p for p, _ in gone])
    session.info[_WRITTEN] = [entry for entry in written if entry not in gone]


@event.listens_for(Session, "after_transaction_end")
def _ended(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None and not transaction.nested:  # the real transaction ended uncommitted
        _remove([p for p, _ in session.info.pop(_WRITTEN, [])])
