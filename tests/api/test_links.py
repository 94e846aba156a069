"""/api/v1/links: a one-time link issued for an action on an object for a person works when opened (its action
page); unknown actions, sign-in links, other agencies' objects, someone else's object and settled ones refused."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from portal import db
from portal.agencies.models import Agency
from portal.api.models import IdempotentRequest
from portal.links.models import ActionLink
from portal.money.models import ChargeStatus
from portal.workorders import operations as ops
from tests import factories as f
from tests.api.checks import error, other_agency, reader


@pytest.fixture
def due(app, alpha):
    """Tom's open rent charge, Gina (a guest), and a repair waiting for Victor the vendor's acceptance."""
    with app.app_context():
        a = db.session.get(Agency, alpha)
        db.scope(db.session, a.id)
        lease = f.lease(a)
        rent = f.charge(a, lease=lease)
        gina = f.person(a, "Gina Guest", "gina@example.com", roles=["guest"])
        vic = f.person(a, "Victor Vendor", "victor@example.com", roles=["vendor"])
        order = ops.submit_request(lease.tenant, lease.unit, "repair", "Broken boiler", "No hot water")
        ops.triage(order, ops.SYSTEM, vendor_id=vic.id, requires_vendor_acceptance=True)
        db.session.commit()
        return {"rent": rent.id, "tom": lease.tenant_id, "gina": gina.id, "vic": vic.id, "order": order.id}


def _links(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(ActionLink.id)).execution_options(all_agencies=True))


def test_an_issued_link_opens_its_action_page(api, due, app):
    body = {"action": "pay", "object_id": due["rent"], "person_id": due["tom"]}
    issued = api.post("/api/v1/links", json=body, headers={"Idempotency-Key": "link-1"})
    assert issued.status_code == 201, issued.text
    # A retried request gets the same link again; what is kept for the replay holds no usable URL.
    again = api.post("/api/v1/links", json=body, headers={"Idempotency-Key": "link-1"})
    assert again.json == issued.json and again.headers["Idempotent-Replayed"] == "true"
    token = issued.json["url"].rsplit("/", 1)[1]
    with app.app_context():
        [kept] = db.session.scalars(select(IdempotentRequest.body).execution_options(all_agencies=True)).all()
        assert token not in kept and issued.json["id"] in kept
    link = issued.json
    assert (link["action"], link["object_type"], link["object_id"], link["person_id"]) == (
        "pay", "Charge", due["rent"], due["tom"])
    assert link["url"].startswith(f"{app.config['BASE_URL']}/l/pay~") and link["expires_at"]
    opened = app.test_client().get(link["url"].removeprefix(app.config["BASE_URL"]))
    assert opened.status_code == 200 and "Pay now" in opened.text and "Rent December 2026" in opened.text

    job = api.post("/api/v1/links", json={"action": "order_acceptance", "object_id": due["order"],
                                          "person_id": due["vic"]})
    assert job.status_code == 201, job.text
    page = app.test_client().get(job.json["url"].removeprefix(app.config["BASE_URL"]))
    assert page.status_code == 200 and "Broken boiler" in page.text and "Accept" in page.text
    assert _links(app) == 2


def test_links_that_cannot_be_issued_say_why(api, due, app, alpha):
    unknown = api.post("/api/v1/links", json={"action": "teleport", "object_id": 1, "person_id": due["tom"]})
    assert error(unknown, 422, "invalid")["fields"]["action"][0].startswith("Unknown action: one of ")
    signin = api.post("/api/v1/links", json={"action": "login", "object_id": due["tom"], "person_id": due["tom"]})
    assert error(signin, 422, "invalid")["fields"].keys() == {"action"}
    missing = api.post("/api/v1/links", json={"action": "pay", "object_id": 999999, "person_id": due["tom"]})
    assert error(missing, 404, "not_found")
    not_hers = api.post("/api/v1/links", json={"action": "pay", "object_id": due["rent"], "person_id": due["gina"]})
    assert error(not_hers, 422, "invalid")["fields"] == {"person_id": ["This charge is not this person's to act on."]}
    nobody = api.post("/api/v1/links", json={"action": "pay", "object_id": due["rent"], "person_id": 999999})
    assert error(nobody, 422, "invalid")["fields"] == {"person_id": ["No such record in your agency."]}
    shape = api.post("/api/v1/links", json={"action": "pay", "object_id": "1"})
    assert error(shape, 422, "invalid")["fields"].keys() == {"object_id", "person_id"}
    with app.app_context():
        db.scope(db.session, alpha)
        from portal.money.models import Charge

        db.session.get(Charge, due["rent"]).status = ChargeStatus.PAID
        db.session.commit()
    paid = api.post("/api/v1/links", json={"action": "pay", "object_id": due["rent"], "person_id": due["tom"]})
    assert error(paid, 422, "invalid")["fields"] == {
        "object_id": ["This charge has been paid. Nothing more needs doing."]}
    assert _links(app) == 0


def test_other_agencies_and_read_keys(api, due, app, alpha):
    body = {"action": "pay", "object_id": due["rent"], "person_id": due["tom"]}
    assert error(other_agency(app).post("/api/v1/links", json=body), 404, "not_found")
    assert error(reader(app, alpha).post("/api/v1/links", json=body), 403, "read_only_key")
    assert _links(app) == 0
