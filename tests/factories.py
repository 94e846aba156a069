"""Small factories: each builds one valid row (flushes) in the current app context."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from portal import db
from portal.agencies.models import Agency, StaffUser
from portal.agencies.operations import create_agency, create_staff
from portal.bookings.models import Booking, BookingStatus, Channel, Lease, LeaseStatus, PaymentType
from portal.bookings.operations import save_booking, save_lease
from portal.people.models import Person
from portal.people.operations import save_person
from portal.properties.models import Property, Unit
from portal.properties.operations import save_property, save_unit

PASSWORD = "correct horse battery staple"


def agency(slug: str = "alpha", **kw) -> Agency:
    a = create_agency(slug=slug, name=kw.pop("name", slug.title() + " Rentals"), **kw)
    db.scope(db.session, a.id)
    return a


def staff(a: Agency, email: str | None = None, password: str = PASSWORD) -> StaffUser:
    return create_staff(a, email=email or f"manager@{a.slug}.example", name="Pat Manager", password=password)


def person(a: Agency, name: str = "Ana Guest", email: str | None = "ana@example.com", roles=()) -> Person:
    return save_person(None, a.id, {"name": name, "email": email, "roles": list(roles)})


def prop(a: Agency, name: str = "Seafront") -> Property:
    return save_property(None, a.id, {"name": name})


def unit(a: Agency, p: Property | None = None, name: str = "1A") -> Unit:
    p = p or prop(a)
    return save_unit(None, a.id, {"property_id": p.id, "name": name, "bedrooms": 1, "capacity": 4})


def booking(a: Agency, u: Unit | None = None, guest: Person | None = None, **kw) -> Booking:
    u = u or unit(a)
    guest = guest or person(a)
    arrival = kw.pop("arrival", date.today() + timedelta(days=10))
    data = {
        "guest_id": guest.id, "unit_id": u.id, "arrival": arrival,
        "departure": kw.pop("departure", arrival + timedelta(days=3)), "adults": 2,
        "status": BookingStatus.CONFIRMED, "payment_type": PaymentType.CARD, "channel": Channel.DIRECT,
        "amount_due": Decimal("300.00"), "amount_paid": Decimal(0),
    }
    data.update(kw)
    return save_booking(None, a.id, data)


def lease(a: Agency, u: Unit | None = None, tenant: Person | None = None) -> Lease:
    u = u or unit(a)
    tenant = tenant or person(a, "Tom Tenant", "tom@example.com")
    return save_lease(None, a.id, {
        "unit_id": u.id, "tenant_id": tenant.id, "status": LeaseStatus.ACTIVE,
        "start_date": date(2026, 1, 1), "end_date": None, "rent": Decimal("950.00"),
        "deposit": Decimal("1900.00"), "rent_day": 1,
    })
