"""Small factories: each builds one valid row (flushes) in the current app context."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

from automation.models import MailTemplate, Solution
from portal import db
from portal.agencies.models import Agency, StaffUser
from portal.agencies.operations import create_agency, create_staff
from portal.appointments.models import Appointment, AppointmentStatus
from portal.appointments.operations import save_appointment
from portal.bookings.models import Booking, BookingStatus, Channel, Lease, LeaseStatus, PaymentType
from portal.bookings.operations import save_booking, save_lease
from portal.money.models import Charge, ChargeKind
from portal.money.operations import save_charge
from portal.people.models import Person
from portal.people.operations import save_person
from portal.properties.models import Property, Unit
from portal.properties.operations import save_property, save_unit

PASSWORD = "correct horse battery staple"


def agency(slug: str = "alpha", **kw) -> Agency:
    # Bare unless asked: tests add the templates and solutions they are about.
    a = create_agency(slug=slug, name=kw.pop("name", slug.title() + " Rentals"), starter=kw.pop("starter", False),
                      **kw)
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


def charge(a: Agency, *, lease: Lease | None = None, booking: Booking | None = None, amount: str = "1250.00",
           kind: ChargeKind = ChargeKind.RENT, due: date = date(2026, 12, 1), description: str = "Rent December 2026"
           ) -> Charge:
    return save_charge(None, a.id, {
        "kind": kind, "lease_id": lease.id if lease else None, "booking_id": booking.id if booking else None,
        "description": description, "amount": Decimal(amount), "due_date": due,
    })


def appointment(
    a: Agency, who: Person, title: str = "Move-in inspection", starts: datetime | None = None
) -> Appointment:
    starts = starts or datetime(2026, 12, 3, 10, 30)
    return save_appointment(None, a.id, {
        "person_id": who.id, "unit_id": None, "title": title, "starts_at": starts, "duration_minutes": 60,
        "status": AppointmentStatus.PROPOSED, "notes": None,
    })


def template(a: Agency, name: str = "Arrival", subject: str = "Your stay {{ booking.reference }}",
             text: str = "Hello {{ recipient.first_name }}, see you on {{ booking.arrival }}.",
             html: str = "") -> MailTemplate:
    from automation.operations import save_template

    return save_template(None, a.id, {"name": name, "subject": subject, "text_body": text, "html_body": html})


def solution(a: Agency, kind: str = "extra-services", *, active: bool = True, tpl=None, roles=("guest",),
             **kw) -> Solution:
    """A solution with one notification; active unless told (activation plans after commit)."""
    from automation.operations import save_solution

    tpl = tpl or template(a, name=f"T{kind}{len(roles)}{kw.get('name', '')}")
    data = {"kind": kind, "name": kw.pop("name", kind), "anchor": kw.pop("anchor", "immediately"),
            "notifications": kw.pop("notifications", [{"roles": list(roles), "template_id": tpl.id}]), **kw}
    s = save_solution(None, a.id, data)
    if active:
        # Switched on directly: tests plan explicitly (or via the backfill job) as they need.
        s.active = True
        s.activated_at = s.created_at
        db.session.flush()
    return s


def completed(order):
    """A triaged order with its vendor taken through the real steps to completed (visit booked, started, done)."""
    from datetime import timedelta

    from portal import clock
    from portal.workorders import operations as ops

    ops.schedule(order, ops.SYSTEM, source="system", at=clock.now() + timedelta(minutes=5))
    ops.start(order, ops.SYSTEM, source="system")
    ops.complete(order, ops.SYSTEM, source="system")
    return order
