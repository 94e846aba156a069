"""Owners with bookings, leases, orders and documents on their units, in an agency on Europe/Berlin time,
and a second agency: for tests/portals/test_owner_portal*.py. Built with the real operations."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from portal import db
from portal.bookings.models import Channel, LeaseStatus
from portal.bookings.operations import save_lease
from portal.documents.models import Document, DocumentKind
from portal.workorders import operations as ops
from tests import factories as f


def management_agreement(a, owner) -> Document:
    doc = Document(agency_id=a.id, person_id=owner.id, kind=DocumentKind.AGREEMENT, title="Management agreement",
                   body=f"{owner.name} entrusts the management of their units to {a.name}.", requires_signature=True)
    db.session.add(doc)
    db.session.flush()
    return doc


def build() -> dict:
    """Olga owns Seafront 1A and Old Town 2B; Otto owns Hillside 3C. Each has a booking and a lease; an
    old order on 1A; Beta's owner Bea has a booking too."""
    a = f.agency("alpha", timezone="Europe/Berlin")
    staff = f.staff(a)
    olga = f.person(a, "Olga Owner", "olga@example.com", roles=["owner"])
    otto = f.person(a, "Otto Owner", "otto@example.com", roles=["owner"])
    gus = f.person(a, "Gus Guest", "gus@example.com")
    gus.phone = "+49 30 1234567"
    tina = f.person(a, "Tina Tenant", "tina@example.com", roles=["tenant"])
    seafront, old_town = f.unit(a, f.prop(a, "Seafront"), "1A"), f.unit(a, f.prop(a, "Old Town"), "2B")
    hillside = f.unit(a, f.prop(a, "Hillside"), "3C")
    seafront.owners.append(olga)
    old_town.owners.append(olga)
    hillside.owners.append(otto)
    db.session.flush()
    stay = f.booking(a, seafront, gus, arrival=date(2026, 3, 28), departure=date(2026, 4, 2),
                     channel=Channel.AIRBNB, amount_due=Decimal("500.00"))
    otto_stay = f.booking(a, hillside, f.person(a, "Hal Guest", "hal@example.com"), arrival=date(2026, 3, 5),
                          departure=date(2026, 3, 9))
    lease = save_lease(None, a.id, {"unit_id": old_town.id, "tenant_id": tina.id, "status": LeaseStatus.ACTIVE,
                                    "start_date": date(2026, 3, 15), "end_date": None, "rent": Decimal("950.00"),
                                    "deposit": Decimal("1900.00"), "rent_day": 1})
    agreement = Document(agency_id=a.id, person_id=tina.id, kind=DocumentKind.AGREEMENT, title="Lease agreement",
                         body="Tina rents Old Town 2B.", requires_signature=True, lease_id=lease.id)
    letter = Document(agency_id=a.id, person_id=tina.id, kind=DocumentKind.LETTER, title="Tina's private letter",
                      body="Not for the owner.", lease_id=lease.id)
    db.session.add_all([agreement, letter])
    old_order = ops.submit_request(tina, old_town, "repair", "Dripping shower", "It drips.")
    b = f.agency("beta", timezone="Europe/Berlin")
    bea = f.person(b, "Bea Owner", "bea@example.com", roles=["owner"])
    beta_unit = f.unit(b, f.prop(b, "Beta House"), "B1")
    beta_unit.owners.append(bea)
    db.session.flush()
    beta_stay = f.booking(b, beta_unit, f.person(b, "Bo Guest", "bo@example.com"), arrival=date(2026, 3, 20),
                          departure=date(2026, 3, 22))
    db.scope(db.session, a.id)
    ids = {"agency": a.id, "beta": b.id, "olga": olga.id, "otto": otto.id, "gus": gus.id, "tina": tina.id,
           "staff": staff.id, "seafront": seafront.id, "old_town": old_town.id, "hillside": hillside.id,
           "stay": stay.id, "otto_stay": otto_stay.id, "lease": lease.id, "agreement": agreement.id,
           "letter": letter.id, "old_order": old_order.id, "bea": bea.id, "beta_unit": beta_unit.id,
           "beta_stay": beta_stay.id}
    db.session.commit()
    return ids


MARCH = datetime(2026, 3, 10, 11, 0, tzinfo=UTC)  # noon in Berlin
