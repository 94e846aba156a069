"""Work-order files: checked by content (never by name), size-limited, stored under random names with a
thumbnail, removed again when the transaction does not commit, served only to those who may see the order."""

import hashlib
import io
import struct
import zlib
from pathlib import Path

import pytest
from PIL import Image, PngImagePlugin
from sqlalchemy import func, select

from portal import db
from portal.config import from_environment
from portal.files import storage
from portal.files.models import WorkOrderFile
from portal.files.operations import add_file, clean_name
from portal.files.queries import may_see_order
from portal.operations import FieldError
from portal.workorders.models import WorkStatus
from portal.workorders.operations import submit_request
from tests import factories as f


def jpeg(size=(640, 480), **save) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(out, "JPEG", **save)
    return out.getvalue()


def png(size=(400, 300), **save) -> bytes:
    out = io.BytesIO()
    Image.new("RGBA", size, (20, 120, 200, 255)).save(out, "PNG", **save)
    return out.getvalue()


def pillow_pdf() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (595, 842), "white").save(out, "PDF", title="Invoice 42")
    return out.getvalue()


PDF = (b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n"
       b"2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\n"
       b"trailer << /Root 1 0 R >>\n%%EOF\n")


def _files_on_disk() -> set[Path]:
    root = storage.upload_dir()
    return {p for p in root.rglob("*") if p.is_file()} if root.exists() else set()


def _rows() -> int:
    return db.session.scalar(select(func.count(WorkOrderFile.id)).execution_options(all_agencies=True))


@pytest.fixture
def world(ctx):
    a = f.agency("alpha")
    staff = f.staff(a)
    tom = f.person(a, "Tom Tenant", "tom@example.com", roles=["tenant"])
    vic = f.person(a, "Vic Vendor", "vic@example.com", roles=["vendor"])
    olga = f.person(a, "Olga Owner", "olga@example.com", roles=["owner"])
    unit = f.unit(a)
    unit.owners.append(olga)
    order = submit_request(tom, unit, "repair", "Broken window", "The kitchen window is cracked")
    order.vendor_id, order.status = vic.id, WorkStatus.TRIAGED  # offered to the vendor
    db.session.flush()
    return {"agency": a, "staff": staff, "tenant": tom, "vendor": vic, "owner": olga, "unit": unit, "order": order}


@pytest.mark.parametrize(("data", "content_type", "thumb"), [
    (jpeg(), "image/jpeg", True),
    (jpeg(progressive=True, comment=b"holiday flat"), "image/jpeg", True),
    (png(), "image/png", True),
    (PDF, "application/pdf", False),
    (pillow_pdf(), "application/pdf", False),
])
def test_valid_photos_and_pdfs_are_kept_with_a_random_name_and_a_thumbnail(world, data, content_type, thumb):
    row = add_file(world["order"], io.BytesIO(data), "../../etc/My photo.jpg", person=world["tenant"])
    db.session.commit()
    assert (row.content_type, row.size, row.sha256) == (content_type, len(data), hashlib.sha256(data).hexdigest())
    assert row.original_name == "My photo.jpg" and row.person_id == world["tenant"].id and row.staff_id is None
    path = storage.path_of(row.agency_id, row.stored_name)
    assert path.read_bytes() == data
    assert "photo" not in str(path) and path.parent == storage.upload_dir() / str(world["agency"].id)
    thumb_path = storage.path_of(row.agency_id, row.stored_name, thumbnail=True)
    assert row.has_thumbnail is thumb and thumb_path.exists() is thumb
    if thumb:
        with Image.open(thumb_path) as im:
            assert im.format == "JPEG" and max(im.size) == 320 and max(im.size) <= max(storage.THUMB_SIZE)


def test_stored_names_are_random_and_never_a_path(world):
    a = add_file(world["order"], io.BytesIO(PDF), "invoice.pdf", staff=world["staff"])
    b = add_file(world["order"], io.BytesIO(PDF), "invoice.pdf", staff=world["staff"])
    assert a.stored_name != b.stored_name and len(a.stored_name) == 32
    with pytest.raises(ValueError):
        storage.path_of(a.agency_id, "../../secret_keys")
    assert clean_name('C:\\Users\\x\\<b>"bill".pdf\x00') == "bbill.pdf"


def _refused(world, data, message_part, **kw):
    before_rows, before_files = _rows(), _files_on_disk()
    with pytest.raises(FieldError) as refused:
        add_file(world["order"], io.BytesIO(data), kw.get("name", "photo.jpg"), person=world["tenant"])
    assert refused.value.field == "file" and message_part in refused.value.message
    assert _rows() == before_rows and _files_on_disk() == before_files
    return refused.value


def test_an_oversize_file_is_refused_and_nothing_is_written(app, world, monkeypatch):
    data = jpeg((800, 800), quality=95)
    monkeypatch.setitem(app.config, "UPLOAD_MAX_BYTES", len(data) - 1)
    _refused(world, data, "too large")
    monkeypatch.setitem(app.config, "UPLOAD_MAX_BYTES", len(data))
    assert add_file(world["order"], io.BytesIO(data), "x.jpg", person=world["tenant"]).size == len(data)


def _gif() -> bytes:
    out = io.BytesIO()
    Image.new("P", (10, 10)).save(out, "GIF")
    return out.getvalue()


@pytest.mark.parametrize(("data", "name"), [
    (b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>", "photo.jpg"),
    (b"<!DOCTYPE html><html><body>hi</body></html>", "photo.png"),
    (b"just some text, not a photo", "notes.pdf"),
    (b"MZ\x90\x00\x03\x00\x00\x00", "photo.jpg"),
    (_gif(), "anim.gif"),
    (b"", "empty.jpg"),
])
def test_anything_but_jpeg_png_pdf_is_refused_whatever_its_name(world, data, name):
    _refused(world, data, "", name=name)


def _png_with_text(text: bytes) -> bytes:
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", text.decode())
    return png(pnginfo=info)


def _png_after_iend(extra: bytes) -> bytes:
    return png() + extra


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


@pytest.mark.parametrize(("data", "message_part"), [
    (jpeg() + b"<html><script>alert(document.cookie)</script></html>", "markup"),
    (jpeg(comment=b"<script>alert(1)</script>"), "markup"),
    (jpeg() + b"PK\x03\x04 a zip archive rides along", "appended"),
    (_png_with_text(b"<svg onload=alert(1)>"), "markup"),
    (_png_after_iend(b"GIF89a;alert(1)"), "appended"),
    (PDF + b"<html><body onload=alert(1)></body></html>%%EOF", "markup"),
    (PDF.replace(b"/Type /Catalog", b"/Type /Catalog /OpenAction << /S /JavaScript /JS (app.alert(1)) >>"), "script"),
    (jpeg()[:600], "damaged"),  # a truncated photo
    (b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", b"\x00" * 13) + _png_chunk(b"IEND", b""), "damaged"),
    (b"%PDF-1.4\n not finished", "incomplete"),
    (PDF + b"PK\x03\x04 a small zip archive after the end", "appended"),
])
def test_polyglots_and_damaged_files_are_refused(world, data, message_part):
    _refused(world, data, message_part)


def test_a_decompression_bomb_is_refused(world):
    out = io.BytesIO()
    Image.new("1", (10000, 10000)).save(out, "PNG")  # 100 megapixels in a few kilobytes
    _refused(world, out.getvalue(), "too large")


def test_files_of_a_transaction_that_does_not_commit_are_removed(world):
    kept = add_file(world["order"], io.BytesIO(jpeg()), "a.jpg", person=world["tenant"])
    db.session.commit()
    kept_path = storage.path_of(kept.agency_id, kept.stored_name)
    order = world["order"]
    dropped = add_file(order, io.BytesIO(png()), "b.png", person=world["tenant"])
    paths = [storage.path_of(dropped.agency_id, dropped.stored_name, thumbnail=t) for t in (False, True)]
    assert all(p.exists() for p in paths)
    db.session.rollback()
    assert not any(p.exists() for p in paths) and kept_path.exists()
    # A savepoint rolled back removes its own file only; the rest commits.
    outer = add_file(order, io.BytesIO(PDF), "c.pdf", staff=world["staff"])
    with db.session.begin_nested() as savepoint:
        inner = add_file(order, io.BytesIO(PDF), "d.pdf", staff=world["staff"])
        inner_path = storage.path_of(inner.agency_id, inner.stored_name)
        savepoint.rollback()
    outer_path = storage.path_of(outer.agency_id, outer.stored_name)
    assert not inner_path.exists() and outer_path.exists()
    db.session.commit()
    assert outer_path.exists()
    # A session closed without a commit (a request that failed) keeps nothing either.
    lost = add_file(order, io.BytesIO(PDF), "e.pdf", staff=world["staff"])
    lost_path = storage.path_of(lost.agency_id, lost.stored_name)
    db.session.close()
    assert not lost_path.exists() and outer_path.exists()


def test_who_may_see_an_orders_files(world):
    order, a = world["order"], world["agency"]
    stranger = f.person(a, "Sam Stranger", "sam@example.com", roles=["tenant", "vendor", "owner"])
    beta = f.agency("beta")
    beta_staff = f.staff(beta)
    beta_person = f.person(beta, "Tom Tenant", "tom@example.com", roles=["tenant"])
    db.scope(db.session, a.id)
    allowed = {"staff": world["staff"], "requester": world["tenant"], "vendor": world["vendor"],
               "owner": world["owner"]}
    for who, viewer in allowed.items():
        kw = {"staff": viewer} if who == "staff" else {"person": viewer}
        assert may_see_order(order, **kw), who
    assert not may_see_order(order, person=stranger)
    assert not may_see_order(order, staff=beta_staff)
    assert not may_see_order(order, person=beta_person)
    assert not may_see_order(order)
    order.vendor_id = None  # a vendor no longer assigned sees nothing
    assert not may_see_order(order, person=world["vendor"])


def test_config_upload_limits_follow_the_environment():
    found = from_environment({"UPLOAD_MAX_BYTES": "2097152", "UPLOAD_DIR": "/srv/portico/files"})
    assert found["UPLOAD_MAX_BYTES"] == 2097152 and found["UPLOAD_DIR"] == "/srv/portico/files"
    assert found["MAX_CONTENT_LENGTH"] > found["UPLOAD_MAX_BYTES"]


def test_the_upload_folder_is_where_the_readiness_check_watches_the_disk(app, monkeypatch, tmp_path):
    from portal.health import disk_paths

    with app.app_context():
        assert storage.upload_dir() == Path(app.instance_path) / "uploads"
        monkeypatch.setitem(app.config, "UPLOAD_DIR", str(tmp_path / "files"))
        assert storage.upload_dir() == tmp_path / "files" and tmp_path / "files" in disk_paths()


def test_the_request_limit_leaves_room_for_the_largest_upload(app):
    assert app.config["MAX_CONTENT_LENGTH"] > app.config["UPLOAD_MAX_BYTES"] >= 10 * 1024 * 1024


# -- the back office's file routes -------------------------------------------------------------------


@pytest.fixture
def staff_files(app, client, login):
    with app.app_context():
        a = f.agency("alpha")
        staff = f.staff(a)
        tom = f.person(a, "Tom Tenant", "tom@example.com", roles=["tenant"])
        unit = f.unit(a)
        order = submit_request(tom, unit, "repair", "Leak", "Under the sink")
        other = submit_request(tom, unit, "repair", "Door", "Squeaks")
        photo = add_file(order, io.BytesIO(jpeg()), "leak.jpg", person=tom)
        pdf = add_file(order, io.BytesIO(PDF), "quote.pdf", staff=staff)
        b = f.agency("beta")
        b_tenant = f.person(b, "Bea", "bea@example.com", roles=["tenant"])
        b_order = submit_request(b_tenant, f.unit(b), "repair", "Tap", "Drips")
        b_photo = add_file(b_order, io.BytesIO(png()), "tap.png", person=b_tenant)
        ids = {"order": order.id, "other": other.id, "photo": photo.id, "pdf": pdf.id, "b_order": b_order.id,
               "b_photo": b_photo.id, "photo_bytes": jpeg()}
        db.session.commit()
    assert login("manager@alpha.example", f.PASSWORD).status_code == 302
    return ids


def test_staff_see_a_photo_its_thumbnail_and_a_pdf_with_safe_headers(client, staff_files):
    ids = staff_files
    responses = []

    def get(url):
        responses.append(client.get(url))
        return responses[-1]

    photo = get(f"/manage/workorders/{ids['order']}/files/{ids['photo']}")
    assert photo.status_code == 200 and photo.mimetype == "image/jpeg"
    assert photo.data == ids["photo_bytes"]
    assert "sandbox" in photo.headers["Content-Security-Policy"]
    assert photo.headers["X-Content-Type-Options"] == "nosniff"
    thumb = get(f"/manage/workorders/{ids['order']}/files/{ids['photo']}/thumb")
    assert thumb.status_code == 200 and thumb.mimetype == "image/jpeg"
    with Image.open(io.BytesIO(thumb.data)) as im:
        assert max(im.size) <= 320
    pdf = get(f"/manage/workorders/{ids['order']}/files/{ids['pdf']}")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf" and pdf.data == PDF
    assert pdf.headers["Content-Disposition"].startswith("attachment")
    assert get(f"/manage/workorders/{ids['order']}/files/{ids['pdf']}/thumb").status_code == 404
    for response in responses:
        response.close()


def test_a_foreign_or_mismatched_file_is_404(client, staff_files):
    ids = staff_files
    for url in (
        f"/manage/workorders/{ids['b_order']}/files/{ids['b_photo']}",  # another agency's order and file
        f"/manage/workorders/{ids['order']}/files/{ids['b_photo']}",  # another agency's file under ours
        f"/manage/workorders/{ids['b_order']}/files/{ids['b_photo']}/thumb",
        f"/manage/workorders/{ids['other']}/files/{ids['photo']}",  # our file under another of our orders
        f"/manage/workorders/{ids['order']}/files/999999",
        f"/manage/workorders/{ids['order']}/files/99999999999",
    ):
        response = client.get(url)
        assert response.status_code == 404 and "could not find" in response.text, url


def test_file_routes_need_a_staff_sign_in(app, staff_files):
    anonymous = app.test_client()
    response = anonymous.get(f"/manage/workorders/{staff_files['order']}/files/{staff_files['photo']}")
    assert response.status_code == 302 and "/manage/login" in response.headers["Location"]


def test_files_stay_in_their_agencys_folder(app, staff_files):
    with app.app_context():
        rows = db.session.scalars(select(WorkOrderFile).execution_options(all_agencies=True)).all()
        for row in rows:
            path = storage.path_of(row.agency_id, row.stored_name)
            assert path.parent.name == str(row.agency_id) and path.exists()


def test_a_request_may_carry_the_most_files_a_form_takes_at_once():
    """Ten photos of the largest size (the vendor's form) pass Flask's limit; the tenant's and guest's five too."""
    from portal.config import FILES_AT_ONCE, defaults
    from portal.files.operations import MAX_AT_ONCE
    from portals.vendor.forms import PHOTOS_AT_ONCE

    found = from_environment({"UPLOAD_MAX_BYTES": "2097152"})
    assert found["MAX_CONTENT_LENGTH"] >= FILES_AT_ONCE * 2097152 >= PHOTOS_AT_ONCE * 2097152
    assert PHOTOS_AT_ONCE == FILES_AT_ONCE >= MAX_AT_ONCE == 5
    plain = defaults("/tmp")
    assert plain["MAX_CONTENT_LENGTH"] >= 10 * plain["UPLOAD_MAX_BYTES"]
