"""/api/v1 people, bookings (and their cancel), leases, charges and payments: reads with filters and pages, writes
through the operations, other agencies' ids not found, bad input refused with nothing written."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from portal import db
from portal.agencies.models import Agency
from portal.bookings.models import Booking
from portal.money.models import Charge, ChargeStatus
from portal.money.operations import pay
from portal.people.models import Person
from tests import factories as f
from tests.api.conftest import ApiClient, make_key

ARRIVAL = date.today() + timedelta(days=20)


@pytest.fixture
def world(app, alpha):
    """Alpha: unit 1A, guest Ana with a booking (300 due), tenant Tom with a lease, a rent charge paid in part.
    Beta: the same shapes, and a key. Their ids."""
    with app.app_context():
        a = db.session.get(Agency, alpha)
        db.scope(db.session, a.id)
        u = f.unit(a)
        ana = f.person(a, "Ana Guest", "ana@example.com", roles=["guest"])
        booking = f.booking(a, u, ana, arrival=ARRIVAL)
        tom = f.person(a, "Tom Tenant", "tom@example.com")
        lease = f.lease(a, f.unit(a, u.property, "1B"), tom)
        rent = f.charge(a, lease=lease, amount="950.00")
        payment = pay(rent, tom, Decimal("950.00"), channel="portal")
        b = f.agency("beta")
        bu = f.unit(b)
        bguest = f.person(b, "Bea", "bea@example.com")
        bbooking = f.booking(b, bu, bguest)
        blease = f.lease(b, f.unit(b, bu.property, "2"), bguest)
        bcharge = f.charge(b, lease=blease)
        db.session.commit()
        return {"unit": u.id, "ana": ana.id, "booking": booking.id, "tom": tom.id, "lease": lease.id,
                "rent": rent.id, "payment": payment.id, "beta_key": make_key(b),
                "beta": {"unit": bu.id, "person": bguest.id, "booking": bbooking.id, "lease": blease.id,
                         "charge": bcharge.id}}


def _count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model).execution_options(all_agencies=True))


def _fields(response, status: int = 422) -> dict:
    assert response.status_code == status, response.text
    return response.json["error"]["fields"]


# -- people ---------------------------------------------------------------------------------------------------

def test_people(api, world, app):
    listed = api.get("/api/v1/people").json
    assert [p["name"] for p in listed["items"]] == ["Ana Guest", "Tom Tenant"]
    assert [p["name"] for p in api.get("/api/v1/people?role=guest").json["items"]] == ["Ana Guest"]
    assert api.get("/api/v1/people?email=TOM@example.com").json["items"][0]["id"] == world["tom"]

    made = api.post("/api/v1/people", json={"name": "Vera Vendor", "email": "Vera@Example.com", "roles": ["vendor"],
                                            "phone": "+34 600 000 000", "language": "es", "tags": ["plumber"]})
    assert made.status_code == 201, made.text
    assert (made.json["email"], made.json["roles"], made.json["tags"]) == ("vera@example.com", ["vendor"],
                                                                           ["plumber"])
    url = made.headers["Location"]
    etag = api.get(url).headers["ETag"]
    changed = api.patch(url, json={"notes": "Call first.\nMornings only."}, headers={"If-Match": etag})
    assert changed.status_code == 200 and changed.json["roles"] == ["vendor"]
    assert changed.json["notes"] == "Call first.\nMornings only."

    assert _fields(api.post("/api/v1/people", json={"name": "No Mail", "roles": ["guest"]})).keys() == {"roles"}
    assert _fields(api.post("/api/v1/people", json={"name": "X", "email": "not-an-address",
                                                    "language": "xx", "phone": "call me"})).keys() == {
        "email", "language", "phone"}
    assert _count(app, Person) == 4  # 3 of alpha's and beta's one
    assert api.get(f"/api/v1/people/{world['beta']['person']}").status_code == 404


# -- bookings -------------------------------------------------------------------------------------------------

def test_bookings_list_and_filters(api, world):
    listed = api.get("/api/v1/bookings").json
    assert [b["id"] for b in listed["items"]] == [world["booking"]]
    booking = listed["items"][0]
    assert (booking["amount_due"], booking["balance"], booking["status"], booking["sources"]) == (
        "300.00", "300.00", "confirmed", [])
    day = ARRIVAL.isoformat()
    assert api.get(f"/api/v1/bookings?arrival_from={day}&arrival_to={day}").json["total"] == 1
    assert api.get(f"/api/v1/bookings?arrival_from={(ARRIVAL + timedelta(days=1)).isoformat()}").json["total"] == 0
    assert api.get(f"/api/v1/bookings?unit_id={world['unit']}&status=confirmed").json["total"] == 1
    assert api.get("/api/v1/bookings?status=cancelled").json["total"] == 0
    assert api.get("/api/v1/bookings", query_string={"updated_since": "2000-01-01T00:00:00Z"}).json["total"] == 1
    assert api.get("/api/v1/bookings", query_string={"updated_since": "2199-01-01T00:00:00+01:00"}).json[
        "total"] == 0
    assert _fields(api.get("/api/v1/bookings?updated_since=0001-01-01T00:00:00%2B01:00")).keys() == {"updated_since"}
    assert _fields(api.get("/api/v1/bookings?arrival_from=20260101&status=maybe")).keys() == {"arrival_from",
                                                                                              "status"}
    assert api.get(f"/api/v1/bookings/{world['beta']['booking']}").status_code == 404


def test_booking_create_update_cancel(api, world, app, alpha):
    body = {"guest_id": world["ana"], "unit_id": world["unit"], "arrival": "2027-03-01", "departure": "2027-03-05",
            "amount_due": "480.00", "amount_paid": "100.00", "channel": "airbnb", "external_id": "HM123",
            "tags": ["late arrival"]}
    made = api.post("/api/v1/bookings", json=body, headers={"Idempotency-Key": "b-1"})
    assert made.status_code == 201, made.text
    booking = made.json
    assert (booking["nights"], booking["balance"], booking["channel"], len(booking["reference"])) == (
        4, "380.00", "airbnb", 8)
    with app.app_context():
        db.scope(db.session, alpha)
        open_charge = db.session.scalar(select(Charge).where(Charge.booking_id == booking["id"]))
        assert (open_charge.amount, open_charge.status) == (Decimal("380.00"), ChargeStatus.OPEN)
    assert api.post("/api/v1/bookings", json=body, headers={"Idempotency-Key": "b-1"}).json == booking

    url = made.headers["Location"]
    etag = api.get(url).headers["ETag"]
    moved = api.patch(url, json={"departure": "2027-03-06", "amount_due": "600.00"}, headers={"If-Match": etag})
    assert moved.status_code == 200, moved.text
    assert (moved.json["nights"], moved.json["balance"]) == (5, "500.00")

    cancelled = api.post(f"{url}/cancel")
    assert cancelled.status_code == 200 and cancelled.json["status"] == "cancelled"
    assert api.post(f"{url}/cancel").json["status"] == "cancelled"
    with app.app_context():
        db.scope(db.session, alpha)
        statuses = db.session.scalars(select(Charge.status).where(Charge.booking_id == booking["id"])).all()
        assert ChargeStatus.OPEN not in statuses
    assert api.post(f"/api/v1/bookings/{world['beta']['booking']}/cancel").status_code == 404


def test_booking_refusals_write_nothing(api, world, app):
    before = _count(app, Booking), _count(app, Charge)
    good = {"guest_id": world["ana"], "unit_id": world["unit"], "arrival": "2027-03-01", "departure": "2027-03-05",
            "amount_due": "480.00"}
    cases = [
        ({"departure": "2027-03-01"}, {"departure"}),
        ({"amount_paid": "500.00"}, {"amount_paid"}),
        ({"amount_due": "480.001"}, {"amount_due"}),
        ({"amount_due": 480}, {"amount_due"}),
        ({"guest_id": world["beta"]["person"]}, {"guest_id"}),
        ({"unit_id": world["beta"]["unit"]}, {"unit_id"}),
        ({"arrival": "1800-01-01"}, {"arrival"}),
        ({"reference": "123"}, {"reference"}),
        ({"status": "maybe", "adults": 0}, {"status", "adults"}),
    ]
    for change, wrong in cases:
        assert _fields(api.post("/api/v1/bookings", json={**good, **change})).keys() == wrong, change
    taken = api.get(f"/api/v1/bookings/{world['booking']}").json["reference"]
    assert _fields(api.post("/api/v1/bookings", json={**good, "reference": taken})).keys() == {"reference"}
    assert (_count(app, Booking), _count(app, Charge)) == before


def test_read_only_key_cannot_cancel(app, world, alpha):
    with app.app_context():
        key = make_key(db.session.get(Agency, alpha), scope="read")
    reader = ApiClient(app.test_client(), key)
    refused = reader.post(f"/api/v1/bookings/{world['booking']}/cancel")
    assert refused.status_code == 403 and refused.json["error"]["code"] == "read_only_key"
    assert reader.get(f"/api/v1/bookings/{world['booking']}").json["status"] == "confirmed"


# -- leases, charges, payments --------------------------------------------------------------------------------

def test_leases_charges_payments(api, world, app):
    leases = api.get("/api/v1/leases").json["items"]
    assert [(x["id"], x["rent"], x["tenant_id"]) for x in leases] == [(world["lease"], "950.00", world["tom"])]
    assert api.get(f"/api/v1/leases?tenant_id={world['ana']}").json["total"] == 0
    assert api.get(f"/api/v1/leases/{world['lease']}").json["status"] == "active"

    rent = api.get(f"/api/v1/charges/{world['rent']}").json
    assert (rent["amount"], rent["paid_amount"], rent["balance"], rent["status"], rent["currency"]) == (
        "950.00", "950.00", "0.00", "paid", "EUR")
    assert [c["id"] for c in api.get(f"/api/v1/charges?person_id={world['tom']}&status=paid").json["items"]] == [
        world["rent"]]
    guest_charges = api.get(f"/api/v1/charges?person_id={world['ana']}").json["items"]
    assert [(c["booking_id"], c["status"], c["amount"]) for c in guest_charges] == [(world["booking"], "open",
                                                                                    "300.00")]
    assert api.get("/api/v1/charges?kind=rent&due_from=2030-01-01").json["total"] == 0

    payment = api.get(f"/api/v1/payments/{world['payment']}").json
    assert (payment["charge_id"], payment["amount"], payment["refunded"], payment["channel"]) == (
        world["rent"], "950.00", "0.00", "portal")
    assert api.get(f"/api/v1/payments?charge_id={world['rent']}").json["total"] == 1

    beta = world["beta"]
    for path in (f"/api/v1/leases/{beta['lease']}", f"/api/v1/charges/{beta['charge']}"):
        assert api.get(path).status_code == 404
    theirs = ApiClient(app.test_client(), world["beta_key"])
    theirs_charges = theirs.get("/api/v1/charges").json["items"]
    assert {c["booking_id"] or c["lease_id"] for c in theirs_charges} == {beta["booking"], beta["lease"]}
    assert beta["charge"] in {c["id"] for c in theirs_charges} and world["rent"] not in {c["id"] for c in
                                                                                          theirs_charges}
    assert theirs.get(f"/api/v1/payments/{world['payment']}").status_code == 404
    # Read only: no writes are routed here.
    assert api.post("/api/v1/charges", json={}).status_code == 405
