"""The applicant's life cycle: submitted → awaiting the owner → approved / declined / withdrawn, each step
one event with who, when and how; every illegal move a FieldError that changes nothing."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from portal import agencies, db
from portal.agencies.models import StaffUser
from portal.applicants import operations as ops
from portal.applicants.models import ApplicantEvent, ApplicantStatus
from portal.operations import FieldError
from portal.people.models import Person
from portal.properties.models import Unit
from tests.applicants import world


@pytest.fixture
def w(app):
    with app.app_context():
        ids = world.build(starter=False)
        yield {**ids, "staff_user": db.session.get(StaffUser, ids["staff"]),
               "olga_p": db.session.get(Person, ids["olga"]), "otto_p": db.session.get(Person, ids["otto"]),
               "unit": db.session.get(Unit, ids["seafront"])}


def test_the_owner_approves_what_staff_sent_and_the_decision_is_recorded(w):
    a = world.apply(w["unit"], message="Two adults, no pets.")
    assert a.status == ApplicantStatus.SUBMITTED and a.source == "public_form"
    ops.send_to_owner(a, w["staff_user"])
    assert a.status == ApplicantStatus.AWAITING_OWNER
    ops.approve(a, ops.Actor.owner(w["olga_p"]), via="portal", reason="Welcome")
    assert a.status == ApplicantStatus.APPROVED
    assert (a.decided_by_name, a.decided_by_person_id, a.decided_via, a.decision_reason) == (
        "Olga Owner", w["olga"], "portal", "Welcome")
    assert a.decided_at is not None
    events = [(e.action, e.old_status, e.new_status, e.actor_name, e.via) for e in a.events]
    assert events == [("submit", None, "submitted", "Maria Lopez", "portal"),
                      ("send_to_owner", "submitted", "awaiting-owner", "Pat Manager", "back_office"),
                      ("approve", "awaiting-owner", "approved", "Olga Owner", "portal")]


def test_staff_decide_on_the_owners_word_only_with_a_reason(w):
    a = world.apply(w["unit"])
    staff = ops.Actor.staff(w["staff_user"])
    with pytest.raises(FieldError, match="on whose word"):
        ops.approve(a, staff, via="back_office", reason="  ")
    assert a.status == ApplicantStatus.SUBMITTED
    ops.decline(a, staff, via="back_office", reason="Olga said no on the phone")
    assert (a.status, a.decided_by_staff_id, a.decided_via) == (ApplicantStatus.DECLINED, w["staff"], "back_office")


@pytest.mark.parametrize("end", ["approve", "decline", "withdraw"])
def test_nothing_moves_an_application_once_it_is_over(w, end):
    a = world.apply(w["unit"])
    ops.send_to_owner(a, w["staff_user"])
    if end == "withdraw":
        ops.withdraw(a, w["staff_user"], reason="Found another flat")
    else:
        getattr(ops, end)(a, ops.Actor.owner(w["olga_p"]), via="link")
    db.session.commit()
    status, count = a.status, db.session.query(ApplicantEvent).count()
    for attempt in (lambda: ops.approve(a, ops.Actor.owner(w["olga_p"]), via="portal"),
                    lambda: ops.decline(a, ops.Actor.staff(w["staff_user"]), via="back_office", reason="x"),
                    lambda: ops.send_to_owner(a, w["staff_user"]),
                    lambda: ops.withdraw(a, w["staff_user"])):
        with pytest.raises(FieldError, match="already"):
            attempt()
    assert a.status == status and db.session.query(ApplicantEvent).count() == count


def test_an_owner_decides_only_on_their_own_units_and_only_once_sent_to_them(w):
    a = world.apply(w["unit"])
    with pytest.raises(FieldError, match="not possible: the application is submitted"):
        ops.approve(a, ops.Actor.owner(w["olga_p"]), via="portal")
    ops.send_to_owner(a, w["staff_user"])
    with pytest.raises(FieldError, match="do not own"):
        ops.decline(a, ops.Actor.owner(w["otto_p"]), via="portal")
    for staff_only in ("withdraw", "send_to_owner"):
        with pytest.raises(FieldError, match="not for the owner"):
            ops.transition(a, staff_only, ops.Actor.owner(w["olga_p"]), via="portal")
    assert a.status == ApplicantStatus.AWAITING_OWNER and len(a.events) == 2


def test_a_unit_without_an_owner_cannot_be_sent_to_one(w):
    closed = db.session.get(Unit, w["closed"])
    a = ops.submit(closed, kind="booking", name="Tim", email="tim@example.com", arrival=world.SOON,
                   departure=world.SOON + timedelta(days=3),
                   source="staff", by=w["staff_user"])
    with pytest.raises(FieldError, match="no owner on file"):
        ops.send_to_owner(a, w["staff_user"])
    assert a.status == ApplicantStatus.SUBMITTED


def test_the_applicant_is_told_their_application_arrived(w, smtp_server, run_jobs):
    world.apply(w["unit"])
    db.session.commit()
    run_jobs()
    [mail] = [m for m in smtp_server.messages if m["To"] == "maria@example.com"]
    assert mail["Subject"] == "We received your application for 1A"
    assert "Seafront · 1A" in mail.get_body(("plain",)).get_content()
    assert db.session.scalar(select(ApplicantEvent.action)) == "submit"


@pytest.mark.parametrize("source", ["public_form", "staff"])
def test_the_move_in_or_arrival_may_not_be_past_whoever_enters_the_application(w, source):
    """One rule in the operation, for the public form and for staff alike (the agency's today)."""
    unit, today = w["unit"], agencies.get(w["unit"].agency_id).today()
    by = {"by": w["staff_user"]} if source == "staff" else {}
    dates = {"tenant": ({"move_in": today - timedelta(days=1)}, "move_in", "The move-in day cannot be in the past."),
             "booking": ({"arrival": today - timedelta(days=1), "departure": today + timedelta(days=3)}, "arrival",
                         "The arrival cannot be in the past.")}
    for kind, (past, field, message) in dates.items():
        with pytest.raises(FieldError, match=message) as refused:
            ops.submit(unit, kind=kind, name="Pat", email="pat@example.com", source=source, **by, **past)
        assert refused.value.field == field
    assert world.applicants() == []
    # The agency's today itself is fine.
    ops.submit(unit, kind="tenant", name="Pat", email="pat@example.com", move_in=today, source=source, **by)
    ops.submit(unit, kind="booking", name="Pat", email="pat@example.com", arrival=today,
               departure=today + timedelta(days=2), source=source, **by)
    assert len(world.applicants()) == 2
