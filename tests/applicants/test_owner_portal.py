"""The owner decides in the owner portal: the applicants of their units waiting for them (on the home page and
the Applicants page), one applicant's page, approve or decline; an owner of another unit, or an applicant not
sent to the owner yet, is a 404; the agency can switch the capability off (A1) or hide one applicant (A3)."""

import pytest
from sqlalchemy import select

from portal import db
from portal.access.models import ItemEffect
from portal.access.operations import set_default, set_item_rule
from portal.agencies.models import StaffUser
from portal.applicants import operations as ops
from portal.applicants.models import Applicant, ApplicantStatus
from portal.applicants.queries import waiting_for
from portal.properties.models import Unit
from tests.applicants import world
from tests.conftest import csrf_token, signed_in_client


@pytest.fixture
def w(app):
    """Maria waits for Olga (Seafront 1A); Tim applied for 1A but staff have not sent him on; Ulla waits for
    Otto (Old Town 2B)."""
    with app.app_context():
        ids = world.build(starter=False)
        staff = db.session.get(StaffUser, ids["staff"])
        seafront, old_town = db.session.get(Unit, ids["seafront"]), db.session.get(Unit, ids["old_town"])
        maria = world.apply(seafront, message="Quiet couple, two cats.")
        ops.send_to_owner(maria, staff)
        tim = world.apply(seafront, "Tim Early", "tim@example.com")
        ulla = world.apply(old_town, "Ulla Other", "ulla@example.com")
        ops.send_to_owner(ulla, staff)
        ids.update(maria=maria.id, tim=tim.id, ulla=ulla.id)
        db.session.commit()
    return ids


def status_of(app, applicant_id):
    with app.app_context():
        a = db.session.scalar(select(Applicant).where(Applicant.id == applicant_id)
                              .execution_options(all_agencies=True))
        return a.status, a.decided_via, a.decision_reason


def test_the_owner_sees_who_waits_and_approves_in_the_portal(app, w):
    olga = signed_in_client(app, w["olga"])
    home = olga.get("/alpha/owner/")
    assert home.status_code == 200
    assert f'id="applicant-{w["maria"]}"' in home.text and "Maria Lopez" in home.text
    assert "Tim Early" not in home.text and "Ulla Other" not in home.text
    assert 'aria-label="1 waiting"' in home.text
    listing = olga.get("/alpha/owner/applicants")
    assert "Maria Lopez" in listing.text and "Tim Early" not in listing.text and "Ulla Other" not in listing.text
    page = olga.get(f"/alpha/owner/applicants/{w['maria']}")
    assert page.status_code == 200 and "Your decision is needed" in page.text and "two cats" in page.text
    assert "maria@example.com" not in page.text  # the agency keeps the applicant's contact details
    done = olga.post(f"/alpha/owner/applicants/{w['maria']}/approve",
                     data={"csrf_token": csrf_token(page.text), "back": "applicant"})
    assert done.status_code == 302 and done.headers["Location"].endswith(f"/alpha/owner/applicants/{w['maria']}")
    assert status_of(app, w["maria"]) == (ApplicantStatus.APPROVED, "portal", None)
    after = olga.get(done.headers["Location"])
    assert "Approved: Maria Lopez" in after.text and "Your decision is needed" not in after.text
    with app.app_context():
        assert waiting_for(w["olga"]) == []


def test_the_owner_declines_from_the_home_page_with_a_reason(app, w):
    olga = signed_in_client(app, w["olga"])
    home = olga.get("/alpha/owner/")
    done = olga.post(f"/alpha/owner/applicants/{w['maria']}/decline",
                     data={"csrf_token": csrf_token(home.text), "back": "home", "reason": "Not with cats."})
    assert done.status_code == 302 and done.headers["Location"].endswith("/alpha/owner/")
    assert status_of(app, w["maria"]) == (ApplicantStatus.DECLINED, "portal", "Not with cats.")
    # A second decision is refused, said beside the applicant, and changes nothing.
    again = olga.post(f"/alpha/owner/applicants/{w['maria']}/approve",
                      data={"csrf_token": csrf_token(home.text), "back": "applicant"})
    assert again.status_code == 422 and "already declined" in again.text
    assert status_of(app, w["maria"]) == (ApplicantStatus.DECLINED, "portal", "Not with cats.")


def test_another_owners_applicant_and_one_not_sent_yet_are_not_there(app, w):
    otto, olga = signed_in_client(app, w["otto"]), signed_in_client(app, w["olga"])
    token = csrf_token(otto.get("/alpha/owner/").text)
    for client, applicant_id in ((otto, w["maria"]), (olga, w["ulla"]), (olga, w["tim"])):
        assert client.get(f"/alpha/owner/applicants/{applicant_id}").status_code == 404
        for step in ("approve", "decline"):
            answer = client.post(f"/alpha/owner/applicants/{applicant_id}/{step}",
                                 data={"csrf_token": token, "reason": "mine now"})
            assert answer.status_code in (400, 404)
    assert "Maria Lopez" not in otto.get("/alpha/owner/applicants").text
    assert [status_of(app, w[k])[0] for k in ("maria", "tim", "ulla")] == [
        ApplicantStatus.AWAITING_OWNER, ApplicantStatus.SUBMITTED, ApplicantStatus.AWAITING_OWNER]


def test_the_agency_can_switch_applicants_off_or_hide_one(app, w):
    olga = signed_in_client(app, w["olga"])
    with app.app_context():
        db.scope(db.session, w["agency"])
        set_item_rule(w["agency"], "owner.applicants.approve", db.session.get(Applicant, w["maria"]), w["olga"],
                      ItemEffect.EXCLUDE)
        db.session.commit()
    assert olga.get(f"/alpha/owner/applicants/{w['maria']}").status_code == 404
    assert "Maria Lopez" not in olga.get("/alpha/owner/").text
    with app.app_context():
        db.scope(db.session, w["agency"])
        set_default(w["agency"], "owner.applicants.approve", False)
        db.session.commit()
    off = olga.get("/alpha/owner/applicants")
    assert off.status_code == 403 and "This is not available right now" in off.text
    assert status_of(app, w["maria"])[0] == ApplicantStatus.AWAITING_OWNER


def test_applications_staff_closed_without_sending_them_are_never_the_owners(app, w):
    """Withdrawn, or decided by staff straight away, without ever being sent to the owner: not in the owner's
    lists, and their pages are a 404; one staff decided after sending it is there."""
    with app.app_context():
        db.scope(db.session, w["agency"])
        staff = db.session.get(StaffUser, w["staff"])
        seafront = db.session.get(Unit, w["seafront"])
        gone = world.apply(seafront, "Wanda Gone", "wanda@example.com")
        ops.withdraw(gone, staff, reason="Found another flat")
        quick = world.apply(seafront, "Quentin Quick", "quentin@example.com")
        ops.decline(quick, ops.Actor.staff(staff), via="back_office", reason="Olga said no on the phone")
        ops.approve(db.session.get(Applicant, w["maria"]), ops.Actor.staff(staff), via="back_office",
                    reason="Olga agreed on the phone")
        ids = {"gone": gone.id, "quick": quick.id}
        db.session.commit()
    olga = signed_in_client(app, w["olga"])
    listing = olga.get("/alpha/owner/applicants")
    assert listing.status_code == 200 and "Maria Lopez" in listing.text
    assert "Wanda Gone" not in listing.text and "Quentin Quick" not in listing.text
    assert "Wanda Gone" not in olga.get("/alpha/owner/").text
    for applicant_id in ids.values():
        assert olga.get(f"/alpha/owner/applicants/{applicant_id}").status_code == 404
    assert olga.get(f"/alpha/owner/applicants/{w['maria']}").status_code == 200
