"""A believable demo agency: two properties, twenty units, owners, tenants, guests, vendors,
leases and bookings around today."""

from __future__ import annotations

import io
import random
import secrets
import unicodedata
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from flask import current_app, render_template

from portal import agencies, clock, db, links
from portal.access.models import ShareRule
from portal.agencies.operations import create_agency, create_staff
from portal.appointments.models import AppointmentStatus
from portal.appointments.operations import save_appointment
from portal.bookings.models import BookingStatus, Channel, LeaseStatus, PaymentType
from portal.bookings.operations import save_booking, save_lease
from portal.documents.models import Document, DocumentKind
from portal.money.models import ChargeKind
from portal.money.operations import balance_charge, pay, save_charge
from portal.people.models import Person, PortalRole
from portal.people.operations import save_person
from portal.properties.operations import save_property, save_unit

MANAGER_EMAIL = "manager@costaserena.example"

_FIRST = ["Lucía", "Marco", "Emma", "Noah", "Sofía", "Liam", "Olivia", "Hugo", "Chloé", "Jonas",
          "Aisha", "Mateo", "Freya", "Pablo", "Ingrid", "Tomás", "Nora", "Elias", "Maya", "Oscar",
          "Clara", "Leon", "Zoe", "Iván", "Greta", "Samuel", "Alba", "Finn", "Irene", "Marta"]
_LAST = ["García", "Rossi", "Müller", "Dubois", "Smith", "Jansen", "Novak", "Silva", "Larsen",
         "Kowalski", "Moreno", "Bauer", "O'Connor", "Lindqvist", "Fischer", "Costa", "Martín"]


def _person(rng: random.Random, agency_id: int, roles: list[PortalRole], tags: str = "") -> int:
    first, last = rng.choice(_FIRST), rng.choice(_LAST)
    handle = f"{first}.{last}".lower().replace("'", "")
    handle = unicodedata.normalize("NFKD", handle).encode("ascii", "ignore").decode() or "guest"
    person = save_person(None, agency_id, {
        "name": f"{first} {last}",
        "email": f"{handle}.{rng.randint(10, 999)}@example.com",
        "phone": f"+34 6{rng.randint(10, 99)} {rng.randint(100, 999)} {rng.randint(100, 999)}",
        "roles": [r.value for r in roles],
        "tags": tags,
    })
    return person.id


def load(seed: int = 7) -> tuple[str, str]:
    """Create the demo agency and a manager; returns the manager's e-mail and password (flushes)."""
    rng = random.Random(seed)
    agency = create_agency(slug="costa-serena", name="Costa Serena Rentals",
                           timezone="Europe/Madrid", currency="EUR")
    agency.primary_color, agency.accent_color = "#0f5c63", "#e8833a"
    db.scope(db.session, agency.id)
    password = secrets.token_urlsafe(12)
    create_staff(agency, email=MANAGER_EMAIL, name="Marta Ruiz", password=password, admin=True)
    aid = agency.id

    owners = [_person(rng, aid, [PortalRole.OWNER], "owner") for _ in range(5)]
    vendor_names = ["Brillo Cleaning", "FixIt Plumbing", "Sol Electric"]
    for i, name in enumerate(vendor_names):
        save_person(None, aid, {"name": name, "email": f"jobs{i}@vendor.example", "roles": ["vendor"],
                                "tags": "vendor"})

    seafront = save_property(None, aid, {"name": "Seafront Apartments", "address": "Paseo Marítimo 12",
                                         "city": "Málaga", "external_id": "P-SEA"})
    oldtown = save_property(None, aid, {"name": "Old Town Residences", "address": "Calle Granada 41",
                                        "city": "Málaga", "external_id": "P-OLD"})
    units = []
    for i in range(10):
        floor, door = divmod(i, 4)
        units.append(save_unit(None, aid, {
            "property_id": seafront.id, "name": f"Apartment {floor + 1}{'ABCD'[door]}",
            "access_code": f"{rng.randint(1000, 9999)}#", "wifi_name": f"Seafront-{floor + 1}{'ABCD'[door]}",
            "wifi_password": secrets.token_urlsafe(6),
            "bedrooms": 1 + i % 3, "capacity": 2 + 2 * (i % 3), "external_id": f"SEA-{i + 1:02d}",
            "owner_ids": [owners[i % 3]], "tags": "sea view" if door < 2 else "pool",
        }))
    for i in range(10):
        units.append(save_unit(None, aid, {
            "property_id": oldtown.id, "name": f"Flat {i + 1}",
            "bedrooms": 1 + i % 2, "capacity": 2 + 2 * (i % 2), "external_id": f"OLD-{i + 1:02d}",
            "owner_ids": [owners[3 + i % 2]], "tags": "long-term" if i < 6 else "city centre",
        }))

    today = date.today()
    # Long-term: the first six Old Town flats are let on leases.
    leases = []
    for unit in units[10:16]:
        tenant = _person(rng, aid, [PortalRole.TENANT], "tenant")
        start = today.replace(day=1) - timedelta(days=30 * rng.randint(2, 20))
        leases.append(save_lease(None, aid, {
            "unit_id": unit.id, "tenant_id": tenant, "status": LeaseStatus.ACTIVE,
            "start_date": start.replace(day=1), "end_date": None,
            "rent": Decimal(rng.choice([850, 950, 1100, 1250, 1400])),
            "deposit": Decimal(rng.choice([1700, 1900, 2200])), "rent_day": 1,
        }))
    _rent_charges(leases, today)
    _documents(aid, leases, owners[3])
    # Short-term: bookings over the last 60 and next 90 days on the other units.
    short_term = units[:10] + units[16:]
    guests = [_person(rng, aid, [PortalRole.GUEST], rng.choice(["", "returning", "vip", ""]))
              for _ in range(24)]
    channels = list(Channel)
    for unit in short_term:
        day = today - timedelta(days=rng.randint(45, 60))
        while day < today + timedelta(days=90):
            nights = rng.randint(2, 9)
            arrival, departure = day, day + timedelta(days=nights)
            status = rng.choices(list(BookingStatus), weights=[2, 12, 1])[0]
            due = Decimal(nights * rng.choice([85, 95, 120, 140, 165]))
            paid = due if arrival <= today or rng.random() < 0.4 else (due * Decimal("0.3")).quantize(Decimal(1))
            booked = datetime.combine(arrival - timedelta(days=rng.randint(3, 80)), datetime.min.time(), UTC)
            booking = save_booking(None, aid, {
                "guest_id": rng.choice(guests), "unit_id": unit.id, "arrival": arrival,
                "departure": departure, "adults": rng.randint(1, unit.capacity), "status": status,
                "payment_type": rng.choice(list(PaymentType)), "channel": rng.choice(channels),
                "amount_due": due, "amount_paid": paid if status != BookingStatus.CANCELLED else Decimal(0),
                "tags": rng.choice(["", "", "late arrival", "pets", "early check-in"]),
            })
            booking.booked_at = min(booked, datetime.now(UTC))
            day = departure + timedelta(days=rng.randint(0, 6))
    db.session.flush()
    _booking_payments(units[:10], today)
    _appointments(aid, leases, today)
    _portal_activity(aid, leases, today)
    _notices_and_quotes(aid, leases, today)
    _welcome_upcoming_guests(aid, today)
    _owner_accounting(agency, owners, units, today)
    _management_agreements(agency, owners)  # after the fee terms: each agreement states its owner's
    _money_asked(owners)
    _applicants(units, today)
    _survey(aid, leases)
    _review_waiting(aid, today)
    _integrations(agency, units)
    return MANAGER_EMAIL, password


def _integrations(agency, units: list) -> None:
    """Where bookings come from: the channels' iCal calendars of three Seafront apartments (synced until
    yesterday, when staff turned sync off to move to a PMS; a clean run and one with refused events, since
    the demo has no internet to read them now), a CSV integration whose upload brought an Old Town flat and
    updated another, and two apartments' availability exported for the channels."""
    from sqlalchemy import select

    from portal.bookings.models import Booking
    from portal.integrations import csvimport, stays
    from portal.integrations import operations as integration_ops
    from portal.integrations.models import BookingSource, Feed, IntegrationKind, WhenMissing

    now = clock.now()
    ical = integration_ops.save_integration(None, agency.id, {
        "name": "Airbnb & Vrbo calendars", "kind": IntegrationKind.ICAL, "interval_minutes": 30,
        "when_missing": WhenMissing.CANCEL})
    addresses = ["https://www.airbnb.com/calendar/ical/41273859.ics?s=9c1f2e7a4b6d8e0f1a3c5b7d9e2f4a6c",
                 "https://www.airbnb.com/calendar/ical/41273907.ics?s=1d3f5b7c9e0a2c4e6b8d0f1a3c5e7b9d",
                 "http://www.vrbo.com/icalendar/6f2a1b7c9d3e4f508a1b2c3d4e5f6a7b.ics?nonTentative"]
    for unit, url in zip(units[:3], addresses, strict=True):
        db.session.add(Feed(agency_id=agency.id, integration_id=ical.id, unit_id=unit.id, url=url))
    # The stays it brought: the first two apartments' channel bookings know it as their origin.
    taken = db.session.scalars(select(Booking).where(Booking.unit_id.in_([u.id for u in units[:2]]),
                                                     Booking.channel.in_([Channel.AIRBNB, Channel.VRBO]))
                               .order_by(Booking.arrival)).all()
    for booking in taken:
        db.session.add(BookingSource(
            agency_id=agency.id, booking_id=booking.id, integration_id=ical.id,
            external_id=f"{secrets.token_hex(6)}-{secrets.token_hex(16)}@airbnb.com",
            first_seen_at=min(booking.booked_at, now - timedelta(days=3)), last_seen_at=now - timedelta(days=1)))
    good = stays.start_run(ical, "scheduled", 3)
    good.done, good.created, good.updated, good.skipped = 3, len(taken), 0, 2
    stays.finish_run(good)
    good.started_at, good.finished_at = now - timedelta(days=2, hours=5), now - timedelta(days=2, hours=5) + \
        timedelta(seconds=4)
    partial = stays.start_run(ical, "scheduled", 3)
    partial.done, partial.updated, partial.skipped = 3, 1, 5
    stays.record_error(partial, f"feed of {units[2].name}", "The calendar server answered 503 Service "
                       "Unavailable: it is read again at the next sync.", addresses[2])
    stays.record_error(
        partial, f"feed of {units[0].name} · event 7f5a0c3e1b2d@airbnb.com",
        "The departure (2026-12-03) is not after the arrival (2026-12-05).",
        "BEGIN:VEVENT\nDTSTART;VALUE=DATE:20261205\nDTEND;VALUE=DATE:20261203\n"
        "UID:7f5a0c3e1b2d@airbnb.com\nSUMMARY:Reserved\nEND:VEVENT")
    stays.finish_run(partial)
    partial.started_at, partial.finished_at = now - timedelta(days=1, hours=3), now - timedelta(days=1, hours=3) + \
        timedelta(seconds=6)
    ical.last_run_at = partial.started_at
    ical.created_at = now - timedelta(days=30)  # added before its runs, as a page shows them
    stays.set_sync(ical, True, confirmed=True)
    stays.set_sync(ical, False, confirmed=True)  # moving to a PMS: its new stays will come from there
    ical.sync_changed_at = now - timedelta(hours=20)

    sheet = integration_ops.save_integration(None, agency.id, {
        "name": "Owner spreadsheet (Old Town)", "kind": IntegrationKind.CSV, "interval_minutes": 60,
        "when_missing": WhenMissing.KEEP})
    # A new flat, one whose capacity changed, one as it was: 1 created, 1 updated.
    upload = csvimport.read((b"external_id,name,property,bedrooms,capacity\n"
                             b"OLD-11,Flat 11,Old Town Residences,2,4\n"
                             b"OLD-09,Flat 9,Old Town Residences,2,5\n"
                             b"OLD-10,Flat 10,Old Town Residences,2,4\n"), "units")
    run = csvimport.start(sheet, upload)
    csvimport.run_import(sheet, run, upload)
    run.started_at, run.finished_at = now - timedelta(days=6), now - timedelta(days=6) + timedelta(seconds=1)
    sheet.last_run_at = run.started_at
    sheet.created_at = now - timedelta(days=14)
    for unit in units[:2]:
        integration_ops.create_export(unit)
    db.session.flush()


def _money_asked(owners: list[int]) -> None:
    """A contribution asked of an Old Town owner: it waits for them in their portal's "Send money"."""
    from portal.accounting.contributions import request_contribution
    from portal.people.models import Person

    request_contribution(db.session.get(Person, owners[3]), Decimal("400.00"), "EUR",
                         "Reserve for the boiler replacement in Flat 2")


def _portal_activity(agency_id: int, leases: list, today: date) -> None:
    """What portal users did, so the back office has it to show: a signed lease and a repair request,
    and a guest under way who checked in, named the others, added insurance and asked for towels."""
    from sqlalchemy import select

    from portal.bookings.models import Booking
    from portal.bookings.operations import add_option
    from portal.documents.operations import sign
    from portal.workorders.operations import submit_request

    lease = leases[0]
    agreement = db.session.scalar(select(Document).where(Document.person_id == lease.tenant_id,
                                                         Document.requires_signature.is_(True)))
    sign(agreement, lease.tenant, lease.tenant.name, "192.0.2.10", "Demo browser")
    submit_request(lease.tenant, lease.unit, "repair", "Kitchen tap drips",
                   "The kitchen tap keeps dripping after it is closed.", lease_id=lease.id)
    _work_orders(agency_id, leases)
    stay = db.session.scalar(
        select(Booking).where(Booking.status == BookingStatus.CONFIRMED, Booking.arrival < today,
                              Booking.departure > today + timedelta(days=1)).order_by(Booking.arrival.desc()).limit(1))
    if stay is None:
        return
    stay.checked_in_at = datetime.combine(stay.arrival, datetime.min.time(), UTC).replace(hour=15, minute=20)
    stay.guest_names = ["Sam Rivera", "Noa Rivera"][: max(0, stay.unit.capacity - 1)]
    add_option(stay, "insurance")
    submit_request(stay.guest, stay.unit, "cleaning", "Extra towels", "Four more bath towels, please.",
                   booking_id=stay.id)
    db.session.flush()


def _notices_and_quotes(agency_id: int, leases: list, today: date) -> None:
    """Violation notices and insurance quotes: the tenant to try (first lease) has a noise notice with a photo
    and a contents-insurance quote waiting; another tenant disputed a parking notice; the guest staying now
    has a notice about smoking and a stay-protection quote. The automation mails each open one at start."""
    from io import BytesIO

    from sqlalchemy import select
    from werkzeug.datastructures import FileStorage

    from portal.agencies.models import StaffUser
    from portal.bookings.models import Booking
    from portal.insurance.operations import create_quote
    from portal.violations import operations as notices

    staff = db.session.scalar(select(StaffUser).where(StaffUser.email == MANAGER_EMAIL))
    first, second = leases[0], leases[1]
    notices.record(agency_id, {
        "lease_id": first.id, "category": "noise", "rule": "Quiet hours 22:00 to 08:00",
        "description": "Neighbours in the flats above and below reported loud music and guests on the balcony "
                       "until about 2 am on Saturday night.", "observed_on": today - timedelta(days=2)},
        staff, photos=[FileStorage(BytesIO(_photo()), "balcony.jpg")])
    create_quote(agency_id, {
        "lease_id": first.id, "insurer": "Mapfre Hogar", "product": "Contents Cover Plus",
        "cover": "Your belongings up to 25,000 EUR against fire, water damage and theft; third-party liability up "
                 "to 300,000 EUR; excess 150 EUR.", "premium": Decimal("96.00"), "currency": "EUR",
        "valid_until": today + timedelta(days=21)}, staff)
    parking = notices.record(agency_id, {
        "lease_id": second.id, "category": "parking", "rule": "Park only in your own bay",
        "description": "A car registered to the flat was parked in bay 7 (Flat 5's) three days running.",
        "observed_on": today - timedelta(days=6)}, staff)
    notices.respond(parking, second.tenant, "dispute", "Bay 7 was empty and ours was blocked by the builders' van; "
                    "we asked the site manager first.", source=notices.PORTAL)
    stay = db.session.scalar(select(Booking).where(Booking.checked_in_at.is_not(None)).limit(1))
    if stay is not None:
        notices.record(agency_id, {
            "booking_id": stay.id, "category": "smoking", "rule": "No smoking indoors",
            "description": "The cleaner found cigarette ash on the living-room table and a strong smell of smoke.",
            "observed_on": today}, staff, photos=[FileStorage(BytesIO(_photo()), "table.jpg")])
        create_quote(agency_id, {
            "booking_id": stay.id, "insurer": "Seguros Sol", "product": "Stay Protect",
            "cover": "Accidental damage to the apartment up to 1,000 EUR and lost keys up to 200 EUR; no excess.",
            "premium": Decimal("24.90"), "currency": "EUR", "valid_until": stay.departure}, staff)
    db.session.flush()


def _work_orders(agency_id: int, leases: list) -> None:
    """The work-order loop in each of its states: one waiting for its owner (above the agency's 500), one for its
    vendor's acceptance, one scheduled, one in progress with a photo, one completed with an invoice waiting for
    the owner (above the agency's invoice threshold of 100), one closed with its invoice paid."""
    from sqlalchemy import select

    from portal import clock
    from portal.agencies.models import StaffUser
    from portal.files.operations import add_file
    from portal.invoices.operations import approve, create_invoice, mark_paid, submit
    from portal.people.models import Person, PortalAccount
    from portal.workorders import operations as ops

    agency = agencies.get(agency_id)
    agency.settings = {**(agency.settings or {}), "owner_approval_above": "500", "invoice_approval_threshold": "100"}
    manager = db.session.scalar(select(StaffUser))
    staff = ops.Actor.staff(manager)
    plumber, electrician = db.session.scalars(
        select(Person).where(Person.accounts.any(PortalAccount.role == PortalRole.VENDOR),
                             Person.name.in_(["FixIt Plumbing", "Sol Electric"])).order_by(Person.name)).all()
    plumbing, electric = ops.Actor.as_person(plumber, "vendor"), ops.Actor.as_person(electrician, "vendor")
    now = clock.now()
    boiler = ops.submit_request(leases[1].tenant, leases[1].unit, "repair", "Boiler makes a loud noise",
                                "The boiler bangs when the heating starts in the morning.", lease_id=leases[1].id)
    ops.triage(boiler, staff, priority="high", category="heating", vendor_id=plumber.id, estimate="780.00",
               access_notes="Tenant at home after 16:00", preferred_times="Weekday afternoons")
    washer = ops.submit_request(leases[4].tenant, leases[4].unit, "repair", "Washing machine leaks",
                                "Water on the floor after every wash.", lease_id=leases[4].id)
    ops.triage(washer, staff, priority="normal", category="appliance", vendor_id=plumber.id, estimate="150.00",
               access_notes="Call the tenant first", preferred_times="Saturday morning",
               requires_vendor_acceptance=True)
    socket = ops.submit_request(leases[2].tenant, leases[2].unit, "repair", "Bedroom socket sparks",
                                "The socket by the bed sparked when I plugged in a lamp.", lease_id=leases[2].id)
    ops.triage(socket, staff, priority="urgent", category="electrical", vendor_id=electrician.id, estimate="90.00",
               access_notes="Key in the office key box, tag 12", permission_to_enter=True,
               requires_vendor_acceptance=True)
    ops.accept(socket, electric, source="portal")
    ops.schedule(socket, staff, source="back_office", at=now + timedelta(days=1, hours=2))
    light = ops.submit_request(leases[5].tenant, leases[5].unit, "repair", "Hallway light flickers",
                               "The hallway ceiling light flickers and buzzes.", lease_id=leases[5].id)
    ops.triage(light, staff, priority="normal", category="electrical", vendor_id=electrician.id, estimate="60.00")
    ops.schedule(light, staff, source="back_office", at=now + timedelta(minutes=1))
    ops.log_arrival(light, electric, source="portal", at=now - timedelta(minutes=20))
    add_file(light, io.BytesIO(_photo()), "hallway-light.jpg", person=electrician)
    shower = ops.submit_request(leases[3].tenant, leases[3].unit, "repair", "Shower drain blocked",
                                "Water stays in the shower tray.", lease_id=leases[3].id)
    ops.triage(shower, staff, priority="normal", category="plumbing", vendor_id=plumber.id, estimate="120.00")
    ops.schedule(shower, staff, source="back_office", at=now + timedelta(minutes=1))
    ops.log_arrival(shower, plumbing, source="portal", at=now - timedelta(minutes=50))
    ops.log_departure(shower, plumbing, source="portal", at=now, note="Cleared the drain trap.")
    ops.complete(shower, plumbing, source="portal", total="95.00")
    # 114.95 with tax, above the agency's 100: it waits for the owner's approval.
    submit(create_invoice(shower, plumber, number="FP-2026-0412", tax_rate="21", lines=[
        {"description": "Clear the shower drain trap", "quantity": "1", "unit_price": "55.00"},
        {"description": "Labour (hours)", "quantity": "1", "unit_price": "40.00"}]))
    lock = ops.submit_request(leases[0].tenant, leases[0].unit, "repair", "Front door lock sticks",
                              "The key turns only after a few tries.", lease_id=leases[0].id)
    ops.triage(lock, staff, priority="normal", category="locks", vendor_id=plumber.id, estimate="70.00")
    ops.schedule(lock, staff, source="back_office", at=now + timedelta(minutes=1))
    ops.log_arrival(lock, plumbing, source="portal", at=now - timedelta(hours=3))
    ops.log_departure(lock, plumbing, source="portal", at=now - timedelta(hours=2), note="Oiled and adjusted.")
    ops.complete(lock, plumbing, source="portal", total="60.00")
    paid = create_invoice(lock, plumber, number="FP-2026-0398", tax_rate="21", lines=[
        {"description": "Adjust the front door lock", "quantity": "1", "unit_price": "60.00"}])
    submit(paid)  # 72.60: below the threshold, the agency approves it and pays
    approve(paid, staff=manager)
    mark_paid(paid, manager, amount=paid.total, paid_on=agency.today(), reference="TRF 2026-0398")


def _applicants(units: list, today: date) -> None:
    """Prospective tenants and bookers in each state: the Old Town flats 7 to 10 and two seafront apartments take
    applications (their public forms are open); one applicant waits for the owner with the most approvals
    waiting (Flat 8's), one for another owner, one is just in, one approved by link, one declined, one withdrawn."""
    from sqlalchemy import select

    from portal.agencies.models import StaffUser
    from portal.applicants import operations as ops

    manager = db.session.scalar(select(StaffUser))
    for unit in (*units[16:20], units[0], units[4]):
        unit.accepting_applications = True
    flat7, flat8, flat9, flat10 = units[16:20]

    def applied(unit, name: str, email: str, kind: str, message: str, **dates) -> object:
        return ops.submit(unit, kind=kind, name=name, email=email, phone="+34 600 123 456", message=message,
                          source="public_form", **dates)

    waiting = applied(flat8, "Julia Berg", "julia.berg@example.com", "tenant",
                      "I am a nurse starting at the Hospital Carlos Haya next month; non-smoker, no pets.",
                      move_in=today + timedelta(days=32))
    ops.send_to_owner(waiting, manager)
    other = applied(flat7, "Daniel Osei", "daniel.osei@example.com", "booking",
                    "Three weeks in Málaga for a language course.",
                    arrival=today + timedelta(days=20), departure=today + timedelta(days=41))
    ops.send_to_owner(other, manager)
    applied(flat9, "Hana Sato", "hana.sato@example.com", "tenant", "Looking for a year, moving from Osaka.",
            move_in=today + timedelta(days=45))
    approved = applied(flat10, "Pierre Lambert", "pierre.lambert@example.com", "tenant",
                       "Retired couple, looking for a quiet flat in the old town.", move_in=today + timedelta(days=60))
    ops.send_to_owner(approved, manager)
    ops.approve(approved, ops.Actor.owner(flat10.owners[0]), via="link")
    declined = applied(flat8, "Rob Turner", "rob.turner@example.com", "booking", "Stag weekend, 8 of us!",
                       arrival=today + timedelta(days=12), departure=today + timedelta(days=15))
    ops.send_to_owner(declined, manager)
    ops.decline(declined, ops.Actor.owner(flat8.owners[0]), via="portal",
                reason="The flat sleeps four; no parties in the building.")
    withdrawn = ops.submit(units[0], kind="booking", name="Eva Lind", email="eva.lind@example.com",
                           arrival=today + timedelta(days=70), departure=today + timedelta(days=77),
                           message="Called the office.", source="staff", by=manager)
    ops.withdraw(withdrawn, manager, reason="Booked elsewhere, she called back.")
    db.session.flush()


def _photo() -> bytes:
    """A small JPEG made here, so the demo needs no picture file."""
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (320, 240), (222, 196, 120)).save(out, "JPEG", quality=80)
    return out.getvalue()


def _rent_charges(leases: list, today: date) -> None:
    """Last month's rent (paid) and this month's (open, except for two early payers)."""
    this_month = today.replace(day=1)
    last_month = (this_month - timedelta(days=1)).replace(day=1)
    for i, lease in enumerate(leases):
        for month in (last_month, this_month):
            charge = save_charge(None, lease.agency_id, {
                "kind": ChargeKind.RENT, "lease_id": lease.id, "booking_id": None,
                "description": f"Rent {month:%B %Y}", "amount": lease.rent, "due_date": month,
            })
            if month == last_month:
                # Paid on the 3rd of that month, so last month's owner statements have the rent in them.
                with clock.frozen_at(datetime.combine(month.replace(day=3), datetime.min.time(), UTC)
                                     .replace(hour=9 + i)):
                    pay(charge, lease.tenant, charge.amount, channel="office")
            elif i < 2:
                pay(charge, lease.tenant, charge.amount, channel="office")


def _booking_payments(units: list, today: date) -> None:
    """Stays of last month paid by card through their balance charge, a refund on one: the Seafront owners'
    income in last month's statements."""
    from sqlalchemy import select

    from portal.bookings.models import Booking
    from portal.money.operations import refund, sync_booking_balance

    last_month = (today.replace(day=1) - timedelta(days=1)).replace(day=1)
    stays = list(db.session.scalars(select(Booking).where(
        Booking.unit_id.in_([u.id for u in units]), Booking.status == BookingStatus.CONFIRMED,
        Booking.arrival >= last_month, Booking.arrival < today.replace(day=1)).order_by(Booking.arrival)))
    for n, stay in enumerate(stays[:12]):
        stay.amount_paid = Decimal(0)
        when = datetime.combine(stay.arrival - timedelta(days=1), datetime.min.time(), UTC).replace(hour=18)
        with clock.frozen_at(max(when, datetime.combine(last_month, datetime.min.time(), UTC).replace(hour=8))):
            charge = sync_booking_balance(stay)
            if charge is None:
                continue
            payment = pay(charge, stay.guest, charge.amount, channel="portal")
        if n == 4:
            with clock.frozen_at(when + timedelta(days=2)):
                refund(payment, (payment.amount * Decimal("0.2")).quantize(Decimal("0.01")),
                       "A night without hot water: 20 % back")
    db.session.flush()


def _owner_accounting(agency, owners: list[int], units: list, today: date) -> None:
    """Fee terms, one unit shared by two owners, a payout and a contribution last month, and last month's owner
    statements generated and sent (as the month-end job does) but one left a draft, so the ledger and statement
    pages have content and staff have a statement to send."""
    from portal.accounting import operations as accounting
    from portal.people.models import Person
    from portal.properties.models import unit_owners

    agency.settings = {**(agency.settings or {}), accounting.FEE_PERCENT: "8", accounting.FEE_FIXED: "12.00"}
    people = {pid: db.session.get(Person, pid) for pid in owners}
    people[owners[4]].fee_percent = Decimal("6.50")  # an owner with their own terms
    # Apartment 3B is half owners[2]'s, half owners[0]'s (shares: the split of each of its figures).
    shared = units[9]
    db.session.execute(unit_owners.delete().where(unit_owners.c.unit_id == shared.id))
    db.session.execute(unit_owners.insert(), [{"unit_id": shared.id, "person_id": owners[0], "share": Decimal(50)},
                                              {"unit_id": shared.id, "person_id": owners[2], "share": Decimal(50)}])
    last_month = (today.replace(day=1) - timedelta(days=1)).replace(day=1)
    staff = db.session.scalar(_manager())
    with clock.frozen_at(datetime.combine(last_month.replace(day=12), datetime.min.time(), UTC).replace(hour=10)):
        accounting.record_entry(people[owners[1]], "contribution", Decimal("400.00"), agency.currency,
                                last_month.replace(day=12), "Towards the new pool pump", by=staff)
    with clock.frozen_at(datetime.combine(last_month.replace(day=25), datetime.min.time(), UTC).replace(hour=10)):
        for n, (pid, amount) in enumerate(((owners[3], "1500.00"), (owners[4], "900.00"), (owners[0], "250.00"))):
            # The amounts are fixed and the balances depend on the day the demo is loaded: allowed beyond the
            # balance (an advance) rather than refused on some day of the month.
            accounting.record_entry(people[pid], "payout", Decimal(amount), agency.currency,
                                    last_month.replace(day=25), "Bank transfer", by=staff, advance=True,
                                    reference=f"SEPA-{last_month:%Y%m}25-{n + 1:03d}")
    # Every owner's statement sent as the month-end job would, but one left a draft for staff to review, regenerate
    # and send (which mails the owner "your statement is ready").
    draft = people[owners[1]]
    accounting.generate_month(last_month, [p for p in people.values() if p is not draft], send=True)
    accounting.generate_month(last_month, [draft])
    db.session.flush()


def _manager():
    """The demo manager (the query)."""
    from sqlalchemy import select

    from portal.agencies.models import StaffUser

    return select(StaffUser).where(StaffUser.email == MANAGER_EMAIL)


def _management_agreements(agency, owners: list[int]) -> None:
    """Each owner's management agreement, waiting for their e-signature (their portal's home page asks for it),
    stating their fee terms: their own if set, else the agency's."""
    from portal.accounting.operations import fee_terms
    from portal.money.currency import format_money

    for owner_id in owners:
        owner = db.session.get(Person, owner_id)
        percent, fixed = fee_terms(owner, agency)
        parts = [f"{percent.normalize():f} % of each month's income" if percent else "",
                 f"{format_money(fixed, agency.currency)} per unit per month" if fixed else ""]
        fee = " and ".join(p for p in parts if p) or "none"
        db.session.add(Document(
            agency_id=agency.id, person_id=owner_id, kind=DocumentKind.AGREEMENT, title="Management agreement",
            requires_signature=True,
            body=f"{owner.name} (the owner) entrusts {agency.name} with letting and looking after their "
                 f"units.\n\nManagement fee: {fee}, taken on the owner's monthly statement.\n"
                 "Repairs above the agreed amount wait for the owner's approval.\n"
                 "Statements are sent every month; the balance is paid out on request.\n\n"
                 "Either side may end this agreement with three months' notice."))
    db.session.flush()


def _documents(agency_id: int, leases: list, old_town_owner: int) -> None:
    """Each tenant's lease to e-sign and house rules; one owner notice shared with their tenants."""
    for lease in leases:
        db.session.add_all([
            Document(agency_id=agency_id, person_id=lease.tenant_id, kind=DocumentKind.AGREEMENT,
                     title=f"Lease agreement — {lease.unit}", requires_signature=True, lease_id=lease.id,
                     body=f"Lease of {lease.unit} to {lease.tenant.name} from {lease.start_date:%d %B %Y}.\n\n"
                          f"Monthly rent: {lease.rent} EUR, due on day {lease.rent_day} of each month.\n"
                          f"Deposit: {lease.deposit} EUR.\n\nThe tenant keeps the home in good order."),
            Document(agency_id=agency_id, person_id=lease.tenant_id, kind=DocumentKind.NOTICE, title="House rules",
                     body="Quiet hours 22:00-08:00. Recycling goes in the courtyard bins. No smoking indoors."),
        ])
    notice = Document(agency_id=agency_id, person_id=old_town_owner, kind=DocumentKind.NOTICE,
                      title="Façade works in January",
                      body="Scaffolding will be up on Calle Granada from 7 to 25 January. Balconies stay usable.")
    db.session.add(notice)
    db.session.flush()
    db.session.add(ShareRule(agency_id=agency_id, document_id=notice.id))


def _appointments(agency_id: int, leases: list, today: date) -> None:
    """A few inspections and repairs to confirm in the coming days."""
    for i, (lease, title) in enumerate(zip(leases[:3], ["Boiler service", "Annual inspection", "Window repair"],
                                           strict=True)):
        save_appointment(None, agency_id, {
            "person_id": lease.tenant_id, "unit_id": lease.unit_id, "title": title,
            "starts_at": datetime.combine(today + timedelta(days=3 + 2 * i), datetime.min.time()).replace(hour=10),
            "duration_minutes": 60, "status": AppointmentStatus.PROPOSED,
            "notes": "Our technician will ring the bell; please make sure someone is home.",
        })


def _welcome_upcoming_guests(agency_id: int, today: date) -> None:
    """Mail the next arrivals who owe a balance, with a pay link, so Sent mail has real links to try."""
    from sqlalchemy import select

    from portal import mail
    from portal.bookings.models import Booking

    agency = agencies.get(agency_id)
    portal_url = f"{current_app.config['BASE_URL'].rstrip('/')}/{agency.slug}/guest/"
    upcoming = db.session.scalars(
        select(Booking)
        .where(Booking.status == BookingStatus.CONFIRMED, Booking.arrival >= today,
               Booking.amount_paid < Booking.amount_due)  # the next arrivals who still owe a balance
        .order_by(Booking.arrival)
        .limit(3)
    )
    for b in upcoming:
        balance = balance_charge(b)  # every booking that owes something has one (save_booking keeps it)
        context = {"booking": b, "portal_url": portal_url, "agency_name": agency.name, "agency": agency,
                   "balance": balance, "link": links.link_function(b.guest)}
        mail.send(
            to=b.guest.email,
            subject=f"Booking {b.reference} confirmed",
            text=render_template("mail/booking_confirmed.txt", **context),
            html=render_template("mail/booking_confirmed.html", **context),
            person=b.guest,
            about=b,
            agency_id=agency_id,
        )


def _survey(agency_id: int, leases: list) -> None:
    """The survey sent after completed work orders (the "survey" solution sends it from now on), sent by hand to
    the tenants earlier: four answered, one has the link waiting in their mailbox."""
    from portal.links.delivery import send_link
    from portal.surveys import operations as surveys

    survey = surveys.save_survey(None, agency_id, {
        "title": "How did the repair go?", "sends_after": "workorder-completed",
        "intro": "Three quick questions about the work done in your home. Thank you for your time!"})
    rating = surveys.add_question(survey, "How happy are you with the work?", "rating", [], True)
    timing = surveys.add_question(survey, "Did the technician arrive on time?", "choice",
                                  ["On time", "A little late", "Very late", "Did not come"], True)
    better = surveys.add_question(survey, "Anything we could do better?", "text", [], False)
    answers = [(5, "On time", "Quick and tidy, thank you."), (4, "A little late", ""),
               (3, "Very late", "Please call before coming: nobody told me the time had changed."),
               (5, "On time", "")]
    for lease, (stars, when, text) in zip(leases[1:5], answers, strict=True):
        invitation = surveys.invite(survey, lease.tenant, about=f"Lease of {lease.unit}")
        surveys.respond(invitation, {f"q{rating.id}": str(stars), f"q{timing.id}": when, f"q{better.id}": text})
    waiting = leases[5].tenant
    send_link("survey", surveys.invite(survey, waiting, about=f"Lease of {leases[5].unit}"), waiting)


def _review_waiting(agency_id: int, today: date) -> None:
    """The guest who left most recently has their review request in the mailbox: its link opens the rating form
    (and the thank-you solution answers the review)."""
    from sqlalchemy import select

    from portal.bookings.models import Booking
    from portal.links.delivery import send_link

    departed = db.session.scalar(select(Booking).where(Booking.status == BookingStatus.CONFIRMED,
                                                       Booking.departure < today)
                                 .order_by(Booking.departure.desc(), Booking.id).limit(1))
    if departed is not None:
        send_link("review", departed, departed.guest)


def _credentials_file() -> Path:
    return Path(current_app.instance_path) / "demo-login.txt"


def remember_credentials(email: str, password: str) -> None:
    """Keep the demo manager's credentials in instance/ so `make run` can print them again."""
    path = _credentials_file()
    path.write_text(f"{email}\n{password}\n")
    path.chmod(0o600)


def read_credentials() -> tuple[str, str] | None:
    """The demo manager's credentials, if this machine loaded the demo."""
    path = _credentials_file()
    if not path.exists():
        return None
    email, password = path.read_text().split()[:2]
    return email, password


def api_key(slug: str = "costa-serena") -> str | None:
    """The demo agency's read-write API key, for `make run` to print: made the first time (and again when the
    database was reset), kept in instance/ like the manager's password. None without the demo agency."""
    from sqlalchemy import select

    from portal.agencies.models import Agency
    from portal.api.keys import create_key, recognise, revoke_key
    from portal.api.models import ApiKey

    path = Path(current_app.instance_path) / "demo-api-key.txt"
    if path.exists():
        key = path.read_text().strip()
        if recognise(key) is not None:
            return key
    agency_id = db.session.scalar(select(Agency.id).where(Agency.slug == slug))
    if agency_id is None:
        return None
    with db.transaction():
        # The key file was lost or its key revoked: a key of that name nobody holds any more is revoked too.
        for lost in db.session.scalars(select(ApiKey).where(ApiKey.agency_id == agency_id,
                                                            ApiKey.name == "Demo key (make run)",
                                                            ApiKey.revoked_at.is_(None))
                                      .execution_options(all_agencies=True)):
            revoke_key(lost)
        _row, key = create_key(agency_id, "Demo key (make run)", "read-write", None)
    path.write_text(key + "\n")
    path.chmod(0o600)
    return key


def people_to_try(slug: str = "costa-serena") -> list[tuple[str, str, str]]:
    """One demo person to sign in as per portal, read from the database: (portal, name, e-mail) for a tenant whose
    request is open, the owner with the most approvals waiting, a vendor with a job to accept, and the guest
    whose stay has a violation notice waiting for an answer (and an insurance quote)."""
    from sqlalchemy import func, select

    from portal.agencies.models import Agency
    from portal.bookings.models import Booking
    from portal.invoices.models import Invoice, InvoiceStatus
    from portal.people.models import Person
    from portal.properties.models import unit_owners
    from portal.violations.models import Violation, ViolationStatus
    from portal.workorders.models import WorkOrder, WorkStatus

    agency_id = db.session.scalar(select(Agency.id).where(Agency.slug == slug))
    if agency_id is None:
        return []
    db.scope(db.session, agency_id)
    tenant = db.session.scalar(select(Person).join(WorkOrder, WorkOrder.requester_id == Person.id)
                               .where(WorkOrder.status == WorkStatus.SUBMITTED, WorkOrder.lease_id.is_not(None))
                               .order_by(WorkOrder.id).limit(1))
    waiting = (select(WorkOrder.unit_id).where(WorkOrder.status == WorkStatus.AWAITING_OWNER_APPROVAL)
               .union_all(select(WorkOrder.unit_id).join(Invoice, Invoice.work_order_id == WorkOrder.id)
                          .where(Invoice.status == InvoiceStatus.AWAITING_OWNER_APPROVAL))).subquery()
    owner = db.session.scalar(select(Person).join(unit_owners, unit_owners.c.person_id == Person.id)
                              .join(waiting, waiting.c.unit_id == unit_owners.c.unit_id)
                              .group_by(Person.id).order_by(func.count().desc(), Person.id).limit(1))
    vendor = db.session.scalar(select(Person).join(WorkOrder, WorkOrder.vendor_id == Person.id)
                               .where(WorkOrder.status == WorkStatus.AWAITING_VENDOR_ACCEPTANCE)
                               .order_by(WorkOrder.id).limit(1))
    guest = db.session.scalar(select(Person).join(Booking, Booking.guest_id == Person.id)
                              .join(Violation, Violation.booking_id == Booking.id)
                              .where(Violation.status == ViolationStatus.OPEN).order_by(Violation.id).limit(1))
    return [(portal, person.name, person.email) for portal, person in
            (("Tenant", tenant), ("Owner", owner), ("Vendor", vendor), ("Guest", guest)) if person is not None]
