"""The guest portal: check-in from the arrival day, codes only while staying, guests up to
capacity, options that become charges, requests; tenant requests and messages."""

import re
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select

from portal import clock, db
from portal.money.models import Charge, ChargeKind
from portal.workorders.models import WorkOrder
from tests import factories as f
from tests.conftest import csrf_token, signed_in_client

MADRID_NOON = datetime(2026, 12, 9, 11, 0, tzinfo=UTC)  # 12:00 in Madrid


@pytest.fixture
def stay(app):
    with app.app_context():
        a = f.agency("alpha", timezone="Europe/Madrid")
        unit = f.unit(a, f.prop(a, "Seafront"), "Apartment 2B")
        unit.access_code, unit.wifi_name, unit.wifi_password = "4711#", "Seafront-2B", "sunny-days"
        ana = f.person(a, "Ana Guest", "ana@example.com")
        booking = f.booking(a, unit, ana, arrival=date(2026, 12, 10), departure=date(2026, 12, 14))
        ids = {"booking": booking.id, "ana": ana.id, "capacity": unit.capacity}
        db.session.commit()
    return ids


def _post(c, url, **data):
    return c.post(url, data={"csrf_token": csrf_token(c.get("/alpha/guest/").text), **data})


def test_check_in_from_the_arrival_day_then_codes_until_a_day_after_check_out(app, stay):
    with clock.frozen_at(MADRID_NOON) as travel:
        guest = signed_in_client(app, stay["ana"])
        url = f"/alpha/guest/bookings/{stay['booking']}"
        page = guest.get(url).text
        assert "4711#" not in page and "sunny-days" not in page
        early = _post(guest, f"{url}/check-in")
        assert early.status_code == 422
        assert "Check-in opens on Thu 10 Dec." in early.text

        travel.advance(hours=12)  # 10 Dec 00:00 in Madrid
        assert _post(guest, f"{url}/check-in").status_code == 302
        page = guest.get(url).text
        assert "4711#" in page and "sunny-days" in page and "Seafront-2B" in page
        assert _post(guest, f"{url}/check-in").status_code == 422  # once

        travel.advance(days=3)
        guest = signed_in_client(app, stay["ana"])  # portal sessions last 12 hours: sign in again
        assert _post(guest, f"{url}/check-out").status_code == 302
        travel.advance(hours=23)
        guest = signed_in_client(app, stay["ana"])
        assert "4711#" in guest.get(url).text  # still within a day of check-out
        travel.advance(hours=2)
        assert "4711#" not in guest.get(url).text


def test_guests_up_to_capacity(app, stay):
    guest = signed_in_client(app, stay["ana"])
    url = f"/alpha/guest/bookings/{stay['booking']}/guests"
    too_many = ["A", "B", "C", "D", "E", "F"][: stay["capacity"]]
    r = _post(guest, url, guest_name=too_many)
    assert r.status_code == 422 and "sleeps 4" in r.text
    assert _post(guest, url, guest_name=["Ben Guest", "  ", "Cleo Guest"]).status_code == 302
    assert 'value="Cleo Guest"' in guest.get(f"/alpha/guest/bookings/{stay['booking']}").text


def test_options_become_charges_to_pay(app, stay):
    guest = signed_in_client(app, stay["ana"])
    url = f"/alpha/guest/bookings/{stay['booking']}/options"
    assert _post(guest, url, option="not-offered").status_code == 422
    assert _post(guest, url, option="insurance").status_code == 302
    with app.app_context():
        charge = db.session.scalar(select(Charge).where(Charge.kind == ChargeKind.OPTION)
                                   .execution_options(all_agencies=True))
        assert charge.description == "Travel insurance" and str(charge.amount) == "25.00"
    home = guest.get("/alpha/guest/").text
    assert "Travel insurance" in home and "25.00 EUR" in home


def test_requests_from_the_stay_and_from_the_tenant_portal(app, stay):
    guest = signed_in_client(app, stay["ana"])
    url = f"/alpha/guest/bookings/{stay['booking']}/requests"
    assert _post(guest, url, kind="cleaning", title="", description="x").status_code == 422
    assert _post(guest, url, kind="cleaning", title="Extra towels", description="Four please").status_code == 302
    with app.app_context():
        a_id = db.session.scalar(select(WorkOrder.agency_id).execution_options(all_agencies=True))
        db.scope(db.session, a_id)
        from portal.agencies.models import Agency

        tom = f.person(db.session.get(Agency, a_id), "Tom Tenant", "tom@example.com")
        f.lease(db.session.get(Agency, a_id), tenant=tom)
        db.session.commit()
        tom_id = tom.id
    tenant = signed_in_client(app, tom_id)
    page = tenant.get("/alpha/tenant/requests")
    lease_id = re.search(r'<option value="(\d+)">', page.text).group(1)
    r = tenant.post("/alpha/tenant/requests", data={"csrf_token": csrf_token(page.text), "lease_id": lease_id,
                                                    "kind": "repair", "title": "Leaking tap",
                                                    "description": "Kitchen tap drips"})
    assert r.status_code == 302
    assert "Leaking tap" in tenant.get("/alpha/tenant/requests").text
    assert "Extra towels" not in tenant.get("/alpha/tenant/requests").text
    with app.app_context():
        assert db.session.scalar(select(func.count(WorkOrder.id)).execution_options(all_agencies=True)) == 2


def test_messages_page_shows_what_was_sent(app, stay, run_jobs):
    from portal import mail

    with app.app_context():
        from portal.people.models import Person

        ana = db.session.scalar(select(Person).execution_options(all_agencies=True))
        db.scope(db.session, ana.agency_id)
        mail.send(to=ana.email, subject="Pool closed Monday", text="Sorry!", person=ana)
        db.session.commit()
    run_jobs()
    guest = signed_in_client(app, stay["ana"])
    assert "Pool closed Monday" in guest.get("/alpha/guest/messages").text


def test_a_pre_booking_cannot_check_in_or_see_codes(app, stay):
    from portal.bookings.models import Booking, BookingStatus

    with app.app_context():
        booking = db.session.scalar(select(Booking).execution_options(all_agencies=True))
        booking.status = BookingStatus.PRE_BOOKING
        db.session.commit()
    with clock.frozen_at(datetime(2026, 12, 10, 9, 0, tzinfo=UTC)):
        guest = signed_in_client(app, stay["ana"])
        url = f"/alpha/guest/bookings/{stay['booking']}"
        r = _post(guest, f"{url}/check-in")
        assert r.status_code == 422 and "once the booking is confirmed" in r.text
        assert "4711#" not in guest.get(url).text
