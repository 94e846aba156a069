"""Reviews recorded in the back office feed the review solutions; the dashboard's figures and the
e-mailed report match figures worked out by hand."""

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import insert, select

from automation import dispatcher, jobs, stats
from automation.models import Task, TaskStatus
from portal import clock, db
from portal.bookings.models import Review
from tests import factories as f
from tests.conftest import csrf_token


def test_a_recorded_review_is_thanked_and_stops_the_review_request(app, client, login, run_jobs, smtp_server):
    with app.app_context():
        a = f.agency("alpha")
        f.staff(a)
        thanks = f.template(a, name="Thanks", subject="Thank you for {{ review.rating }} stars",
                            text="Dear {{ guest.name }}: {{ review.comment }}")
        f.solution(a, "review-thanks", tpl=thanks, name="thanks")
        f.solution(a, "review-request", anchor="departure", offset=1, at_time="10:00", name="ask",
                   tpl=f.template(a, name="Ask", text="How was it?"))
        b = f.booking(a)
        db.session.commit()
        booking_id, email = b.id, f"manager@{a.slug}.example"
    login(email, f.PASSWORD)
    page = client.get(f"/manage/bookings/{booking_id}")
    bad = client.post(f"/manage/bookings/{booking_id}/review",
                      data={"rating": "9", "csrf_token": csrf_token(page.text)})
    assert bad.status_code == 303 and "from 1 to 5" in client.get(f"/manage/bookings/{booking_id}").text
    ok = client.post(f"/manage/bookings/{booking_id}/review",
                     data={"rating": "5", "comment": "Lovely terrace", "csrf_token": csrf_token(page.text)})
    assert ok.status_code == 302
    with app.app_context():
        assert db.session.scalar(select(Review.comment).execution_options(all_agencies=True)) == "Lovely terrace"
        db.session.execute(Task.__table__.update().values(due_at=clock.now()))
        db.session.commit()
        dispatcher.dispatch()
    run_jobs()
    with app.app_context():
        by_name = {t.solution.name: (t.status, t.reason) for t in
                   db.session.scalars(select(Task).execution_options(all_agencies=True))}
    assert by_name == {"thanks": (TaskStatus.SENT, None), "ask": (TaskStatus.SKIPPED, "the guest has left a review")}
    (mail,) = smtp_server.messages
    assert mail["Subject"] == "Thank you for 5 stars" and "Lovely terrace" in mail.get_body(("plain",)).get_content()


NOW = datetime(2026, 5, 20, 12, tzinfo=UTC)


def _sent(a, solution, booking, at, n, status=TaskStatus.SENT, start=0):
    db.session.execute(insert(Task), [
        {"agency_id": a.id, "solution_id": solution.id, "notification_id": solution.notifications[0].id,
         "object_type": "booking", "object_id": booking.id, "occurrence": f"{at:%j}-{start + i}",
         "due_at": at, "sent_at": at if status == TaskStatus.SENT else None, "status": status}
        for i in range(n)])


def test_dashboard_figures_by_hand(ctx):
    a = f.agency("alpha", timezone="Europe/Madrid")
    with clock.frozen_at(NOW - timedelta(days=60)):
        arrival = f.solution(a, "extra-services", name="Arrival", minutes_saved=5)
        owners = f.solution(a, "owner-new-booking", name="Owners", minutes_saved=10)
        b = f.booking(a, arrival=date(2026, 8, 1))
    db.session.execute(Task.__table__.delete())
    _sent(a, arrival, b, NOW - timedelta(days=2), 3)          # this week: 3 x 5 min
    _sent(a, owners, b, NOW - timedelta(days=20), 2)          # this month: 2 x 10 min
    _sent(a, owners, b, NOW - timedelta(days=45), 4)          # before the month, after activation
    _sent(a, arrival, b, NOW - timedelta(days=1), 1, status=TaskStatus.FAILED)
    week, month, ever = (stats.figures(a.id, p, now=NOW) for p in ("week", "month", "all"))
    assert (week.completed, week.minutes_saved, week.failed) == (3, 15, 1)
    assert (month.completed, month.minutes_saved, month.time_saved) == (5, 35, "35 min")
    assert (ever.completed, ever.minutes_saved, ever.time_saved) == (9, 75, "1 h 15 min")
    assert month.most_used == [("Arrival", 3), ("Owners", 2)] and ever.most_used == [("Owners", 6), ("Arrival", 3)]
    assert week.active_solutions == 2
    per_day = dict(month.per_day)
    assert per_day[date(2026, 5, 18)] == 3 and per_day[date(2026, 4, 30)] == 2 and sum(per_day.values()) == 5


def test_the_weekly_report_reaches_the_managers(app, run_jobs, smtp_server):
    with app.app_context():
        a = f.agency("alpha")
        f.staff(a)
        s = f.solution(a, "extra-services", name="Arrival", minutes_saved=7)
        b = f.booking(a)
        db.session.execute(Task.__table__.delete())
        _sent(a, s, b, clock.now() - timedelta(days=1), 4)
        db.session.commit()
        assert jobs.reports("week") == 1
    run_jobs()
    (mail,) = smtp_server.messages
    assert mail["To"] == "manager@alpha.example" and "weekly" in mail["Subject"]
    body = mail.get_body(("plain",)).get_content()
    assert "28 min" in body and "4" in body and "Arrival" in body
