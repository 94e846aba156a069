"""/api/v1/solutions and /api/v1/tasks (registered by automation): lists, filters, switching a solution on and off,
and retrying a failed task, which is then really sent; what cannot be retried is refused with the reason."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from automation.models import Task, TaskStatus
from portal import clock, db
from portal.agencies.models import Agency
from tests import factories as f
from tests.api.checks import error, other_agency, reader
from tests.conftest import send_due


@pytest.fixture
def planned(app, alpha):
    """Two solutions of alpha, "Extras" (immediately) and "Arrival info" (the day before arrival), on two bookings;
    Extras' task of the first booking failed, of the second was sent; a third solution, switched off."""
    with app.app_context():
        a = db.session.get(Agency, alpha)
        db.scope(db.session, a.id)
        extras = f.solution(a, "extra-services", name="Extras")
        arrival = f.solution(a, name="Arrival info", anchor="arrival", offset=-1, at_time="10:00")
        idle = f.solution(a, "extra-services", name="Idle", active=False)
        near = f.booking(a, guest=f.person(a, "Gina Guest", "gina@example.com"),
                         arrival=clock.now().date() + timedelta(days=10))
        far = f.booking(a, arrival=clock.now().date() + timedelta(days=40))
        tasks = {(t.solution_id, t.object_id): t for t in db.session.scalars(select(Task))}
        failed, sent = tasks[(extras.id, near.id)], tasks[(extras.id, far.id)]
        failed.status, failed.reason = TaskStatus.FAILED, "550 mailbox full"
        sent.status, sent.sent_at = TaskStatus.SENT, clock.now()
        db.session.commit()
        return SimpleNamespace(extras=extras.id, arrival=arrival.id, idle=idle.id, failed=failed.id, sent=sent.id,
                               near=near.reference, pending=tasks[(arrival.id, far.id)].id,
                               due_near=tasks[(arrival.id, near.id)].due_at)


def test_solutions_list_get_and_switch(api, planned, app, alpha):
    listed = api.get("/api/v1/solutions").json
    assert [s["name"] for s in listed["items"]] == ["Arrival info", "Extras", "Idle"]
    extras = api.get(f"/api/v1/solutions/{planned.extras}").json
    assert (extras["active"], extras["kind"], extras["timing"], extras["tasks"]["failed"], extras["tasks"]["sent"]) \
        == (True, "extra-services", "Immediately", 1, 1)
    arrival = api.get(f"/api/v1/solutions/{planned.arrival}").json
    assert (arrival["timing"], arrival["at_time"], arrival["offset"]) == ("1 day before arrival at 10:00", "10:00", -1)
    assert [s["name"] for s in api.get("/api/v1/solutions?active=false").json["items"]] == ["Idle"]

    off = api.post(f"/api/v1/solutions/{planned.arrival}/deactivate")
    assert off.status_code == 200 and off.json["active"] is False
    assert off.json["tasks"]["pending"] == 0 and off.json["tasks"]["cancelled"] == 2
    on = api.post(f"/api/v1/solutions/{planned.idle}/activate")
    assert on.status_code == 200 and on.json["active"] is True and on.json["activated_at"]
    with app.app_context():
        a = db.session.get(Agency, alpha)
        a.settings = {**a.settings, "max_active_solutions": 1}
        db.session.commit()
    refused = api.post(f"/api/v1/solutions/{planned.arrival}/activate")
    assert "may have at most 1 active solutions" in error(refused, 422, "invalid")["fields"]["active"][0]
    assert api.get(f"/api/v1/solutions/{planned.arrival}").json["active"] is False


def test_task_filters(api, planned):
    assert api.get("/api/v1/tasks").json["total"] == 4
    assert [t["id"] for t in api.get("/api/v1/tasks?status=failed").json["items"]] == [planned.failed]
    assert api.get(f"/api/v1/tasks?solution_id={planned.arrival}").json["total"] == 2
    assert api.get(f"/api/v1/tasks?reference={planned.near}").json["total"] == 2
    window = {"due_after": planned.due_near.isoformat(), "due_before": (planned.due_near + timedelta(hours=1))
              .isoformat()}
    assert [t["solution_id"] for t in api.get("/api/v1/tasks", query_string=window).json["items"]] == [
        planned.arrival]
    first = api.get("/api/v1/tasks?per_page=3").json
    assert first["pages"] == 2 and len(api.get(first["next"]).json["items"]) == 1
    misspelt = api.get("/api/v1/tasks?booking_id=5")  # no such filter: refused, not the whole list
    assert error(misspelt, 422, "invalid")["fields"] == {"booking_id": ["Unknown field."]}
    bad = api.get("/api/v1/tasks", query_string={"reference": "12", "due_after": "yesterday", "status": "lost"})
    assert error(bad, 422, "invalid")["fields"].keys() == {"reference", "due_after", "status"}
    assert error(api.get("/api/v1/tasks?due_before=2026-12-01T10:00:00"), 422, "invalid")["fields"].keys() == {
        "due_before"}


def test_retry_a_failed_task_then_it_is_sent(api, planned, app, run_jobs, smtp_server):
    retried = api.post(f"/api/v1/tasks/{planned.failed}/retry", headers={"Idempotency-Key": "retry-1"})
    assert retried.status_code == 202, retried.text
    assert (retried.json["status"], retried.json["reason"]) == ("pending", None)
    send_due(app, run_jobs)
    task = api.get(f"/api/v1/tasks/{planned.failed}").json
    assert task["status"] == "sent" and task["sent_at"]
    assert [m["To"] for m in smtp_server.messages] == ["Gina Guest <gina@example.com>"]
    # The same request again (a client's retry) is answered as before, and sends nothing more.
    again = api.post(f"/api/v1/tasks/{planned.failed}/retry", headers={"Idempotency-Key": "retry-1"})
    assert again.status_code == 202 and again.headers["Idempotent-Replayed"] == "true"
    refused = api.post(f"/api/v1/tasks/{planned.failed}/retry")
    assert "This task is sent" in error(refused, 409, "not_retryable")["message"]
    assert "This task is pending" in error(api.post(f"/api/v1/tasks/{planned.pending}/retry"), 409,
                                           "not_retryable")["message"]
    send_due(app, run_jobs)
    assert len(smtp_server.messages) == 1


def test_other_agencies_and_read_keys(api, planned, app, alpha):
    beta = other_agency(app)
    for path in (f"/api/v1/tasks/{planned.failed}", f"/api/v1/solutions/{planned.extras}"):
        assert error(beta.get(path), 404, "not_found")
    assert error(beta.post(f"/api/v1/tasks/{planned.failed}/retry"), 404, "not_found")
    assert error(beta.post(f"/api/v1/solutions/{planned.extras}/deactivate"), 404, "not_found")
    assert beta.get("/api/v1/tasks").json["total"] == 0
    read = reader(app, alpha)
    assert read.get("/api/v1/tasks").json["total"] == 4
    assert error(read.post(f"/api/v1/tasks/{planned.failed}/retry"), 403, "read_only_key")
    assert error(read.post(f"/api/v1/solutions/{planned.extras}/deactivate"), 403, "read_only_key")
    assert api.get(f"/api/v1/tasks/{planned.failed}").json["status"] == "failed"
    assert api.get(f"/api/v1/solutions/{planned.extras}").json["active"] is True
