"""A survey answered from the mail caught at the SMTP server (L4): the "survey" solution mails the person who
asked for the work a one-time link when the order is completed; opening it changes nothing; bad answers show
the form again with a message per question and leave the link usable; one response per link, a second is
refused with an "already answered" page; twenty simultaneous presses store one response."""

import re

import pytest
from sqlalchemy import func, select

from portal import db
from portal.links.models import ActionLink
from portal.surveys.models import Answer, Invitation, Response
from tests.conftest import FORM_TOKEN, csrf_token, press_at_once, press_link
from tests.surveys.world import send_due, survey_world


@pytest.fixture
def world(app):
    return survey_world(app)


def survey_mail(smtp_server, address: str):
    found = [m for m in smtp_server.messages if address in m["To"] and m["Subject"].startswith("How did the work")]
    assert len(found) == 1, [(m["To"], m["Subject"]) for m in smtp_server.messages]
    return found[0]


def token_of(mail) -> str:
    return re.search(r"/l/(\S+)", mail.get_body(("plain",)).get_content()).group(1)


def counts(app) -> tuple[int, int, int]:
    with app.app_context():
        return tuple(db.session.scalar(select(func.count(m.id)).execution_options(all_agencies=True))
                     for m in (Response, Answer, ActionLink))


def answered(app) -> list:
    with app.app_context():
        return list(db.session.scalars(select(Invitation.answered_at).execution_options(all_agencies=True)))


def test_the_requester_answers_the_survey_from_the_mail(app, world, run_jobs, smtp_server):
    send_due(app, run_jobs)
    mail = survey_mail(smtp_server, "tom@alpha.example")
    assert mail["Subject"] == 'How did the work on "Leaking tap" go?'
    body = mail.get_body(("plain",)).get_content()
    assert "After the work: http" in body and "Seafront · 1A" in body
    token = token_of(mail)
    rating, choice, text = world["questions"]
    tom = app.test_client()
    before = counts(app)
    page = tom.get(f"/l/{token}")  # opening (as a mail scanner would) changes nothing
    assert page.status_code == 200
    for shown in ("After the work", "Three quick questions.", "Work order #", "Leaking tap",
                  "How would you rate the work?", "Was the vendor on time?", "A little late", "(optional)"):
        assert shown in page.text, shown
    assert tom.head(f"/l/{token}").status_code == 200
    assert counts(app) == before and answered(app) == [None]

    # A required rating missing and an option that was never offered: the form again, a message beside
    # each, what was typed kept, nothing stored, and the link still usable.
    bad = press_link(tom, token, **{f"q{choice}": "Sometimes", f"q{text}": "Be quicker"})
    assert bad.status_code == 422
    assert bad.text.count('class="error"') == 2
    assert "Please answer this question." in bad.text and "Choose one of the options listed." in bad.text
    assert "Be quicker" in bad.text
    assert press_link(tom, token, **{f"q{rating}": "7", f"q{choice}": "Yes"}).status_code == 422
    assert counts(app) == before and answered(app) == [None]

    done = press_link(tom, token, **{f"q{rating}": "4", f"q{choice}": "A little late", f"q{text}": "Call first"})
    assert done.status_code == 200 and "Thank you for answering “After the work”" in done.text
    with app.app_context():
        response = db.session.scalar(select(Response).execution_options(all_agencies=True))
        assert response.person_id == world["tenant"] and response.survey_id == world["survey"]
        got = {(a.question_id, a.rating, a.choice, a.text) for a in response.answers}
        assert got == {(rating, 4, None, None), (choice, None, "A little late", None), (text, None, None, "Call first")}
        assert response.invitation.about.endswith("Leaking tap")
    assert answered(app)[0] is not None

    # A second response through the used link: the "already answered" page, nothing written.
    after, before_mails = counts(app), len(smtp_server.messages)
    again = tom.get(f"/l/{token}")
    assert again.status_code == 410 and "You already answered “After the work”" in again.text
    assert "E-mail me a fresh link" not in again.text  # no fresh link to answer twice
    form_token = FORM_TOKEN.search(done.text)
    assert form_token is None  # the thank-you page has no form to press again
    second = tom.post(f"/l/{token}", data={f"q{rating}": "1", f"q{choice}": "Yes"})
    assert second.status_code == 410 and "You already answered" in second.text
    csrf = csrf_token(tom.get("/manage/login").text)
    renew = tom.post("/l/renew", data={"token": token, "csrf_token": csrf})  # asking for a fresh link sends none
    assert renew.status_code == 200
    assert counts(app)[:2] == after[:2]
    run_jobs()
    assert len([m for m in smtp_server.messages if m["Subject"].startswith("A few questions")]) == 0
    assert len(smtp_server.messages) == before_mails


def test_twenty_simultaneous_presses_store_one_response(app, world, live_server, run_jobs, smtp_server):
    send_due(app, run_jobs)
    token = token_of(survey_mail(smtp_server, "tom@alpha.example"))
    rating, choice, _ = world["questions"]
    codes = press_at_once(live_server, token, **{f"q{rating}": "5", f"q{choice}": "Yes"})
    assert sorted(codes).count(200) == 1, codes
    assert all(c in (409, 410) for c in codes if c != 200), codes
    assert counts(app)[:2] == (1, 2)


def test_a_link_for_someone_else_cannot_be_made_and_another_link_dies_with_the_answer(app, world):
    from portal import links
    from portal.people.models import Person
    from portal.surveys import operations as ops
    from portal.surveys.models import Survey

    with app.app_context():
        db.scope(db.session, world["agency"])
        survey = db.session.get(Survey, world["survey"])
        tom = db.session.get(Person, world["tenant"])
        vendor = db.session.scalar(select(Person).where(Person.id != tom.id))
        invitation = ops.invite(survey, tom)
        with pytest.raises(ValueError):
            links.create("survey", invitation, vendor)
        first = links.token(links.create("survey", invitation, tom))
        second = links.token(links.create("survey", invitation, tom))
        db.session.commit()
    rating, choice, _ = world["questions"]
    client = app.test_client()
    assert press_link(client, first, **{f"q{rating}": "3", f"q{choice}": "Yes"}).status_code == 200
    stale = client.get(f"/l/{second}")  # the same invitation's other link: over, and says why
    assert stale.status_code == 410 and "You already answered" in stale.text
    assert counts(app)[0] == 1
