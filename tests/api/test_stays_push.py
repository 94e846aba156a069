"""A PMS pushes its stays: PUT /api/v1/integrations/<id>/stays/<external_id>, upserted by (integration, external ID)
through the sync engine, and only while the integration's Sync stays is on."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from portal import db
from portal.agencies.models import Agency
from portal.bookings.models import Booking
from portal.integrations.models import BlockedDates, Integration, IntegrationKind, SyncRun
from portal.integrations.stays import set_sync
from tests import factories as f
from tests.api.conftest import ApiClient, make_key

STAY = {"unit_external_id": "SEA-01", "arrival": "2027-05-01", "departure": "2027-05-04", "guest_name": "Lena Berg",
        "guest_email": "lena@example.com", "adults": 2, "amount_due": "420.00", "channel": "booking.com",
        "reference": "BK-991"}


@pytest.fixture
def pms(app, alpha):
    """Alpha's unit SEA-01, a PMS integration with Sync stays on, an iCal one, and beta with a PMS of its own."""
    with app.app_context():
        a = db.session.get(Agency, alpha)
        db.scope(db.session, a.id)
        u = f.unit(a)
        u.external_id = "SEA-01"
        on = Integration(agency_id=a.id, name="Hostaway", kind=IntegrationKind.PMS)
        ical = Integration(agency_id=a.id, name="Airbnb calendars", kind=IntegrationKind.ICAL)
        db.session.add_all([on, ical])
        db.session.flush()
        set_sync(on, True, confirmed=True)
        set_sync(ical, True, confirmed=True)
        b = f.agency("beta")
        bu = f.unit(b)
        theirs = Integration(agency_id=b.id, name="Theirs", kind=IntegrationKind.PMS)
        db.session.add(theirs)
        db.session.flush()
        set_sync(theirs, True, confirmed=True)
        db.session.commit()
        return {"unit": u.id, "pms": on.id, "ical": ical.id, "beta_pms": theirs.id, "beta_unit": bu.id,
                "beta_key": make_key(b)}


def _rows(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model).execution_options(all_agencies=True))


def test_a_pushed_stay_is_upserted_never_duplicated(api, pms, app, alpha):
    url = f"/api/v1/integrations/{pms['pms']}/stays/R-1001"
    first = api.put(url, json=STAY)
    assert first.status_code == 201, first.text
    assert first.json["outcome"] == "created" and first.json["blocked_dates"] is None
    booking = first.json["booking"]
    assert (booking["unit_id"], booking["arrival"], booking["amount_due"], booking["channel"]) == (
        pms["unit"], "2027-05-01", "420.00", "booking.com")
    assert booking["sources"] == [{"integration_id": pms["pms"], "external_id": "R-1001"}]

    again = api.put(url, json=STAY)
    assert again.status_code == 200 and again.json["outcome"] == "unchanged"
    assert again.json["booking"]["id"] == booking["id"]
    moved = api.put(url, json={**STAY, "departure": "2027-05-06"})
    assert moved.json["outcome"] == "updated" and moved.json["booking"]["nights"] == 5
    assert _rows(app, Booking) == 1
    assert api.get(f"/api/v1/bookings?integration_id={pms['pms']}").json["total"] == 1

    gone = api.put(url, json={**STAY, "departure": "2027-05-06", "cancelled": True})
    assert gone.json["outcome"] == "cancelled" and gone.json["booking"]["status"] == "cancelled"

    with app.app_context():
        db.scope(db.session, alpha)
        run = db.session.scalar(select(SyncRun).where(SyncRun.trigger == "api"))
        assert (run.created, run.updated, run.cancelled, run.skipped, run.total, run.status) == (
            1, 1, 1, 1, 4, "succeeded")


def test_blocks_become_blocked_dates(api, pms, app):
    block = api.put(f"/api/v1/integrations/{pms['pms']}/stays/OWNER-7",
                    json={"unit_id": pms["unit"], "arrival": "2027-06-01", "departure": "2027-06-08", "block": True,
                          "summary": "Owner stay"})
    assert block.status_code == 201, block.text
    assert block.json["booking"] is None and block.json["blocked_dates"]["summary"] == "Owner stay"
    assert (_rows(app, BlockedDates), _rows(app, Booking)) == (1, 0)


def test_sync_off_takes_nothing(api, pms, app, alpha):
    with app.app_context():
        db.scope(db.session, alpha)
        set_sync(db.session.get(Integration, pms["pms"]), False, confirmed=True)
        db.session.commit()
    skipped = api.put(f"/api/v1/integrations/{pms['pms']}/stays/R-2", json=STAY)
    assert skipped.status_code == 200 and skipped.json["outcome"] == "skipped"
    assert (skipped.json["booking"], skipped.json["blocked_dates"]) == (None, None)
    assert skipped.json["message"].startswith("Sync stays is off for this integration")
    assert _rows(app, Booking) == 0


def test_pushes_refused(api, pms, app):
    base = f"/api/v1/integrations/{pms['pms']}/stays"
    cases = [
        ({**STAY, "departure": "2027-04-30"}, "departure"),
        ({**STAY, "unit_external_id": "NOPE"}, "unit_external_id"),
        ({**{k: v for k, v in STAY.items() if k != "unit_external_id"}, "unit_id": pms["beta_unit"]}, "unit_id"),
        ({**{k: v for k, v in STAY.items() if k != "unit_external_id"}}, "unit_id"),
        ({**STAY, "guest_email": "lena"}, "guest_email"),
        ({**STAY, "amount_due": "1.234"}, "amount_due"),
        ({**STAY, "adults": "2"}, "adults"),
    ]
    for body, field in cases:
        refused = api.put(f"{base}/R-9", json=body)
        assert refused.status_code == 422, (body, refused.text)
        assert field in refused.json["error"]["fields"], (body, refused.json)
    assert api.put(f"{base}/R%00x", json=STAY).json["error"]["fields"] == {
        "external_id": ["Control characters are not allowed."]}
    ical = api.put(f"/api/v1/integrations/{pms['ical']}/stays/R-9", json=STAY)
    assert ical.status_code == 409 and ical.json["error"]["code"] == "not_a_pms_integration"
    assert api.put(f"/api/v1/integrations/{pms['beta_pms']}/stays/R-9", json=STAY).status_code == 404
    assert (_rows(app, Booking), _rows(app, SyncRun)) == (0, 0)

    # Beta's own key pushes to beta's integration, and alpha's unit external ID means nothing there.
    theirs = ApiClient(app.test_client(), pms["beta_key"])
    assert theirs.put(f"/api/v1/integrations/{pms['beta_pms']}/stays/R-9", json=STAY).json["error"]["fields"] == {
        "unit_external_id": ["No unit of your agency has this external ID."]}


def test_a_pushed_unit_is_matched_by_external_id_whether_or_not_stays_sync(api, pms, app, alpha):
    with app.app_context():
        db.scope(db.session, alpha)
        set_sync(db.session.get(Integration, pms["pms"]), False, confirmed=True)
        db.session.commit()
    base = f"/api/v1/integrations/{pms['pms']}/units"
    made = api.put(f"{base}/OLD-3", json={"name": "Flat 3", "property_name": "Old Town", "bedrooms": 2})
    assert made.status_code == 201, made.text
    assert (made.json["outcome"], made.json["unit"]["name"], made.json["unit"]["external_id"]) == (
        "created", "Flat 3", "OLD-3")
    assert api.put(f"{base}/OLD-3", json={"name": "Flat 3", "property_name": "Old Town"}).json["outcome"] == \
        "unchanged"
    # The unit staff made with this external ID is the one the PMS means: updated, not duplicated.
    known = api.put(f"{base}/SEA-01", json={"name": "Sea 1", "property_name": "Seafront", "capacity": 5})
    assert known.status_code == 200 and known.json["outcome"] == "updated"
    assert (known.json["unit"]["id"], known.json["unit"]["capacity"]) == (pms["unit"], 5)
    from portal.properties.models import Unit

    assert _rows(app, Unit) == 3  # alpha's two and beta's one
    assert api.put(f"{base}/OLD-4", json={"name": " ", "property_name": "Old Town"}).status_code == 422
    assert api.put(f"/api/v1/integrations/{pms['ical']}/units/X", json={"name": "X", "property_name": "Y"}
                   ).status_code == 409
    with app.app_context():
        db.scope(db.session, alpha)
        run = db.session.scalar(select(SyncRun).where(SyncRun.trigger == "api"))
        assert (run.units_created, run.units_updated, run.total) == (1, 1, 3)
