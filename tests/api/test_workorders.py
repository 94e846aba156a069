"""/api/v1/work-orders: list and filters, get, a request opened for someone, triage and status moves through the
back office's rules (a refused move changes nothing), other agencies' ids and read keys refused."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from portal import clock, db
from portal.agencies.models import Agency
from portal.workorders import operations as ops
from portal.workorders.models import WorkOrder, WorkOrderEvent
from tests import factories as f
from tests.api.checks import error, other_agency, reader

BASE = "/api/v1/work-orders"


@pytest.fixture
def shop(app, alpha):
    """Alpha's tenant Tom at unit 1A, its vendor Victor, a second unit 2B, and Tom's leaking tap (submitted)."""
    with app.app_context():
        a = db.session.get(Agency, alpha)
        db.scope(db.session, a.id)
        tom = f.person(a, "Tom Tenant", "tom@example.com", roles=["tenant"])
        vic = f.person(a, "Victor Vendor", "victor@example.com", roles=["vendor"])
        p = f.prop(a)
        unit, other = f.unit(a, p, "1A"), f.unit(a, p, "2B")
        tap = ops.submit_request(tom, unit, "repair", "Leaking tap", "The kitchen tap drips")
        db.session.commit()
        return {"tom": tom.id, "vic": vic.id, "unit": unit.id, "other_unit": other.id, "tap": tap.id}


def _patch(api, order_id: int, body: dict):
    url = f"{BASE}/{order_id}"
    return api.patch(url, json=body, headers={"If-Match": api.get(url).headers["ETag"]})


def _events(app, order_id: int) -> list[tuple[str, str, str]]:
    with app.app_context():
        return [(e.action, e.actor_name, e.new_status) for e in db.session.scalars(
            select(WorkOrderEvent).where(WorkOrderEvent.work_order_id == order_id).order_by(WorkOrderEvent.id)
            .execution_options(all_agencies=True))]


def test_open_a_request_for_someone_then_list_and_filter(api, shop, app):
    made = api.post(BASE, json={"requester_id": shop["tom"], "unit_id": shop["other_unit"], "kind": "cleaning",
                                "title": " Deep clean ", "description": "Before the new tenant\nmoves in"})
    assert made.status_code == 201, made.text
    order = made.json
    assert (order["status"], order["title"], order["kind"], order["unit_id"], order["requester_id"]) == (
        "submitted", "Deep clean", "cleaning", shop["other_unit"], shop["tom"])
    assert made.headers["Location"] == f"{BASE}/{order['id']}"
    assert api.get(made.headers["Location"]).json == order
    # The timeline names the key, as the agency's own doing.
    assert _events(app, order["id"]) == [("submit", "API key “PMS”", "submitted")]

    everything = api.get(BASE).json
    assert everything["total"] == 2 and [o["id"] for o in everything["items"]] == [order["id"], shop["tap"]]
    assert [o["id"] for o in api.get(f"{BASE}?unit_id={shop['unit']}").json["items"]] == [shop["tap"]]
    assert api.get(f"{BASE}?status=triaged").json["total"] == 0
    assert api.get(f"{BASE}?requester_id={shop['tom']}&status=submitted").json["total"] == 2
    first = api.get(f"{BASE}?per_page=1").json
    assert first["pages"] == 2 and [o["id"] for o in api.get(first["next"]).json["items"]] == [shop["tap"]]
    assert error(api.get(f"{BASE}?status=lost"), 422, "invalid")["fields"].keys() == {"status"}


def test_refused_requests_say_why_per_field(api, shop, app):
    missing = api.post(BASE, json={"requester_id": shop["tom"], "unit_id": 999999, "kind": "plumbing",
                                   "title": "", "description": "x"})
    assert error(missing, 422, "invalid")["fields"].keys() == {"kind", "title"}
    unknown_unit = api.post(BASE, json={"requester_id": shop["tom"], "unit_id": 999999, "kind": "repair",
                                        "title": "Door", "description": "Sticks"})
    assert error(unknown_unit, 422, "invalid")["fields"] == {"unit_id": ["No such record in your agency."]}
    with app.app_context():
        assert db.session.scalar(select(func.count(WorkOrder.id)).execution_options(all_agencies=True)) == 1


def test_triage_then_every_move_to_closed(api, shop, app):
    triaged = _patch(api, shop["tap"], {"vendor_id": shop["vic"], "priority": "high", "category": "plumbing",
                                        "estimate": "80.00", "access_notes": "Key with the porter"})
    assert triaged.status_code == 200, triaged.text
    assert (triaged.json["status"], triaged.json["vendor_id"], triaged.json["priority"], triaged.json["estimate"]) \
        == ("triaged", shop["vic"], "high", "80.00")
    visit = (clock.now() + timedelta(days=2)).replace(microsecond=0)
    scheduled = _patch(api, shop["tap"], {"status": "scheduled", "scheduled_at": visit.isoformat()})
    assert scheduled.status_code == 200, scheduled.text
    assert scheduled.json["status"] == "scheduled"
    assert scheduled.json["scheduled_at"].startswith(visit.strftime("%Y-%m-%dT%H:%M"))
    assert _patch(api, shop["tap"], {"status": "in-progress"}).json["status"] == "in-progress"
    done = _patch(api, shop["tap"], {"status": "completed", "total": "95.50"})
    assert (done.json["status"], done.json["total"]) == ("completed", "95.50")
    assert _patch(api, shop["tap"], {"status": "closed"}).json["status"] == "closed"
    late = _patch(api, shop["tap"], {"priority": "low"})
    assert error(late, 422, "invalid")["fields"] == {"status": [
        "“Triage” is not possible: the order is closed (possible when accepted, awaiting owner approval, awaiting "
        "vendor acceptance, declined, reschedule requested, submitted, triaged)."]}
    assert [(action, status) for action, _, status in _events(app, shop["tap"])] == [
        ("submit", "submitted"), ("triage", "triaged"), ("schedule", "scheduled"), ("start", "in-progress"),
        ("complete", "completed"), ("close", "closed")]


def test_a_move_the_rules_refuse_changes_nothing(api, shop, app):
    # Triage asks for the vendor's acceptance; scheduling in the same request is refused: neither is kept.
    both = _patch(api, shop["tap"], {"vendor_id": shop["vic"], "requires_vendor_acceptance": True,
                                     "status": "scheduled",
                                     "scheduled_at": (clock.now() + timedelta(days=1)).isoformat()})
    assert "the order is awaiting vendor acceptance" in error(both, 422, "invalid")["fields"]["status"][0]
    after = api.get(f"{BASE}/{shop['tap']}").json
    assert (after["status"], after["vendor_id"], after["requires_vendor_acceptance"]) == ("submitted", None, False)
    assert _events(app, shop["tap"]) == [("submit", "Tom Tenant", "submitted")]

    early = _patch(api, shop["tap"], {"status": "completed"})
    assert "is not possible: the order is submitted" in error(early, 422, "invalid")["fields"]["status"][0]
    stray = _patch(api, shop["tap"], {"reason": "No longer needed"})
    assert error(stray, 422, "invalid")["fields"] == {"reason": ["Only with status cancelled."]}
    foreign_vendor = _patch(api, shop["tap"], {"vendor_id": shop["tom"]})
    assert error(foreign_vendor, 422, "invalid")["fields"] == {"vendor_id": ["Choose one of the agency's vendors."]}
    naive = _patch(api, shop["tap"], {"status": "scheduled", "scheduled_at": "2030-01-01T10:00:00"})
    assert error(naive, 422, "invalid")["fields"].keys() == {"scheduled_at"}
    cancelled = _patch(api, shop["tap"], {"status": "cancelled", "reason": "Fixed by the tenant"})
    assert (cancelled.json["status"], cancelled.json["status_reason"]) == ("cancelled", "Fixed by the tenant")
    assert len(_events(app, shop["tap"])) == 2


def test_other_agencies_and_read_keys(api, shop, app, alpha):
    beta = other_agency(app)
    assert error(beta.get(f"{BASE}/{shop['tap']}"), 404, "not_found")
    assert error(beta.patch(f"{BASE}/{shop['tap']}", json={"status": "cancelled"}, headers={"If-Match": "*"}),
                 404, "not_found")
    assert beta.get(BASE).json["total"] == 0
    theirs = beta.post(BASE, json={"requester_id": shop["tom"], "unit_id": shop["unit"], "kind": "repair",
                                   "title": "Mine now", "description": "x"})
    assert error(theirs, 422, "invalid")["fields"] == {"requester_id": ["No such record in your agency."]}

    read = reader(app, alpha)
    assert read.get(f"{BASE}/{shop['tap']}").status_code == 200
    etag = read.get(f"{BASE}/{shop['tap']}").headers["ETag"]
    assert error(read.patch(f"{BASE}/{shop['tap']}", json={"status": "cancelled"}, headers={"If-Match": etag}),
                 403, "read_only_key")
    assert error(read.post(BASE, json={"requester_id": shop["tom"], "unit_id": shop["unit"], "kind": "repair",
                                       "title": "Door", "description": "Sticks"}), 403, "read_only_key")
    assert api.get(f"{BASE}/{shop['tap']}").json["status"] == "submitted"
