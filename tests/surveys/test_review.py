"""The guest review by link (L4): the default review request (automation.starter) carries a link to a rating
and comment form; the review goes through record_review, so the review solutions follow: the guest is
thanked, and the review request's later reminders are skipped. One review per booking."""

import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from automation.models import MailTemplate, Task, TaskStatus
from portal import db
from portal.bookings.models import Review
from tests import factories as f
from tests.conftest import press_link
from tests.surveys.world import send_due


def departed_guest(app) -> dict:
    """A guest who left two days ago, the starter's review request on the day after departure (and a reminder
    three days after), and the starter's thank-you on a review."""
    with app.app_context():
        a = f.agency("alpha", starter=True)
        f.staff(a)
        named = {t.name: t for t in db.session.scalars(select(MailTemplate))}
        f.solution(a, "review-request", tpl=named["Review request"], anchor="departure", offset=1, at_time="10:00",
                   name="Ask for a review")
        f.solution(a, "review-request", tpl=named["Review request"], anchor="departure", offset=30, at_time="10:00",
                   name="Ask again")
        f.solution(a, "review-thanks", tpl=named["Thanks for your review"], name="Thank the guest")
        guest = f.person(a, "Gina Guest", "gina@example.com", roles=["guest"])
        today = date.today()
        b = f.booking(a, f.unit(a, f.prop(a, "Seafront"), "2B"), guest, arrival=today - timedelta(days=6),
                      departure=today - timedelta(days=2), amount_paid=Decimal("300.00"))  # paid: no reminder
        ids = {"agency": a.id, "booking": b.id, "guest": guest.id}
        db.session.commit()
    return ids


@pytest.fixture
def stay(app):
    return departed_guest(app)


def only_mail(smtp_server, subject_start: str):
    found = [m for m in smtp_server.messages if m["Subject"].startswith(subject_start)]
    assert len(found) == 1, [m["Subject"] for m in smtp_server.messages]
    return found[0]


def tasks(app) -> dict:
    with app.app_context():
        return {t.solution.name: (t.status, t.reason) for t in
                db.session.scalars(select(Task).execution_options(all_agencies=True))}


def reviews(app) -> list:
    with app.app_context():
        return [(r.booking_id, r.rating, r.comment) for r in
                db.session.scalars(select(Review).execution_options(all_agencies=True))]


def test_a_guest_reviews_the_stay_from_the_mail_and_is_thanked(app, stay, run_jobs, smtp_server):
    send_due(app, run_jobs)
    mail = only_mail(smtp_server, "How was your stay")
    assert mail["Subject"] == "How was your stay at 2B?" and "gina@example.com" in mail["To"]
    token = re.search(r"Rate your stay: \S+/l/(\S+)", mail.get_body(("plain",)).get_content()).group(1)
    assert ">Rate your stay</a>" in mail.get_body(("html",)).get_content() and "/l/review~" in mail.get_body(
        ("html",)).get_content()  # the HTML part's button (a link of its own, for the same booking)
    assert tasks(app)["Ask for a review"] == (TaskStatus.SENT, None)
    gina = app.test_client()
    page = gina.get(f"/l/{token}")
    assert page.status_code == 200
    for shown in ("How was your stay at 2B?", "Seafront · 2B", "Your rating", "Excellent", "A few words"):
        assert shown in page.text, shown
    assert reviews(app) == []

    # No rating: the form again with the message, the comment kept, no review, the link still good.
    bad = press_link(gina, token, comment="Lovely view")
    assert bad.status_code == 422 and "Choose a rating from 1 to 5." in bad.text and "Lovely view" in bad.text
    assert press_link(gina, token, rating="6", comment="x").status_code == 422
    assert reviews(app) == []

    done = press_link(gina, token, rating="5", comment="Lovely view")
    assert done.status_code == 200 and "Thank you for your review" in done.text
    assert reviews(app) == [(stay["booking"], 5, "Lovely view")]

    # The thank-you solution fires; the reminder still pending for the booking is skipped when due.
    with app.app_context():
        db.session.execute(Task.__table__.update().where(Task.status == TaskStatus.PENDING)
                           .values(due_at=func.current_timestamp()))
        db.session.commit()
    send_due(app, run_jobs)
    thanks = only_mail(smtp_server, "Thank you for your review")
    assert "gina@example.com" in thanks["To"] and "(5/5)" in thanks.get_body(("plain",)).get_content()
    assert tasks(app) == {"Ask for a review": (TaskStatus.SENT, None),
                          "Thank the guest": (TaskStatus.SENT, None),
                          "Ask again": (TaskStatus.SKIPPED, "the guest has left a review")}

    # A second review through the used link: refused with what was received, nothing written.
    again = gina.post(f"/l/{token}", data={"rating": "1", "comment": "changed my mind"})
    assert again.status_code == 410 and "Your review of this stay (5/5) was received" in again.text
    assert reviews(app) == [(stay["booking"], 5, "Lovely view")]


def test_a_review_recorded_otherwise_ends_the_link(app, stay):
    from portal import links
    from portal.bookings.models import Booking
    from portal.bookings.operations import record_review
    from portal.people.models import Person

    with app.app_context():
        db.scope(db.session, stay["agency"])
        booking = db.session.get(Booking, stay["booking"])
        token = links.token(links.create("review", booking, db.session.get(Person, stay["guest"])))
        db.session.commit()
    with app.app_context():
        db.scope(db.session, stay["agency"])
        record_review(db.session.get(Booking, stay["booking"]), 4, "From the front desk")
        db.session.commit()
    dead = app.test_client().get(f"/l/{token}")
    assert dead.status_code == 410 and "Your review of this stay (4/5)" in dead.text
    assert len(reviews(app)) == 1


def test_two_review_links_pressed_at_once_keep_one_review_and_say_so(app, stay):
    """The review request and its reminder carry two links; pressed at once, both pass the "no review yet"
    check, and the database keeps one: the second is told the stay is already reviewed (no 500)."""
    from sqlalchemy import event, insert

    from portal import links
    from portal.bookings import actions
    from portal.bookings.models import Booking
    from portal.links.models import ActionLink
    from portal.people.models import Person

    with app.app_context():
        db.scope(db.session, stay["agency"])
        booking = db.session.get(Booking, stay["booking"])
        guest = db.session.get(Person, stay["guest"])
        first, second = links.create("review", booking, guest), links.create("review", booking, guest)
        tokens = links.token(first), links.token(second)
        db.session.commit()
        second_id = second.id

    def the_other_press_lands_first(session, *_):  # between this press's check and its insert
        with app.extensions["db.engine"].begin() as other:
            other.execute(insert(Review).values(agency_id=stay["agency"], booking_id=stay["booking"], rating=5,
                                                comment="From the first link"))

    with app.app_context():
        db.scope(db.session, stay["agency"])
        booking = db.session.get(Booking, stay["booking"])
        link = db.session.get(ActionLink, second_id)
        event.listen(db.session, "before_flush", the_other_press_lands_first, once=True)
        with pytest.raises(links.ActionRefused) as refused:
            actions.perform(booking, link, {"rating": "2", "comment": "From the second link"})
        assert "already has a review" in refused.value.message
        db.session.rollback()
    assert reviews(app) == [(stay["booking"], 5, "From the first link")]
    for token in tokens:  # both links now say the stay was reviewed
        dead = app.test_client().get(f"/l/{token}")
        assert dead.status_code == 410 and "Your review of this stay (5/5)" in dead.text
