"""The owner's decision by loginless link, end to end from the mail caught at the SMTP server: staff send the
applicant to the owner, the automation catalogue mails the owner a one-time link; opening it changes nothing,
pressing it decides (the timeline says "link"), a second press says it is used, a decision made elsewhere kills
it; the applicant is told the outcome."""

import re

import pytest
from sqlalchemy import select

from automation import dispatcher
from portal import db
from portal.agencies.models import Agency
from portal.applicants.models import Applicant, ApplicantStatus
from portal.links.models import ActionLink
from portal.properties.models import Unit
from tests import factories as f
from tests.applicants import world
from tests.conftest import csrf_token, press_link

LINK = re.compile(r"/l/(\S+)")


def _sent_to_owner(client, login, ids: dict) -> dict:
    """Staff sign in and send Maria's application to the owner (its mail goes out)."""
    assert login("manager@alpha.example", f.PASSWORD).status_code == 302
    page = client.get(f"/manage/applicants/{ids['maria']}")
    assert client.post(f"/manage/applicants/{ids['maria']}/act/send_to_owner",
                       data={"csrf_token": csrf_token(page.text)}).status_code == 302
    return ids


@pytest.fixture
def sent(app, client, login):
    """Maria applied for Seafront 1A; staff (signed in) sent her to Olga, the owner; her mail went out."""
    with app.app_context():
        ids = world.build(starter=True)
        ids["maria"] = world.apply(db.session.get(Unit, ids["seafront"])).id
        db.session.commit()
    return _sent_to_owner(client, login, ids)


def send_due(app, run_jobs) -> None:
    with app.app_context():
        dispatcher.dispatch()
    run_jobs()


def mails_to(smtp_server, address: str):
    return [m for m in smtp_server.messages if address in m["To"]]


def token_of(mail) -> str:
    return LINK.search(mail.get_body(("plain",)).get_content()).group(1)


def state(app, applicant_id: int):
    with app.app_context():
        a = db.session.scalar(select(Applicant).where(Applicant.id == applicant_id)
                              .execution_options(all_agencies=True))
        return a.status, a.decided_via, a.decided_by_name, a.decision_reason, [(e.action, e.via) for e in a.events]


def test_the_owner_approves_from_the_mail_and_the_applicant_hears_of_it(app, sent, run_jobs, smtp_server):
    send_due(app, run_jobs)
    [asked] = mails_to(smtp_server, "olga@example.com")
    assert asked["Subject"] == "An applicant for 1A waits for you: Maria Lopez"
    body = asked.get_body(("plain",)).get_content()
    assert "Maria Lopez would like to rent at Seafront · 1A" in body
    assert not mails_to(smtp_server, "otto@example.com")  # the owner of another unit is not asked
    token = token_of(asked)

    owner = app.test_client()  # the owner's own browser: not signed in anywhere
    for _ in range(2):  # opening (twice, as mail scanners do) changes nothing
        page = owner.get(f"/l/{token}")
        assert page.status_code == 200 and "Approve the applicant: Maria Lopez" in page.text
        assert "Seafront · 1A" in page.text
    assert owner.head(f"/l/{token}").status_code == 200
    assert state(app, sent["maria"])[0] == ApplicantStatus.AWAITING_OWNER

    done = press_link(owner, token, choice="approve")
    assert done.status_code == 200 and "Maria Lopez is approved" in done.text
    status, via, who, _, events = state(app, sent["maria"])
    assert (status, via, who) == (ApplicantStatus.APPROVED, "link", "Olga Owner")
    assert events[-1] == ("approve", "link")

    again = owner.post(f"/l/{token}", data={"form_token": "x", "choice": "decline"})
    assert again.status_code == 410
    assert "This application is now approved from an e-mail link" in again.text
    assert state(app, sent["maria"])[0] == ApplicantStatus.APPROVED

    smtp_server.clear()
    send_due(app, run_jobs)
    [told] = mails_to(smtp_server, "maria@example.com")
    assert told["Subject"] == "Your application for 1A: approved"
    text, html = told.get_body(("plain",)).get_content(), told.get_body(("html",)).get_content()
    assert "is approved" in text
    # Signed once, by the mail's footer: the agency's name is not written again above it.
    with app.app_context():
        name = db.session.scalar(select(Agency.name).execution_options(all_agencies=True))
    assert text.count(name) == 1 and f"<p>{name}</p>" not in html, html


def test_the_owner_declines_with_a_reason(app, sent, run_jobs, smtp_server):
    send_due(app, run_jobs)
    token = token_of(mails_to(smtp_server, "olga@example.com")[0])
    owner = app.test_client()
    done = press_link(owner, token, choice="decline", reason="I would rather let to a family.")
    assert "Maria Lopez is declined" in done.text
    status, via, _, reason, _ = state(app, sent["maria"])
    assert (status, via, reason) == (ApplicantStatus.DECLINED, "link", "I would rather let to a family.")
    smtp_server.clear()
    send_due(app, run_jobs)
    [told] = mails_to(smtp_server, "maria@example.com")
    assert "not accepted" in told.get_body(("plain",)).get_content()
    assert "family" not in told.get_body(("plain",)).get_content()  # the owner's reason is for the agency


def test_a_decision_in_the_back_office_kills_the_link(app, client, sent, run_jobs, smtp_server):
    send_due(app, run_jobs)
    token = token_of(mails_to(smtp_server, "olga@example.com")[0])
    page = client.get(f"/manage/applicants/{sent['maria']}")
    decided = client.post(f"/manage/applicants/{sent['maria']}/act/decline",
                          data={"csrf_token": csrf_token(page.text), "reason": "Olga called: no"})
    assert decided.status_code == 302
    owner = app.test_client()
    dead = owner.get(f"/l/{token}")
    assert dead.status_code == 410
    assert "now declined by the agency" in dead.text and "Approve the applicant" not in dead.text
    pressed = owner.post(f"/l/{token}", data={"form_token": "whatever", "choice": "approve"})
    assert pressed.status_code == 410
    assert state(app, sent["maria"])[0] == ApplicantStatus.DECLINED
    with app.app_context():
        link = db.session.scalar(select(ActionLink).execution_options(all_agencies=True)
                                 .where(ActionLink.action == "applicant_approval"))
        assert link.uses == 0


def test_an_unanswered_owner_is_reminded_once_with_a_link_that_works(app, sent, run_jobs, smtp_server):
    from datetime import timedelta

    from automation import jobs
    from portal import clock

    send_due(app, run_jobs)
    smtp_server.clear()
    with app.app_context(), clock.frozen_at(clock.now() + timedelta(hours=47)) as travel:
        assert jobs.chase_approvals() == 0  # not yet: 48 hours by default
        travel.advance(hours=2)
        assert jobs.chase_approvals() == 1
        travel.advance(hours=49)
        assert jobs.chase_approvals() == 0  # once per wait
    run_jobs()
    [reminder] = mails_to(smtp_server, "olga@example.com")
    assert reminder["Subject"].startswith("Reminder: An applicant for 1A waits for you")
    done = press_link(app.test_client(), token_of(reminder), choice="approve")
    assert done.status_code == 200
    assert state(app, sent["maria"])[0] == ApplicantStatus.APPROVED



@pytest.fixture
def co_owned(app, client, login):
    """Like `sent`, but Seafront 1A has five co-owners besides Olga: each is asked with a link of their own."""
    from portal.agencies.models import Agency
    from portal.properties.models import unit_owners

    with app.app_context():
        ids = world.build(starter=True)
        a = db.session.get(Agency, ids["agency"])
        for n in range(5):
            co = f.person(a, f"Co Owner {n}", f"co{n}@example.com", roles=["owner"])
            db.session.execute(unit_owners.insert().values(unit_id=ids["seafront"], person_id=co.id))
        ids["maria"] = world.apply(db.session.get(Unit, ids["seafront"])).id
        db.session.commit()
    return _sent_to_owner(client, login, ids)


def test_co_owners_pressing_their_links_at_once_make_one_decision(app, co_owned, live_server, run_jobs,
                                                                  smtp_server):
    """Six co-owners each got a link; all press at once (half approve, half decline): exactly one decides, the
    others are told it is already decided, and the applicant hears of one outcome only."""
    import threading
    import urllib.error
    import urllib.parse
    import urllib.request

    from tests.conftest import FORM_TOKEN

    send_due(app, run_jobs)
    tokens = [token_of(mails_to(smtp_server, address)[0])
              for address in ["olga@example.com"] + [f"co{n}@example.com" for n in range(5)]]
    bodies = []
    for n, token in enumerate(tokens):
        with urllib.request.urlopen(f"{live_server}/l/{token}") as r:
            form_token = FORM_TOKEN.search(r.read().decode()).group(1)
        bodies.append((token, urllib.parse.urlencode(
            {"form_token": form_token, "choice": "approve" if n % 2 else "decline"}).encode()))
    barrier = threading.Barrier(len(bodies))
    answers = []

    def press(token, body):
        barrier.wait()
        try:
            with urllib.request.urlopen(urllib.request.Request(f"{live_server}/l/{token}", data=body)) as r:
                answers.append((r.status, r.read().decode()))
        except urllib.error.HTTPError as e:
            answers.append((e.code, e.read().decode()))

    threads = [threading.Thread(target=press, args=pair) for pair in bodies]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    codes = sorted(code for code, _ in answers)
    assert codes.count(200) == 1 and all(code in (409, 410, 422) for code in codes if code != 200), codes
    losers = [text for code, text in answers if code != 200]
    assert all("This application is now" in text or "already" in text for text in losers), losers
    status, _, _, _, events = state(app, co_owned["maria"])
    decisions = [action for action, _ in events if action in ("approve", "decline")]
    assert len(decisions) == 1 and status.value == {"approve": "approved", "decline": "declined"}[decisions[0]]
    smtp_server.clear()
    send_due(app, run_jobs)
    assert len(mails_to(smtp_server, "maria@example.com")) == 1
