"""The public application form of a unit: no sign-in, CSRF, server-side checks (bad input is shown beside
its field and nothing is written), a field only robots fill in, a per-address rate limit, and a friendly
404 for a unit of another agency or one not taking applications."""

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from portal import create_app, db
from portal.applicants.models import Applicant, ApplicantEvent, ApplicantStatus
from portal.messages.models import Message
from tests.applicants import world
from tests.conftest import csrf_token

SOON = world.SOON


@pytest.fixture
def w(app):
    with app.app_context():
        return world.build(starter=False)


def _form(client, unit_id: int, agency: str = "alpha") -> str:
    page = client.get(f"/{agency}/apply/{unit_id}")
    assert page.status_code == 200, page.text
    return csrf_token(page.text)


GOOD = {"kind": "tenant", "name": "Maria Lopez", "email": "maria@example.com", "phone": "+34 600 000 000",
        "move_in": SOON.isoformat(), "arrival": "", "departure": "", "message": "Two adults, no pets.",
        "website": ""}


def _written(app) -> tuple[int, int, int]:
    with app.app_context():
        return tuple(db.session.scalar(select(func.count()).select_from(m).execution_options(all_agencies=True))
                     for m in (Applicant, ApplicantEvent, Message))


def test_a_visitor_applies_and_is_thanked_and_told_by_mail(app, client, w, smtp_server, run_jobs):
    page = client.get(f"/alpha/apply/{w['seafront']}")
    assert "Apply for 1A" in page.text and "Seafront" in page.text
    sent = client.post(f"/alpha/apply/{w['seafront']}", data={**GOOD, "csrf_token": csrf_token(page.text)})
    assert sent.status_code == 302 and sent.headers["Location"].endswith(f"/alpha/apply/{w['seafront']}/thanks")
    thanks = client.get(sent.headers["Location"])
    assert "Thank you for your application" in thanks.text
    with app.app_context():
        [a] = world.applicants()
        assert (a.name, a.email, a.phone, a.kind.value, a.move_in, a.arrival, a.source, a.status) == (
            "Maria Lopez", "maria@example.com", "+34 600 000 000", "tenant", SOON, None, "public_form",
            ApplicantStatus.SUBMITTED)
        assert a.unit_id == w["seafront"] and a.agency_id == w["agency"]
    run_jobs()
    [mail] = [m for m in smtp_server.messages if m["To"] == "maria@example.com"]
    assert "received your application" in mail["Subject"]


def test_a_stay_keeps_its_dates_and_drops_a_move_in(app, client, w):
    token = _form(client, w["old_town"])
    data = {**GOOD, "kind": "booking", "arrival": SOON.isoformat(),
            "departure": (SOON + timedelta(days=7)).isoformat(), "csrf_token": token}
    assert client.post(f"/alpha/apply/{w['old_town']}", data=data).status_code == 302
    with app.app_context():
        [a] = world.applicants()
        assert (a.kind.value, a.arrival, a.departure, a.move_in) == ("booking", SOON, SOON + timedelta(days=7), None)


YESTERDAY = (date.today() - timedelta(days=2)).isoformat()


@pytest.mark.parametrize(("change", "message"), [
    ({"email": "not-an-address"}, "Enter a valid e-mail address"),
    ({"email": ""}, "Enter your e-mail address"),
    ({"name": "   "}, "Enter your name."),
    ({"move_in": ""}, "Enter the day you would like to move in."),
    ({"move_in": YESTERDAY}, "cannot be in the past"),
    ({"move_in": "2026-02-30"}, "Not a valid date value."),
    ({"kind": "booking", "arrival": SOON.isoformat(), "departure": SOON.isoformat()},
     "The departure must come after the arrival."),
    ({"kind": "booking", "arrival": (SOON + timedelta(days=5)).isoformat(), "departure": SOON.isoformat()},
     "The departure must come after the arrival."),
    ({"kind": "booking", "arrival": SOON.isoformat()}, "Enter the day you would leave."),
    ({"kind": "lodger"}, "Choose whether you want to rent it or to book a stay."),
    ({"phone": "call me maybe"}, "Digits, spaces and"),
    ({"message": "x" * 3001}, "3,000 characters at most."),
])
def test_bad_input_is_shown_beside_its_field_and_nothing_is_written(app, client, w, change, message):
    token = _form(client, w["seafront"])
    answer = client.post(f"/alpha/apply/{w['seafront']}", data={**GOOD, **change, "csrf_token": token})
    assert answer.status_code == 422
    assert message in answer.text and "Nothing was sent." in answer.text
    assert _written(app) == (0, 0, 0)


def test_without_its_csrf_token_the_form_is_refused(app, client, w):
    assert client.post(f"/alpha/apply/{w['seafront']}", data=GOOD).status_code in (400, 422)
    assert _written(app) == (0, 0, 0)


def test_a_robot_filling_the_hidden_field_is_thanked_and_nothing_is_kept(app, client, w):
    token = _form(client, w["seafront"])
    answer = client.post(f"/alpha/apply/{w['seafront']}", data={**GOOD, "website": "http://spam.example",
                                                                 "csrf_token": token})
    assert answer.status_code == 302 and answer.headers["Location"].endswith("/thanks")
    assert _written(app) == (0, 0, 0)


def test_a_unit_of_another_agency_or_not_taking_applications_is_a_friendly_404(app, client, w):
    token = _form(client, w["seafront"])
    for path in (f"/alpha/apply/{w['foreign']}", f"/beta/apply/{w['seafront']}", f"/alpha/apply/{w['closed']}",
                 "/alpha/apply/999999", f"/nowhere/apply/{w['seafront']}"):
        for answer in (client.get(path), client.post(path, data={**GOOD, "csrf_token": token})):
            assert answer.status_code == 404, path
            if not path.startswith("/nowhere"):
                assert "This home is not taking applications" in answer.text
                assert "Nothing was sent." in answer.text
    assert client.get(f"/alpha/apply/{w['foreign']}/thanks").status_code == 404
    assert _written(app) == (0, 0, 0)
    # The other agency's own unit does take applications, at its own address.
    assert client.get(f"/beta/apply/{w['foreign']}").status_code == 200


def test_applications_are_rate_limited_per_address(app, w):
    tight = create_app({**app.config, "APPLY_RATE_LIMIT": "2 per minute"})
    try:
        client = tight.test_client()
        for _ in range(2):
            token = _form(client, w["seafront"])
            assert client.post(f"/alpha/apply/{w['seafront']}", data={**GOOD, "csrf_token": token}).status_code == 302
        token = _form(client, w["seafront"])  # the page itself still opens
        third = client.post(f"/alpha/apply/{w['seafront']}", data={**GOOD, "csrf_token": token})
        assert third.status_code == 429 and "Too many attempts" in third.text
        assert _written(app)[0] == 2
        for _ in range(3):  # reloading the form is never limited: only sending it is
            assert client.get(f"/alpha/apply/{w['seafront']}").status_code == 200
        other = tight.test_client()
        other.environ_base["REMOTE_ADDR"] = "198.51.100.7"
        token = _form(other, w["seafront"])
        assert other.post(f"/alpha/apply/{w['seafront']}", data={**GOOD, "csrf_token": token}).status_code == 302
    finally:
        tight.extensions["db.engine"].dispose()


def test_a_robot_is_dropped_before_any_check_tells_it_what_to_fix(app, client, w):
    token = _form(client, w["seafront"])
    answer = client.post(f"/alpha/apply/{w['seafront']}", data={**GOOD, "name": "spam " * 100,
                                                                 "move_in": "soon", "website": "http://spam.example",
                                                                 "csrf_token": token})
    assert answer.status_code == 302 and answer.headers["Location"].endswith("/thanks")
    assert "characters at most" not in answer.text and _written(app) == (0, 0, 0)


def test_the_confirmation_repeats_nothing_typed_into_the_form(app, client, w, smtp_server, run_jobs):
    token = _form(client, w["seafront"])
    bait = {**GOOD, "name": "Win a prize at http://evil.example now", "email": "victim@example.com",
            "message": "Cheap pills at http://pills.example", "csrf_token": token}
    assert client.post(f"/alpha/apply/{w['seafront']}", data=bait).status_code == 302
    run_jobs()
    [mail] = [m for m in smtp_server.messages if m["To"] == "victim@example.com"]
    text, html = (mail.get_body((kind,)).get_content() for kind in ("plain", "html"))
    for body in (mail["Subject"], text, html):
        assert "evil.example" not in body and "pills" not in body and "prize" not in body
    assert "1A" in text and "If you did not apply" in text


def test_confirmations_are_rate_limited_per_recipient(app, w, smtp_server, run_jobs):
    tight = create_app({**app.config, "APPLY_RECIPIENT_RATE_LIMIT": "2 per hour"})
    try:
        for n in range(4):  # four addresses, one recipient
            client = tight.test_client()
            client.environ_base["REMOTE_ADDR"] = f"198.51.100.{n + 1}"
            token = _form(client, w["seafront"])
            email = "Victim@Example.com" if n % 2 else "victim@example.com"
            sent = client.post(f"/alpha/apply/{w['seafront']}", data={**GOOD, "email": email, "csrf_token": token})
            assert sent.status_code == 302
        other = tight.test_client()
        token = _form(other, w["seafront"])
        assert other.post(f"/alpha/apply/{w['seafront']}", data={**GOOD, "csrf_token": token}).status_code == 302
    finally:
        tight.extensions["db.engine"].dispose()
    assert _written(app)[0] == 5  # every application is kept for the agency
    run_jobs()
    victim = [m for m in smtp_server.messages if m["To"].lower() == "victim@example.com"]
    assert len(victim) == 2
    assert len([m for m in smtp_server.messages if m["To"] == "maria@example.com"]) == 1


def test_an_empty_form_says_at_once_every_required_field_is_missing(app, client, w):
    token = _form(client, w["seafront"])
    answer = client.post(f"/alpha/apply/{w['seafront']}", data={"csrf_token": token, "kind": "tenant"})
    assert answer.status_code == 422
    for message in ("Enter your name.", "Enter your e-mail address", "Enter the day you would like to move in."):
        assert message in answer.text, message
    stay = client.post(f"/alpha/apply/{w['seafront']}", data={"csrf_token": token, "kind": "booking",
                                                               "name": "Bo", "email": "bo@example.com"})
    assert stay.status_code == 422
    assert "Enter the day you would arrive." in stay.text and "Enter the day you would leave." in stay.text
    assert "Enter your name." not in stay.text
    assert _written(app) == (0, 0, 0)


def test_a_name_longer_than_its_column_is_refused(app, client, w):
    token = _form(client, w["seafront"])
    answer = client.post(f"/alpha/apply/{w['seafront']}", data={**GOOD, "name": "A" * 300, "csrf_token": token})
    assert answer.status_code == 422 and "200 characters at most." in answer.text
    assert _written(app) == (0, 0, 0)
