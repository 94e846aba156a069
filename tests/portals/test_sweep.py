"""Every portal route that takes an id, for every portal role, with another person's and another
agency's ids: never a 200, and nothing changes."""


import io

import pytest
from flask import url_for
from sqlalchemy import func, select

from portal import db, links
from portal.bookings.models import Booking
from portal.documents.models import Document, DocumentKind, Signature
from portal.files.operations import add_file
from portal.money.models import Charge, Payment
from portal.workorders.models import WorkOrder
from portal.workorders.operations import submit_request
from tests import factories as f
from tests.conftest import csrf_token, press_link
from tests.workorders.test_files import jpeg

PORTALS = ("tenant.", "guest.", "owner.", "vendor.", "portals.")
KIND_OF = {"doc_id": "document", "booking_id": "booking", "charge_id": "charge", "appointment_id": "appointment",
           "order_id": "order", "file_id": "file"}


def _objects(a, owner):
    booking = f.booking(a, f.unit(a, f.prop(a, f"{a.slug} House")), owner)
    document = Document(agency_id=a.id, person_id=owner.id, kind=DocumentKind.NOTICE, title="Private",
                        body="x", requires_signature=True)
    db.session.add(document)
    db.session.flush()
    # An order that `owner` asked for, on a unit they own, assigned to them as its vendor: theirs in every
    # portal, nobody else's.
    order = submit_request(owner, booking.unit, "repair", "Private repair", "x")
    order.vendor_id = owner.id
    booking.unit.owners.append(owner)
    photo = add_file(order, io.BytesIO(jpeg()), "private.jpg", person=owner)
    return {"booking": booking.id, "charge": f.charge(a, booking=booking).id, "document": document.id,
            "appointment": f.appointment(a, owner).id, "order": order.id, "file": photo.id}


@pytest.fixture
def world(app):
    with app.app_context():
        beta = f.agency("beta")
        theirs = _objects(beta, f.person(beta, "Beta Guest", "b@example.com", roles=["tenant", "guest", "owner"]))
        a = f.agency("alpha")
        other = f.person(a, "Other Person", "other@example.com", roles=["tenant", "guest", "owner", "vendor"])
        others = _objects(a, other)
        users = {role: f.person(a, f"{role} user", f"{role}@example.com", roles=[role]).id
                 for role in ("tenant", "guest", "owner", "vendor")}
        tokens = {}
        from portal.people.models import Person

        for role, pid in users.items():
            person = db.session.get(Person, pid)
            tokens[role] = links.token(links.create("login", person, person))
        db.session.commit()
    return others, theirs, tokens


def _client(app, token):
    c = app.test_client()
    press_link(c, token)
    return c


def _id_rules(app):
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith(PORTALS) and rule.arguments & set(KIND_OF):
            yield rule


def test_every_portal_id_route_is_in_the_sweep(app):
    rules = list(_id_rules(app))
    assert len(rules) >= 12
    for rule in rules:
        assert (rule.arguments - {"agency"}) <= set(KIND_OF), f"{rule.rule}: add its id to KIND_OF"


def test_other_peoples_and_other_agencies_ids_are_never_200(app, world):
    others, theirs, tokens = world
    checked = 0
    for role, token in tokens.items():
        c = _client(app, token)
        csrf = csrf_token(c.get(f"/alpha/{role}/").text)
        for rule in _id_rules(app):
            args = rule.arguments & set(KIND_OF)
            for agency, objects in (("alpha", others), ("alpha", theirs), ("beta", theirs)):
                with app.test_request_context():
                    url = url_for(rule.endpoint, agency=agency, **{arg: objects[KIND_OF[arg]] for arg in args})
                for method in sorted(rule.methods & {"GET", "POST"}):
                    r = c.get(url) if method == "GET" else c.post(url, data={"csrf_token": csrf, "typed_name": "X",
                                                                             "option": "insurance", "title": "T",
                                                                             "description": "D", "kind": "repair"})
                    # Another person's or agency's item is simply not there: never 200, never a 403
                    # that would confirm it exists; 302 only to sign in to another agency's portal.
                    assert r.status_code in (302, 404), (role, method, url, r.status_code)
                    if r.status_code == 302:
                        assert "/login" in r.headers["Location"], (role, method, url)
                    checked += 1
    assert checked > 100
    with app.app_context():
        assert db.session.scalar(select(func.count(Signature.id)).execution_options(all_agencies=True)) == 0
        assert db.session.scalar(select(func.count(Payment.id)).execution_options(all_agencies=True)) == 0
        assert db.session.scalar(select(func.count(WorkOrder.id)).execution_options(all_agencies=True)) == 2
        # The two charges made above and each agency's booking balance: nothing added.
        assert db.session.scalar(select(func.count(Charge.id)).execution_options(all_agencies=True)) == 4
        assert db.session.scalar(select(func.count(Booking.id)).where(Booking.checked_in_at.is_not(None))
                                 .execution_options(all_agencies=True)) == 0
