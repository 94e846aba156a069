"""CSV import of units and stays in the back office: the documented layout and its templates; units imported
whatever sync says, idempotently; stays only while sync is on; a file with good and bad lines keeps the good
ones and lists each bad one (line, message, text); a file with wrong columns, not UTF-8 or too big is refused
whole and nothing is recorded."""

import csv
import io
import re
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select
from werkzeug.test import EnvironBuilder

from portal import db
from portal.bookings.models import Booking, BookingStatus, Channel
from portal.integrations import csvimport
from portal.integrations.models import BookingSource, Integration, IntegrationKind, RunStatus, SyncError, SyncRun
from portal.properties.models import Property, Unit
from tests import factories as f
from tests.conftest import csrf_token
from tests.integrations import world

UNITS = ("external_id,name,property,bedrooms,capacity\n"
         "VIL-1,Villa Azul,Costa Serena Villas,3,6\n"
         "VIL-2,Villa Verde,Costa Serena Villas,2,4\n"
         "APT-7,Apartment 7,Old Town,,\n")


@pytest.fixture
def staff(app, client, login):
    with app.app_context():
        a = f.agency("alpha")
        f.staff(a)
        csv_id = world.integration(a, "Spreadsheets", IntegrationKind.CSV, sync=False).id
        db.session.commit()
    assert login("manager@alpha.example", f.PASSWORD).status_code == 302
    client.integration_id = csv_id
    return client


def _upload(client, what: str, body: bytes | str, name: str = "file.csv"):
    iid = client.integration_id
    token = csrf_token(client.get(f"/manage/integrations/{iid}").text)
    raw = body.encode() if isinstance(body, str) else body
    builder = EnvironBuilder(path=f"/manage/integrations/{iid}/upload", method="POST",
                             data={"csrf_token": token, "what": what, "file": (io.BytesIO(raw), name)})
    environ = builder.get_environ()
    try:
        return client.open(environ)
    finally:  # a large body is spooled to a temporary file: closed here, not left to the garbage collector
        environ["wsgi.input"].close()
        builder.close()


def _count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(model.id)).execution_options(all_agencies=True))


def _turn_sync_on(app, client):
    iid = client.integration_id
    token = csrf_token(client.get(f"/manage/integrations/{iid}").text)
    assert client.post(f"/manage/integrations/{iid}/sync", data={"csrf_token": token, "turn": "on",
                                                                 "confirm": "y"}).status_code == 302


def test_the_page_documents_the_layout_and_the_templates_match_it(app, staff):
    page = staff.get(f"/manage/integrations/{staff.integration_id}")
    for column in csvimport.UNIT_COLUMNS + csvimport.STAY_COLUMNS:
        assert f"<code>{column.name}</code>" in page.text
    assert 'enctype="multipart/form-data"' in page.text
    for what, layout in csvimport.LAYOUTS.items():
        got = staff.get(f"/manage/integrations/templates/{what}.csv")
        assert got.status_code == 200 and got.mimetype == "text/csv"
        assert f"portico-{what}-template.csv" in got.headers["Content-Disposition"]
        rows = list(csv.reader(io.StringIO(got.data.decode("utf-8-sig"))))
        assert rows[0] == [c.name for c in layout] and len(rows) == 2
        # The template itself imports cleanly (with its example line) once its units exist.
        assert csvimport.read(got.data, what).lines[0][1]["external_id"] == layout[0].example
    assert staff.get("/manage/integrations/templates/people.csv").status_code == 404


def test_units_are_imported_with_sync_off_and_a_second_import_duplicates_nothing(app, staff):
    first = _upload(staff, "units", "\ufeff" + UNITS)
    assert first.status_code == 302 and "/manage/integration-runs/" in first.headers["Location"]
    page = staff.get(first.headers["Location"])
    assert "succeeded" in page.text and "3 created · 0 updated" in page.text
    with app.app_context():
        units = db.session.execute(select(Unit.external_id, Unit.name, Unit.bedrooms, Unit.capacity, Property.name)
                                   .join(Property).order_by(Unit.external_id)
                                   .execution_options(all_agencies=True)).all()
        run = db.session.scalar(select(SyncRun).execution_options(all_agencies=True))
        assert (run.trigger, run.status, run.total, run.done) == ("upload", RunStatus.SUCCEEDED, 3, 3)
    assert units == [("APT-7", "Apartment 7", 1, 2, "Old Town"), ("VIL-1", "Villa Azul", 3, 6, "Costa Serena Villas"),
                     ("VIL-2", "Villa Verde", 2, 4, "Costa Serena Villas")]
    assert _count(app, Property) == 2
    # The same file again, with one unit renamed: matched by external ID, nothing duplicated.
    again = _upload(staff, "units", UNITS.replace("Villa Verde", "Villa Verde Deluxe"))
    page = staff.get(again.headers["Location"])
    assert "0 created · 1 updated" in page.text
    assert _count(app, Unit) == 3 and _count(app, Property) == 2
    listed = staff.get("/manage/integrations")
    assert "Spreadsheets" in listed.text and "badge-run-succeeded" in listed.text


def test_stays_are_skipped_while_sync_is_off_and_taken_once_it_is_on(app, staff):
    _upload(staff, "units", UNITS)
    arrival = date.today() + timedelta(days=30)
    stays = ("external_id,unit_external_id,arrival,departure,guest_name,guest_email\n"
             f"R-1,VIL-1,{arrival},{arrival + timedelta(days=4)},Maria Lopez,maria@example.com\n")
    off = _upload(staff, "stays", stays)
    page = staff.get(off.headers["Location"])
    assert "Sync stays is off: 1 stay not taken." in page.text and "1 skipped" in page.text
    assert 'id="run-status">succeeded<' in page.text  # as an iCal run with sync off: nothing went wrong
    assert _count(app, Booking) == 0
    _turn_sync_on(app, staff)
    on = _upload(staff, "stays", stays)
    assert "1 created" in staff.get(on.headers["Location"]).text
    with app.app_context():
        booking = db.session.scalar(select(Booking).execution_options(all_agencies=True))
        assert (booking.arrival, booking.nights, booking.guest.name, booking.status) == (
            arrival, 4, "Maria Lopez", BookingStatus.CONFIRMED)
        source = db.session.scalar(select(BookingSource).execution_options(all_agencies=True))
        assert source.external_id == "R-1"
        booking_id = booking.id
    # The booking's page says where it came from; the bookings list filters by integration.
    shown = staff.get(f"/manage/bookings/{booking_id}")
    assert "Spreadsheets" in shown.text and "<code>R-1</code>" in shown.text and "first seen" in shown.text
    listed = staff.get(f"/manage/bookings?integration={staff.integration_id}")
    assert booking_reference(app, booking_id) in listed.text
    # Read twice: the same booking, not a second one.
    _upload(staff, "stays", stays)
    assert _count(app, Booking) == 1


def booking_reference(app, booking_id: int) -> str:
    with app.app_context():
        return db.session.scalar(select(Booking.reference).where(Booking.id == booking_id)
                                 .execution_options(all_agencies=True))


def test_good_lines_are_imported_and_each_bad_one_is_an_error_with_its_line(app, staff):
    _upload(staff, "units", UNITS)
    _turn_sync_on(app, staff)
    d = date.today() + timedelta(days=40)
    lines = [
        "external_id,unit_external_id,arrival,departure,guest_name,guest_email,adults,amount_due,channel,status",
        f"G-1,VIL-1,{d},{d + timedelta(days=3)},Ann Good,ann@example.com,2,900.00,airbnb,confirmed",  # line 2
        f"B-1,VIL-1,{d.strftime('%d/%m/%Y')},{d + timedelta(days=3)},Bad Date,,2,,,",  # line 3
        f"B-2,VIL-2,{d},{d - timedelta(days=2)},Backwards,,2,,,",  # line 4
        f"B-3,NOPE-9,{d},{d + timedelta(days=2)},No Unit,,2,,,",  # line 5
        f"D-1,VIL-2,{d},{d + timedelta(days=2)},Twice A,,2,,,",  # line 6
        f"G-2,APT-7,{d},{d + timedelta(days=5)},Ben Good,,3,450.5,booking.com,",  # line 7
        f"D-1,APT-7,{d + timedelta(days=9)},{d + timedelta(days=12)},Twice B,,2,,,",  # line 8
        f"B-4,VIL-2,{d + timedelta(days=20)},{d + timedelta(days=22)},Bad Amount,,2,12abc,,",  # line 9
        f"B-5,VIL-2,{d + timedelta(days=30)},{d + timedelta(days=32)},Bad Channel,,2,,telegraph,",  # line 10
        f"B-6,VIL-2,{d + timedelta(days=40)},{d + timedelta(days=42)},Bad Email,not-an-email,2,,,",  # line 11
    ]
    response = _upload(staff, "stays", "\n".join(lines) + "\n")
    assert response.status_code == 302
    with app.app_context():
        run = db.session.scalar(select(SyncRun).where(SyncRun.total == 10).execution_options(all_agencies=True))
        errors = {e.location: (e.message, e.excerpt) for e in db.session.scalars(
            select(SyncError).where(SyncError.run_id == run.id).execution_options(all_agencies=True))}
        taken = dict(db.session.execute(select(BookingSource.external_id, Booking.amount_due)
                                        .join(Booking, Booking.id == BookingSource.booking_id)
                                        .execution_options(all_agencies=True)).all())
        assert (run.status, run.created, run.done, run.total) == (RunStatus.PARTIAL, 2, 10, 10)
    assert taken == {"G-1": 900, "G-2": 450.5}
    assert set(errors) == {f"line {n}" for n in (3, 4, 5, 6, 8, 9, 10, 11)}
    assert "YYYY-MM-DD" in errors["line 3"][0] and errors["line 3"][1].startswith("B-1,VIL-1,")
    assert "must be after arrival" in errors["line 4"][0]  # the engine's words, on the line they came from
    assert "no unit with the external ID 'NOPE-9'" in errors["line 5"][0]
    assert "also on line 8" in errors["line 6"][0] and "also on line 6" in errors["line 8"][0]
    assert "12abc" in errors["line 9"][0]
    assert "telegraph" in errors["line 10"][0]
    assert "not-an-email" in errors["line 11"][0]  # refused by the engine, in its own savepoint
    assert _count(app, Booking) == 2  # nothing of a bad line is half-written (no guest, no booking)
    with app.app_context():
        from portal.people.models import Person

        names = set(db.session.scalars(select(Person.name).execution_options(all_agencies=True)))
    assert names == {"Ann Good", "Ben Good"}
    page = staff.get(response.headers["Location"])
    assert "partial" in page.text and "line 5" in page.text and "NOPE-9" in page.text
    with app.app_context():
        channel = db.session.scalar(select(Booking.channel).where(Booking.adults == 3)
                                    .execution_options(all_agencies=True))
    assert channel == Channel.BOOKING_COM


@pytest.mark.parametrize(("body", "message"), [
    ("id,title\n1,x\n", "This is not a units file: it lacks external_id, name, property"),
    ("external_id,name,property,colour\nA,B,C,red\n", "it has columns this layout does not know: 'colour'"),
    ("external_id,name,property,name\nA,B,C,D\n", "The column &#39;name&#39; appears twice"),
    ("", "The file is empty."),
    ("external_id,name,property\n", "a header line but no data lines"),
    (b"external_id,name,property\nA,Caf\xe9,C\n", "The file is not UTF-8 text (line 2"),
    (b"\xff\xfee\x00x\x00", "The file is UTF-16 text"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00IHDR", "not UTF-8 text"),
])
def test_a_file_that_is_not_the_layout_is_refused_whole(app, staff, body, message):
    response = _upload(staff, "units", body)
    assert response.status_code == 422
    assert message.replace("'", "&#39;") in response.text or message in response.text
    assert "Nothing was imported." in response.text
    assert _count(app, Unit) == 0 and _count(app, SyncRun) == 0


def test_ten_megabytes_of_junk_is_a_clear_error(app, staff):
    junk = (b"external_id,name,property\n" + b"\x00\x01junk" * (10 * 1024 * 1024 // 6))[:10 * 1024 * 1024]
    response = _upload(staff, "units", junk)
    assert response.status_code == 422
    assert "The file is larger than 5 MB: split it into smaller files. Nothing was imported." in response.text
    assert _count(app, SyncRun) == 0


def test_no_file_or_another_kind_of_integration_is_a_form_error(app, staff):
    iid = staff.integration_id
    token = csrf_token(staff.get(f"/manage/integrations/{iid}").text)
    none = staff.post(f"/manage/integrations/{iid}/upload", data={"csrf_token": token, "what": "units"})
    assert none.status_code == 422 and "Choose the CSV file to upload." in none.text
    with app.app_context():
        ical = db.session.scalar(select(Integration).execution_options(all_agencies=True))
        db.scope(db.session, ical.agency_id)
        from portal.agencies.models import Agency

        other = world.integration(db.session.get(Agency, ical.agency_id), "Calendars", IntegrationKind.ICAL).id
        db.session.commit()
    staff.integration_id = other
    refused = _upload(staff, "units", UNITS)
    assert refused.status_code == 422 and "Only a CSV integration takes files." in refused.text
    assert _count(app, Unit) == 0


def test_a_line_with_a_formula_cell_is_read_as_text(app, staff):
    body = "external_id,name,property\nF-1,'=HYPERLINK(\"x\"),Costa\n"
    response = _upload(staff, "units", body)
    assert response.status_code == 302
    with app.app_context():
        name = db.session.scalar(select(Unit.name).execution_options(all_agencies=True))
    assert name == '=HYPERLINK("x")'
    assert re.search("succeeded", staff.get(response.headers["Location"]).text)


def test_a_larger_file_is_imported_by_a_job_whose_progress_the_run_page_follows(app, staff, run_jobs):
    count = csvimport.INLINE_LINES + csvimport.CHUNK // 2 + 1  # more than the request takes; two chunks
    body = "external_id,name,property\n" + "".join(f"U-{i},Unit {i},Block {i % 3}\n" for i in range(count))
    body += "U-bad,,Block 1\n"  # line count + 2: no name
    response = _upload(staff, "units", body)
    assert response.status_code == 302
    page = staff.get(response.headers["Location"])
    assert "running" in page.text and 'data-status-url="/manage/integration-runs/' in page.text
    assert f'<progress max="{count + 1}" value="0"' in page.text
    status_url = re.search(r'data-status-url="([^"]+)"', page.text).group(1)
    assert staff.get(status_url).json["finished"] is False
    assert _count(app, Unit) == 0  # nothing before the job
    run_jobs()
    status = staff.get(status_url).json
    assert (status["status"], status["done"], status["total"], status["units_created"], status["errors"]) == (
        "partial", count + 1, count + 1, count, 1)
    assert _count(app, Unit) == count
    done = staff.get(response.headers["Location"])
    assert "data-status-url" not in done.text and f"line {count + 2}" in done.text
    with app.app_context():
        assert app.extensions["redis"].keys("portico:integrations:upload:*") == []


def test_a_queued_file_lost_by_redis_fails_its_run_with_a_reason(app, staff, run_jobs):
    body = "external_id,name,property\n" + "".join(f"U-{i},Unit {i},Block\n" for i in range(150))
    response = _upload(staff, "units", body)
    with app.app_context():
        for key in app.extensions["redis"].keys("portico:integrations:upload:*"):
            app.extensions["redis"].delete(key)
    run_jobs()
    page = staff.get(response.headers["Location"])
    assert "badge-run-failed" in page.text and "The uploaded file was lost" in page.text
    assert _count(app, Unit) == 0


def test_spreadsheet_habits_in_the_header_are_understood_and_extra_cells_refused(app, staff):
    body = ("External ID,Name,Property,\n"  # headings as people type them, and a trailing comma
            "S-1,Studio 1,Harbour House,\n"
            "S-2,Studio 2,Harbour House,,surprise\n")  # line 3: a cell beyond the header
    response = _upload(staff, "units", body)
    assert response.status_code == 302
    page = staff.get(response.headers["Location"])
    assert "line 3" in page.text and "more cells than the header has columns" in page.text
    with app.app_context():
        assert list(db.session.scalars(select(Unit.name).execution_options(all_agencies=True))) == ["Studio 1"]


def test_a_units_line_without_its_external_id_says_external_id_as_the_page_writes_it(app, staff):
    response = _upload(staff, "units", "external_id,name,property\n,Villa Azul,Costa Serena Villas\n")
    with app.app_context():
        messages = list(db.session.scalars(select(SyncError.message).execution_options(all_agencies=True)))
    assert response.status_code == 302 and messages == ["The external ID is missing."]


def test_a_larger_files_lines_reach_redis_only_once_its_run_is_committed(app, ctx):
    a = f.agency("alpha")
    source = world.integration(a, "Sheet", IntegrationKind.CSV)
    db.session.commit()
    body = "external_id,name,property\n" + "".join(f"U-{i},Guest Unit {i},Block\n" for i in range(3))
    parsed = csvimport.read(body.encode(), "units")
    redis = app.extensions["redis"]
    for outcome in ("rollback", "commit"):
        run = csvimport.start(source, parsed)
        csvimport.queue_import(source, run, parsed)
        assert redis.keys("portico:integrations:upload:*") == []  # nothing leaves before the commit
        getattr(db.session, outcome)()
        db.scope(db.session, a.id)
    [kept] = redis.keys("portico:integrations:upload:*")
    assert b"Guest Unit 2" in redis.get(kept)
    redis.delete(kept)
