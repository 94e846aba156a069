"""Every /api/v1 route that names a row, every method, with another agency's ids: 404, and nothing of theirs changes.
The routes are found in the app's URL map, so a new resource is swept as soon as its id names a kind below."""

from __future__ import annotations

import pytest
from flask import url_for
from sqlalchemy import select

from automation.models import Task
from portal import db, mail
from portal.documents.models import DocumentKind
from portal.documents.operations import save_document
from portal.integrations.models import Integration, IntegrationKind
from portal.integrations.stays import set_sync, start_run
from portal.money.operations import pay
from portal.workorders import operations as ops
from tests import factories as f
from tests.api.conftest import ApiClient, make_key

# The kind of row each id argument of an API route names (a new route's id must be listed here).
KINDS = {"unit_id": "unit", "person_id": "person", "booking_id": "booking", "lease_id": "lease",
         "charge_id": "charge", "payment_id": "payment", "integration_id": "integration", "order_id": "order",
         "document_id": "document", "message_id": "message", "run_id": "run", "solution_id": "solution",
         "task_id": "task"}
OTHER_ARGS = {"external_id": "R-1"}
# A body that passes validation where the route takes one, so that the lookup is what refuses.
BODIES = {"bookings.push_stay": {"unit_id": 1, "arrival": "2027-01-01", "departure": "2027-01-03"},
          "units.push_unit": {"name": "Theirs", "property_name": "Their house"},
          "integrations.set_sync": {"on": False, "confirm": True}}


def _objects(a) -> dict[str, int]:
    u = f.unit(a)
    guest = f.person(a, f"{a.slug} guest", f"guest@{a.slug}.example", roles=["guest"])
    booking = f.booking(a, u, guest)
    lease = f.lease(a, f.unit(a, u.property, "2"), f.person(a, f"{a.slug} tenant", f"tenant@{a.slug}.example"))
    charge = f.charge(a, lease=lease)
    payment = pay(charge, lease.tenant, charge.amount, channel="office")
    integration = Integration(agency_id=a.id, name="PMS", kind=IntegrationKind.PMS)
    db.session.add(integration)
    db.session.flush()
    set_sync(integration, True, confirmed=True)
    run = start_run(integration, "api", 0)
    order = ops.submit_request(guest, u, "repair", "Door", "It sticks")
    document = save_document(None, a.id, {"person_id": guest.id, "kind": DocumentKind.LETTER, "title": "Hello",
                                          "body": "Welcome."})
    message = mail.send(to=guest.email, subject="Hello", text="Welcome", person=guest)
    solution = f.solution(a, "extra-services", name="Extras")
    f.booking(a, u, guest, arrival=booking.departure)  # planned by the solution
    task = db.session.scalars(select(Task).where(Task.solution_id == solution.id)).first()
    return {"unit": u.id, "person": guest.id, "booking": booking.id, "lease": lease.id, "charge": charge.id,
            "payment": payment.id, "integration": integration.id, "run": run.id, "order": order.id,
            "document": document.id, "message": message.id, "solution": solution.id, "task": task.id}


@pytest.fixture
def two_agencies(app):
    """Alpha's and beta's objects of every kind, and a read-write key of each."""
    with app.app_context():
        a, b = f.agency("alpha"), f.agency("beta")
        db.scope(db.session, a.id)
        mine = _objects(a)
        db.scope(db.session, b.id)
        theirs = _objects(b)
        db.session.commit()
        return mine, theirs, make_key(a), make_key(b)


def _id_rules(app):
    return [r for r in app.url_map.iter_rules() if r.rule.startswith("/api/v1/") and r.arguments]


def _url(app, rule, objects: dict[str, int]) -> str:
    args = {name: objects[KINDS[name]] if name in KINDS else OTHER_ARGS[name] for name in rule.arguments}
    with app.test_request_context():
        return url_for(rule.endpoint, **args)


def test_every_id_route_is_covered(app):
    rules = _id_rules(app)
    assert len(rules) >= 10
    for rule in rules:
        unknown = {a for a in rule.arguments if a not in KINDS and a not in OTHER_ARGS}
        assert not unknown, f"{rule.rule}: add {unknown} to KINDS (and its rows to _objects) so isolation is tested"


def test_another_agencys_ids_are_not_found_anywhere(app, two_agencies):
    mine, theirs, my_key, their_key = two_agencies
    api, them = ApiClient(app.test_client(), my_key), ApiClient(app.test_client(), their_key)
    before = {k: them.get(f"/api/v1/{path}/{theirs[k]}").json for k, path in
              (("unit", "units"), ("person", "people"), ("booking", "bookings"), ("lease", "leases"),
               ("charge", "charges"), ("payment", "payments"))}
    checked = 0
    for rule in _id_rules(app):
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            body = BODIES.get(rule.endpoint, {}) if method in ("POST", "PUT", "PATCH") else None
            answer = api.open(method, _url(app, rule, theirs), json=body, headers={"If-Match": "*"})
            assert answer.status_code == 404, (method, rule.rule, answer.status_code, answer.text)
            assert answer.json["error"]["code"] == "not_found"
            if method == "GET":  # and my own ids are found, with the same route
                assert api.get(_url(app, rule, mine)).status_code == 200, rule.rule
            checked += 1
    assert checked >= 10
    after = {k: them.get(f"/api/v1/{path}/{theirs[k]}").json for k, path in
             (("unit", "units"), ("person", "people"), ("booking", "bookings"), ("lease", "leases"),
              ("charge", "charges"), ("payment", "payments"))}
    assert after == before
    assert them.get(f"/api/v1/bookings?integration_id={theirs['integration']}").json["total"] == 0
