"""Back-office pages: create, list (search, filter, paginate), view, edit; bad input changes nothing."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from portal import db
from portal.bookings.models import Booking, BookingStatus, Lease
from portal.people.models import Person, PortalRole
from portal.properties.models import Unit
from tests import factories as f
from tests.conftest import csrf_token


@pytest.fixture
def staff_client(app, client, login):
    with app.app_context():
        a = f.agency("alpha")
        f.staff(a)
        u = f.unit(a, f.prop(a, "Seafront"), "Apartment 1A")
        guest = f.person(a, "Ana Guest", "ana@example.com")
        ids = {"agency": a.id, "unit": u.id, "guest": guest.id, "property": u.property_id}
        db.session.commit()
    assert login("manager@alpha.example", f.PASSWORD).status_code == 302
    client.ids = ids
    return client


def _post(client, url, **data):
    token = csrf_token(client.get(url).text)
    return client.post(url, data={"csrf_token": token, **data})


def _booking_form(c, **overrides):
    arrival = date.today() + timedelta(days=20)
    data = {
        "guest_id": c.ids["guest"], "unit_id": c.ids["unit"], "arrival": arrival.isoformat(),
        "departure": (arrival + timedelta(days=4)).isoformat(), "adults": 2, "status": "confirmed",
        "payment_type": "card", "channel": "airbnb", "amount_due": "480.00", "amount_paid": "100",
        "tags": "Late arrival, pets", "reference": "",
    }
    data.update(overrides)
    return data


def _count(app, model):
    with app.app_context():
        return db.session.scalar(select(func.count(model.id)).execution_options(all_agencies=True))


def test_create_booking_generates_reference_and_shows_it(app, staff_client):
    response = _post(staff_client, "/manage/bookings/new", **_booking_form(staff_client))
    assert response.status_code == 302
    with app.app_context():
        db.scope(db.session, staff_client.ids["agency"])
        booking = db.session.scalar(select(Booking))
        assert len(booking.reference) == 8 and booking.reference.isdigit()
        assert booking.amount_due == Decimal("480.00")
        assert booking.status == BookingStatus.CONFIRMED
        assert [t.name for t in booking.tags] == ["late arrival", "pets"]
        assert PortalRole.GUEST in booking.guest.roles
        reference = booking.reference
    detail = staff_client.get(response.headers["Location"]).text
    assert reference in detail and "480.00 EUR" in detail
    listing = staff_client.get("/manage/bookings").text
    assert reference in listing


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"departure": (date.today() + timedelta(days=19)).isoformat()}, "Departure must be after arrival."),
        ({"arrival": ""}, "Enter an arrival date."),
        ({"amount_due": "-5"}, "Must be zero or more."),
        ({"amount_due": "10.005"}, "EUR amounts have 2 decimal places at most."),
        ({"amount_due": "ten"}, "Enter an amount such as 120.50."),
        ({"amount_due": "Infinity"}, "Enter an amount such as 120.50."),
        ({"amount_due": "NaN"}, "Enter an amount such as 120.50."),
        ({"amount_due": "sNaN"}, "Enter an amount such as 120.50."),
        ({"amount_due": "1e15"}, "That amount is too large."),
        ({"amount_paid": "999"}, "Paid cannot exceed the amount due."),
        ({"reference": "1234"}, "A reference is exactly 8 digits."),
        ({"status": "bogus"}, "Invalid Choice"),
        ({"guest_id": "999999"}, "Not a valid choice."),
    ],
)
def test_bad_booking_input_is_shown_beside_the_field_and_saves_nothing(app, staff_client, overrides, message):
    response = _post(staff_client, "/manage/bookings/new", **_booking_form(staff_client, **overrides))
    assert response.status_code == 422
    assert message in response.text
    assert 'aria-invalid="true"' in response.text
    assert _count(app, Booking) == 0


def test_duplicate_reference_is_refused(app, staff_client):
    first = _post(staff_client, "/manage/bookings/new", **_booking_form(staff_client, reference="12345678"))
    assert first.status_code == 302
    response = _post(staff_client, "/manage/bookings/new", **_booking_form(staff_client, reference="12345678"))
    assert response.status_code == 422
    assert "Another booking already has this reference." in response.text
    assert _count(app, Booking) == 1


def test_same_reference_is_fine_in_another_agency(app, staff_client):
    with app.app_context():
        other = f.agency("beta")
        f.booking(other, reference="12345678")
        db.session.commit()
    response = _post(staff_client, "/manage/bookings/new", **_booking_form(staff_client, reference="12345678"))
    assert response.status_code == 302


def test_guest_from_another_agency_cannot_be_chosen(app, staff_client):
    with app.app_context():
        other = f.agency("beta")
        stranger = f.person(other, "Stranger", "s@example.com").id
        db.session.commit()
    response = _post(staff_client, "/manage/bookings/new", **_booking_form(staff_client, guest_id=stranger))
    assert response.status_code == 422
    assert _count(app, Booking) == 0


def test_yen_agency_accepts_no_decimals(app, client, login):
    with app.app_context():
        a = f.agency("kyoto", currency="JPY")
        f.staff(a)
        u, guest = f.unit(a), f.person(a)
        db.session.commit()
        ids = (u.id, guest.id)
    login("manager@kyoto.example", f.PASSWORD)
    client.ids = {"unit": ids[0], "guest": ids[1]}
    response = _post(client, "/manage/bookings/new", **_booking_form(client, amount_due="1000.5", amount_paid="0"))
    assert "JPY amounts have 0 decimal places at most." in response.text
    ok = _post(client, "/manage/bookings/new", **_booking_form(client, amount_due="15000", amount_paid="0"))
    assert ok.status_code == 302
    assert "15,000 JPY" in client.get(ok.headers["Location"]).text


def test_edit_booking_and_move_dates(app, staff_client):
    _post(staff_client, "/manage/bookings/new", **_booking_form(staff_client))
    with app.app_context():
        db.scope(db.session, staff_client.ids["agency"])
        booking_id = db.session.scalar(select(Booking.id))
    edit = f"/manage/bookings/{booking_id}/edit"
    page = staff_client.get(edit).text
    assert 'value="480.00"' in page  # the form is pre-filled
    new_arrival = date.today() + timedelta(days=30)
    response = _post(staff_client, edit, **_booking_form(
        staff_client, arrival=new_arrival.isoformat(), departure=(new_arrival + timedelta(days=2)).isoformat(),
        status="cancelled"))
    assert response.status_code == 302
    with app.app_context():
        db.scope(db.session, staff_client.ids["agency"])
        booking = db.session.get(Booking, booking_id)
        assert booking.arrival == new_arrival
        assert booking.status == BookingStatus.CANCELLED


def test_person_with_roles_and_validation(app, staff_client):
    bad = _post(staff_client, "/manage/people/new", name="Olga", email="not-an-email", roles=["owner"])
    assert bad.status_code == 422
    assert "Invalid email address." in bad.text
    no_email = _post(staff_client, "/manage/people/new", name="Olga", email="", roles=["owner"])
    assert "Portal access needs an e-mail address" in no_email.text
    assert _count(app, Person) == 1
    ok = _post(staff_client, "/manage/people/new", name="Olga Owner", email="Olga@Example.com",
               roles=["owner", "tenant"], tags="vip")
    assert ok.status_code == 302
    with app.app_context():
        db.scope(db.session, staff_client.ids["agency"])
        olga = db.session.scalar(select(Person).where(Person.name == "Olga Owner"))
        assert olga.email == "olga@example.com"
        assert sorted(olga.roles) == [PortalRole.OWNER, PortalRole.TENANT]
    # Removing a role revokes that portal.
    edit = f"/manage/people/{olga.id}/edit"
    assert _post(staff_client, edit, name="Olga Owner", email="olga@example.com", roles=["owner"]).status_code == 302
    with app.app_context():
        db.scope(db.session, staff_client.ids["agency"])
        assert db.session.get(Person, olga.id).roles == [PortalRole.OWNER]


def test_unit_with_owner_and_tags_then_filter(app, staff_client):
    ok = _post(staff_client, "/manage/units/new", property_id=staff_client.ids["property"], name="Penthouse",
               bedrooms=3, capacity=6, owner_ids=[staff_client.ids["guest"]], tags="sea view")
    assert ok.status_code == 302
    page = staff_client.get("/manage/units?tag=sea+view").text
    assert "Penthouse" in page and "Apartment 1A" not in page
    assert "Apartment 1A" in staff_client.get("/manage/units?q=1a").text
    bad = _post(staff_client, "/manage/units/new", property_id=staff_client.ids["property"], name="",
                bedrooms=-1, capacity=0)
    assert bad.status_code == 422
    assert _count(app, Unit) == 2


def test_lease_dates_and_amounts(app, staff_client):
    base = {"unit_id": staff_client.ids["unit"], "tenant_id": staff_client.ids["guest"], "status": "active",
            "start_date": "2026-01-01", "rent": "950", "deposit": "1900", "rent_day": 1}
    bad = _post(staff_client, "/manage/leases/new", **{**base, "end_date": "2025-12-31"})
    assert "The end must be after the start." in bad.text
    bad = _post(staff_client, "/manage/leases/new", **{**base, "rent_day": 31})
    assert bad.status_code == 422
    assert _count(app, Lease) == 0
    ok = _post(staff_client, "/manage/leases/new", **base)
    assert ok.status_code == 302
    assert "950.00 EUR" in staff_client.get(ok.headers["Location"]).text


def test_search_filter_and_paginate_bookings(app, staff_client):
    with app.app_context():
        db.scope(db.session, staff_client.ids["agency"])
        from portal.agencies.models import Agency

        a = db.session.get(Agency, staff_client.ids["agency"])
        u = db.session.get(Unit, staff_client.ids["unit"])
        guest = db.session.get(Person, staff_client.ids["guest"])
        start = date.today()
        for i in range(30):
            f.booking(a, u, guest, arrival=start + timedelta(days=5 * i), reference=f"{20000000 + i}",
                      status=BookingStatus.CANCELLED if i % 10 == 0 else BookingStatus.CONFIRMED)
        db.session.commit()
    first = staff_client.get("/manage/bookings").text
    assert "Page 1 of 2" in first
    second = staff_client.get("/manage/bookings?page=2").text
    assert "Page 2 of 2" in second
    assert "20000007" in staff_client.get("/manage/bookings?q=20000007").text
    cancelled = staff_client.get("/manage/bookings?status=cancelled").text
    assert "3 in all" in cancelled
    windowed = staff_client.get(
        f"/manage/bookings?arrival_from={start.isoformat()}&arrival_to={(start + timedelta(days=9)).isoformat()}").text
    assert "2 in all" in windowed
    # Malformed query values are ignored, not errors.
    assert staff_client.get("/manage/bookings?page=abc&status=nope&arrival_from=yesterday").status_code == 200


def test_unknown_ids_are_a_friendly_404(staff_client):
    for url in ["/manage/bookings/999999", "/manage/units/999999/edit", "/manage/nothing-here"]:
        response = staff_client.get(url)
        assert response.status_code == 404
        assert "We could not find that page" in response.text


def test_pages_require_login(client):
    response = client.get("/manage/bookings")
    assert response.status_code == 302
    assert "/manage/login" in response.headers["Location"]


def test_nul_characters_are_dropped_not_a_500(app, staff_client):
    response = _post(staff_client, "/manage/bookings/new", **_booking_form(staff_client, notes="late\x00 arrival"))
    assert response.status_code == 302
    with app.app_context():
        db.scope(db.session, staff_client.ids["agency"])
        assert db.session.scalar(select(Booking.notes)) == "late arrival"
    assert staff_client.get("/manage/bookings?q=%00").status_code == 200


def test_page_numbers_beyond_the_end_show_the_last_page(staff_client):
    for page in ["99999999999999999999", "5", "-1", "0"]:
        response = staff_client.get(f"/manage/people?page={page}")
        assert response.status_code == 200
        assert "Ana Guest" in response.text


def test_guest_without_email_gets_no_portal_and_stays_editable(app, staff_client):
    created = _post(staff_client, "/manage/people/new", name="Walk-in Guest", email="")
    assert created.status_code == 302
    person_id = int(created.headers["Location"].rsplit("/", 1)[1])
    booking = _post(staff_client, "/manage/bookings/new", **_booking_form(staff_client, guest_id=person_id))
    assert booking.status_code == 302
    with app.app_context():
        db.scope(db.session, staff_client.ids["agency"])
        assert db.session.get(Person, person_id).roles == []
    edit = f"/manage/people/{person_id}/edit"
    assert _post(staff_client, edit, name="Walk-in Guest", phone="+34 600 000 000").status_code == 302
