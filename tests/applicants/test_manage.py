"""The back office's applicant pages: the list and its filters, "new applicant", an applicant's page with
its steps (send to the owner, decide on the owner's word with a reason, withdraw), and the unit setting
that opens a unit's public form."""

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from portal import db
from portal.applicants import operations as ops
from portal.applicants.models import Applicant, ApplicantStatus
from portal.properties.models import Unit
from tests import factories as f
from tests.applicants import world
from tests.conftest import csrf_token


@pytest.fixture
def w(app, client, login):
    with app.app_context():
        ids = world.build(starter=False)
        seafront, old_town = db.session.get(Unit, ids["seafront"]), db.session.get(Unit, ids["old_town"])
        ids["maria"] = world.apply(seafront).id
        ids["bob"] = ops.submit(old_town, kind="booking", name="Bob Booker", email="bob@example.com",
                                arrival=world.SOON, departure=world.SOON + timedelta(days=365),
                                source="public_form").id
        db.session.commit()
    assert login("manager@alpha.example", f.PASSWORD).status_code == 302
    return ids


def _status(app, applicant_id):
    with app.app_context():
        return db.session.scalar(select(Applicant.status).where(Applicant.id == applicant_id)
                                 .execution_options(all_agencies=True))


def test_the_list_filters_by_status_kind_property_and_unit(client, w):
    everyone = client.get("/manage/applicants")
    assert "Maria Lopez" in everyone.text and "Bob Booker" in everyone.text
    for query, shown, hidden in ((f"unit={w['seafront']}", "Maria Lopez", "Bob Booker"),
                                 ("kind=booking", "Bob Booker", "Maria Lopez"),
                                 ("status=awaiting-owner", None, "Maria Lopez")):
        page = client.get(f"/manage/applicants?{query}")
        assert page.status_code == 200
        if shown:
            assert shown in page.text
        assert hidden not in page.text
    assert "No applicants match these filters" in client.get("/manage/applicants?status=approved").text


def test_staff_add_an_applicant_and_bad_input_writes_nothing(app, client, w):
    page = client.get("/manage/applicants/new")
    bad = client.post("/manage/applicants/new", data={
        "csrf_token": csrf_token(page.text), "unit_id": w["seafront"], "kind": "booking", "name": "Carla",
        "email": "carla@example.com", "arrival": "2027-05-10", "departure": "2027-05-03"})
    assert bad.status_code == 422 and "The departure must come after the arrival." in bad.text
    with app.app_context():
        assert len(world.applicants()) == 2
    good = client.post("/manage/applicants/new", data={
        "csrf_token": csrf_token(page.text), "unit_id": w["closed"], "kind": "tenant", "name": "Carla Caller",
        "email": "carla@example.com", "move_in": "2027-05-10"})
    assert good.status_code == 302
    with app.app_context():
        carla = world.applicants()[-1]
        assert (carla.name, carla.source, carla.unit_id) == ("Carla Caller", "staff", w["closed"])
        assert carla.events[0].actor_name == "Pat Manager"
    # Another agency's unit is not in reach.
    assert client.post("/manage/applicants/new", data={
        "csrf_token": csrf_token(page.text), "unit_id": w["foreign"], "kind": "tenant", "name": "X",
        "email": "x@example.com", "move_in": "2027-05-10"}).status_code in (404, 422)


def test_the_steps_from_the_applicants_page(app, client, w):
    page = client.get(f"/manage/applicants/{w['maria']}")
    assert "Send to the owner" in page.text and "Olga Owner" in page.text
    assert "We received your application for 1A" in page.text  # the mail log of this applicant
    token = csrf_token(page.text)
    sent = client.post(f"/manage/applicants/{w['maria']}/act/send_to_owner", data={"csrf_token": token})
    assert sent.status_code == 302
    assert _status(app, w["maria"]) == ApplicantStatus.AWAITING_OWNER
    refused = client.post(f"/manage/applicants/{w['maria']}/act/approve", data={"csrf_token": token, "reason": " "})
    assert refused.status_code == 422 and "on whose word" in refused.text
    assert _status(app, w["maria"]) == ApplicantStatus.AWAITING_OWNER
    assert client.post(f"/manage/applicants/{w['maria']}/act/approve",
                       data={"csrf_token": token, "reason": "Olga agreed on the phone"}).status_code == 302
    done = client.get(f"/manage/applicants/{w['maria']}")
    assert "approved by Pat Manager by the agency" in done.text and "Olga agreed on the phone" in done.text
    assert "Next steps" not in done.text
    assert client.post(f"/manage/applicants/{w['maria']}/act/withdraw", data={"csrf_token": token}).status_code == 422
    assert client.post(f"/manage/applicants/{w['maria']}/act/explode", data={"csrf_token": token}).status_code == 404
    assert client.post(f"/manage/applicants/{w['bob']}/act/withdraw",
                       data={"csrf_token": token, "reason": "Found another place"}).status_code == 302
    assert _status(app, w["bob"]) == ApplicantStatus.WITHDRAWN


def test_another_agencys_applicant_is_not_there(app, client, w):
    with app.app_context():
        db.scope(db.session, w["beta"])
        theirs = world.apply(db.session.get(Unit, w["foreign"]), "Their Applicant", "t@example.com").id
        db.session.commit()
    assert client.get(f"/manage/applicants/{theirs}").status_code == 404
    token = csrf_token(client.get("/manage/applicants/new").text)
    assert client.post(f"/manage/applicants/{theirs}/act/withdraw", data={"csrf_token": token}).status_code == 404
    assert "Their Applicant" not in client.get("/manage/applicants").text
    assert _status(app, theirs) == ApplicantStatus.SUBMITTED


def test_a_unit_opens_and_closes_its_public_form(app, client, w):
    unit = client.get(f"/manage/units/{w['closed']}")
    assert "not taking applications" in unit.text
    assert client.get(f"/alpha/apply/{w['closed']}").status_code == 404
    edit = client.get(f"/manage/units/{w['closed']}/edit")
    assert 'name="accepting_applications"' in edit.text
    with app.app_context():
        u = db.session.scalar(select(Unit).where(Unit.id == w["closed"]).execution_options(all_agencies=True))
        data = {"csrf_token": csrf_token(edit.text), "property_id": u.property_id, "name": u.name, "bedrooms": 1,
                "capacity": 4, "accepting_applications": "y"}
    assert client.post(f"/manage/units/{w['closed']}/edit", data=data).status_code == 302
    assert f"/alpha/apply/{w['closed']}" in client.get(f"/manage/units/{w['closed']}").text
    assert client.get(f"/alpha/apply/{w['closed']}").status_code == 200
    data.pop("accepting_applications")
    assert client.post(f"/manage/units/{w['closed']}/edit", data=data).status_code == 302
    assert client.get(f"/alpha/apply/{w['closed']}").status_code == 404


def test_staff_entry_keeps_the_public_forms_rules_past_dates_long_names_missing_fields(app, client, w):
    from datetime import date

    from portal.applicants.models import Applicant as A

    token = csrf_token(client.get("/manage/applicants/new").text)
    yesterday = (date.today() - timedelta(days=2)).isoformat()
    base = {"csrf_token": token, "unit_id": w["closed"], "name": "Carla Caller", "email": "carla@example.com"}
    past = client.post("/manage/applicants/new", data={**base, "kind": "tenant", "move_in": yesterday})
    assert past.status_code == 422 and "The move-in day cannot be in the past." in past.text
    arrival = client.post("/manage/applicants/new", data={**base, "kind": "booking", "arrival": yesterday,
                                                           "departure": world.SOON.isoformat()})
    assert arrival.status_code == 422 and "The arrival cannot be in the past." in arrival.text
    long = client.post("/manage/applicants/new", data={**base, "kind": "tenant", "name": "N" * 300,
                                                        "move_in": world.SOON.isoformat()})
    assert long.status_code == 422 and "200 characters at most." in long.text
    empty = client.post("/manage/applicants/new", data={"csrf_token": token, "unit_id": w["closed"],
                                                         "kind": "tenant"})
    assert empty.status_code == 422
    assert "Enter your name." in empty.text and "Enter your e-mail address" in empty.text
    assert "Enter the day you would like to move in." in empty.text
    with app.app_context():
        assert len(world.applicants()) == 2
        assert A.__table__.c.name.type.length == 200  # the form's limit is the column's


def test_a_long_unbroken_name_wraps_in_the_list_and_on_its_page(app, client, w):
    token = csrf_token(client.get("/manage/applicants/new").text)
    added = client.post("/manage/applicants/new", data={
        "csrf_token": token, "unit_id": w["closed"], "kind": "tenant", "name": "W" * 200,
        "email": "w@example.com", "move_in": world.SOON.isoformat()})
    assert added.status_code == 302
    listing = client.get("/manage/applicants").text.split("<tbody", 1)[1]
    assert '<td class="long-text" data-label="Applicant">' in listing.split("W" * 200)[0].rsplit("\n", 2)[-1]
    page = client.get(added.headers["Location"]).text
    assert '<h1 class="long-text">' + "W" * 200 in page
    css = (Path(__file__).parents[2] / "portal/static/portico.css").read_text()
    assert ".long-text { overflow-wrap: anywhere;" in css
