"""A unit's availability as an iCalendar feed at a secret URL: made and revoked on the unit's page (POST with
CSRF), served to anyone with the URL as text/calendar with only "Reserved" and "Not available" (no guest's
name, e-mail or reference); a revoked or unknown token is a friendly 404."""

import re
from datetime import date, timedelta

import pytest
from icalendar import Calendar
from sqlalchemy import func, select

from portal import db
from portal.bookings.models import BookingStatus
from portal.integrations.models import BlockedDates, CalendarExport
from tests import factories as f
from tests.conftest import csrf_token


@pytest.fixture
def world(app, client, login):
    today = date.today()
    with app.app_context():
        a = f.agency("alpha")
        f.staff(a)
        unit = f.unit(a, f.prop(a, "Seafront"), "1A")
        other = f.unit(a, f.prop(a, "Hillside"), "2B")
        guest = f.person(a, "Maria Secret", "maria.secret@example.com")
        confirmed = f.booking(a, unit, guest, arrival=today + timedelta(days=5))
        pre = f.booking(a, unit, guest, arrival=today + timedelta(days=20), status=BookingStatus.PRE_BOOKING)
        f.booking(a, unit, guest, arrival=today + timedelta(days=40), status=BookingStatus.CANCELLED)
        f.booking(a, unit, guest, arrival=today - timedelta(days=90))  # long over
        f.booking(a, other, guest, arrival=today + timedelta(days=7))  # another unit's
        db.session.add(BlockedDates(agency_id=a.id, unit_id=unit.id, start_date=today + timedelta(days=50),
                                    end_date=today + timedelta(days=53), summary="Owner stay of Mr Private"))
        ids = {"unit": unit.id, "other": other.id, "confirmed": (confirmed.arrival, confirmed.departure),
               "pre": (pre.arrival, pre.departure), "references": [confirmed.reference, pre.reference]}
        db.session.commit()
    assert login("manager@alpha.example", f.PASSWORD).status_code == 302
    return ids


def _make(client, unit_id: int) -> str:
    page = client.get(f"/manage/units/{unit_id}")
    assert "Make a calendar address" in page.text
    made = client.post(f"/manage/units/{unit_id}/calendar-export", data={"csrf_token": csrf_token(page.text)})
    assert made.status_code == 302
    return _shown(client, unit_id)


def _shown(client, unit_id: int) -> str:
    shown = client.get(f"/manage/units/{unit_id}")
    return re.search(r'id="calendar-url" type="text" value="http://[^/]+(/calendars/[^"]+\.ics)"', shown.text).group(1)


def test_the_feed_lists_taken_nights_without_anything_personal(app, client, world):
    path = _make(client, world["unit"])
    feed = app.test_client().get(path)  # no session: the URL is the key
    assert feed.status_code == 200
    assert feed.headers["Content-Type"] == "text/calendar; charset=utf-8"
    assert "private" in feed.headers["Cache-Control"] and feed.headers["Referrer-Policy"] == "no-referrer"
    cal = Calendar.from_ical(feed.data)
    events = sorted((e.decoded("dtstart"), e.decoded("dtend"), str(e["summary"])) for e in cal.walk("VEVENT"))
    today = date.today()
    assert events == [(*world["confirmed"], "Reserved"), (*world["pre"], "Reserved"),
                      (today + timedelta(days=50), today + timedelta(days=53), "Not available")]
    assert all(isinstance(start, date) for start, _, _ in events)  # all-day events
    uids = {str(e["uid"]) for e in cal.walk("VEVENT")}
    assert len(uids) == 3
    # The UIDs do not give away the platform's sequential ids (how many bookings Portico holds), and stay put.
    assert not any(re.search(r"\d", uid.split("@")[0]) and re.fullmatch(r"\D*\d+", uid.split("@")[0])
                   for uid in uids)
    assert not any(uid.startswith(("booking-", "block-")) for uid in uids)
    assert {str(e["uid"]) for e in Calendar.from_ical(app.test_client().get(path).data).walk("VEVENT")} == uids
    text = feed.data.decode()
    for secret in ("Maria", "maria.secret", "Mr Private", *world["references"]):
        assert secret not in text
    # Making it again keeps the same URL (channels already have it).
    page = client.get(f"/manage/units/{world['unit']}")
    client.post(f"/manage/units/{world['unit']}/calendar-export", data={"csrf_token": csrf_token(page.text)})
    assert path in client.get(f"/manage/units/{world['unit']}").text


def test_revoking_kills_the_url_and_a_new_one_differs(app, client, world):
    path = _make(client, world["unit"])
    page = client.get(f"/manage/units/{world['unit']}")
    assert ">Revoke</button>" in page.text and ">New URL</button>" in page.text
    # New URL: the old one is dead at once, the new one works.
    client.post(f"/manage/units/{world['unit']}/calendar-export",
                data={"csrf_token": csrf_token(page.text), "replace": "y"})
    replaced = _shown(client, world["unit"])
    assert replaced != path and app.test_client().get(path).status_code == 404
    assert app.test_client().get(replaced).status_code == 200
    path = replaced
    page = client.get(f"/manage/units/{world['unit']}")
    assert client.get(f"/manage/units/{world['unit']}/calendar-export/revoke").status_code == 405
    assert client.post(f"/manage/units/{world['unit']}/calendar-export/revoke",
                       data={"csrf_token": csrf_token(page.text)}).status_code == 302
    dead = app.test_client().get(path)
    assert dead.status_code == 404 and "could not find" in dead.text
    assert "BEGIN:VCALENDAR" not in dead.text
    again = _make(client, world["unit"])
    assert again != path and app.test_client().get(again).status_code == 200
    # Revoking what is not there is said, not a 500.
    page = client.get(f"/manage/units/{world['other']}")
    gone = client.post(f"/manage/units/{world['other']}/calendar-export/revoke",
                       data={"csrf_token": csrf_token(page.text)}, follow_redirects=True)
    assert "no calendar export to revoke" in gone.text


def test_unknown_tokens_and_another_agencys_unit_are_not_found(app, client, world):
    for token in ("nope", "x" * 200, "../../etc/passwd"):
        assert app.test_client().get(f"/calendars/{token}.ics").status_code == 404
    with app.app_context():
        beta = f.agency("beta")
        theirs = f.unit(beta, f.prop(beta, "Beta House"), "9Z").id
        db.session.commit()
    token = csrf_token(client.get(f"/manage/units/{world['unit']}").text)
    assert client.post(f"/manage/units/{theirs}/calendar-export", data={"csrf_token": token}).status_code == 404
    assert client.post(f"/manage/units/{theirs}/calendar-export/revoke",
                       data={"csrf_token": token}).status_code == 404
    assert client.post(f"/manage/units/{world['unit']}/calendar-export", data={}).status_code == 400  # no CSRF
    with app.app_context():
        assert db.session.scalar(select(func.count(CalendarExport.id)).execution_options(all_agencies=True)) == 0


def test_the_feed_is_on_the_same_path_on_an_agencys_own_host(app, client, world):
    path = _make(client, world["unit"])
    with app.app_context():
        from portal.agencies.models import Agency

        db.session.scalar(select(Agency).where(Agency.slug == "alpha")).host_name = "portal.alpha.example"
        db.session.commit()
    got = app.test_client().get(path, headers={"Host": "portal.alpha.example"})
    assert got.status_code == 200 and got.mimetype == "text/calendar"


def test_the_units_page_title_is_its_name_and_its_script_comes_once(client, world):
    page = client.get(f"/manage/units/{world['unit']}").text
    title = re.search(r"<title>(.*?)</title>", page, re.S).group(1)
    assert "1A" in title and "<script" not in title and "integrations.js" not in title
    assert page.count("js/integrations.js") == 1
