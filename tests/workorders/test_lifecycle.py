"""The work-order state machine, table-driven: every move from every status by every role, legal or
refused with a reason; the owner-approval gate at its edge amount; each step recorded old → new."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from portal import clock, db
from portal.operations import FieldError
from portal.properties.models import unit_owners
from portal.workorders import operations as ops
from portal.workorders.models import Visit, WorkOrderEvent, WorkStatus
from portal.workorders.operations import MOVES, Actor
from tests import factories as f

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
ROLES = ("staff", "owner", "vendor", "requester")
# What each move needs besides the actor, so that only the table decides.
ARGS = {"deny": {"reason": "Too dear"}, "decline": {"reason": "Fully booked"},
        "propose": {"times": [NOW + timedelta(days=2)]}, "schedule": {"at": NOW + timedelta(days=1)},
        "depart": {"at": NOW}, "complete": {"total": "80.00"}, "cancel": {"reason": "Not needed"},
        "withdraw": {"reason": "Fixed it myself"}, "estimate": {"amount": "80.00"}}
# Where a legal move ends when the gates decide: with no gate pending, staff schedule next (an estimate below
# the threshold leaves the order where it is).
GATED = {"triage": WorkStatus.TRIAGED, "approve": WorkStatus.TRIAGED}


@pytest.fixture
def world(ctx):
    with clock.frozen_at(NOW):
        a = f.agency("alpha")
        a.settings = {"owner_approval_above": "500"}
        staff = f.staff(a)
        owner = f.person(a, "Olga Owner", "olga@example.com", roles=["owner"])
        vendor = f.person(a, "Victor Vendor", "victor@example.com", roles=["vendor"])
        tenant = f.person(a, "Tom Tenant", "tom@example.com", roles=["tenant"])
        unit = f.unit(a)
        db.session.execute(unit_owners.insert().values(unit_id=unit.id, person_id=owner.id))
        actors = {"staff": Actor.staff(staff), "owner": Actor.as_person(owner, "owner"),
                  "vendor": Actor.as_person(vendor, "vendor"), "requester": Actor.as_person(tenant, "requester")}
        yield {"agency": a, "unit": unit, "tenant": tenant, "vendor": vendor, "owner": owner, "actors": actors}


def _order(world, status: WorkStatus):
    order = ops.submit_request(world["tenant"], world["unit"], "repair", "Tap", "Drips")
    order.vendor_id, order.status = world["vendor"].id, status
    order.needs_owner_approval = status == WorkStatus.AWAITING_OWNER_APPROVAL
    order.needs_vendor_acceptance = status == WorkStatus.AWAITING_VENDOR_ACCEPTANCE
    if status == WorkStatus.IN_PROGRESS:  # on site, so that a departure has an arrival
        db.session.add(Visit(agency_id=order.agency_id, work_order_id=order.id, arrived_at=NOW - timedelta(hours=1)))
    db.session.flush()
    db.session.refresh(order)
    return order


def _events(order) -> int:
    return db.session.scalar(select(func.count(WorkOrderEvent.id)).where(WorkOrderEvent.work_order_id == order.id))


def _take(order, action, actor):
    if action == "triage":
        return ops.triage(order, actor, priority="high")
    if action == "depart":  # leave the visit open for "complete" checks: depart closes it
        return ops.log_departure(order, actor, source="back_office", at=NOW)
    return ops.act(order, action, actor, source="back_office", **ARGS.get(action, {}))


CASES = [(action, status) for action in MOVES for status in WorkStatus]


@pytest.mark.parametrize(("action", "status"), CASES, ids=[f"{a}-{s.value}" for a, s in CASES])
def test_every_move_from_every_status_by_every_role(world, action, status):
    move = MOVES[action]
    for role in ROLES:
        with clock.frozen_at(NOW):
            order = _order(world, status)
            if action in ("complete", "arrive") and status == WorkStatus.IN_PROGRESS:  # the last visit ended
                order.open_visit.departed_at = NOW
            before = _events(order)
            if status not in move.sources or role not in move.roles:
                with pytest.raises(FieldError) as refused:
                    _take(order, action, world["actors"][role])
                message = refused.value.message
                assert refused.value.field == "action", role
                assert ("not possible: the order is" in message) if role in move.roles else (
                    f"not for the {role}" in message), (role, message)
                assert order.status == status and _events(order) == before, role  # nothing changed
                continue
            _take(order, action, world["actors"][role])
            expected = move.target or GATED.get(action, status)
            assert order.status == expected, role
            event = db.session.scalars(select(WorkOrderEvent).where(WorkOrderEvent.work_order_id == order.id)
                                       .order_by(WorkOrderEvent.id.desc())).first()
            assert _events(order) == before + 1, role
            assert (event.action, event.old_status, event.new_status) == (action, status.value, expected.value)
            assert (event.actor_role, event.source) == (role, "back_office")


def test_the_table_covers_each_status_of_the_life_cycle():
    reachable = {m.target for m in MOVES.values() if m.target} | set(GATED.values()) | {
        WorkStatus.AWAITING_OWNER_APPROVAL, WorkStatus.AWAITING_VENDOR_ACCEPTANCE, WorkStatus.ACCEPTED}
    assert reachable | {WorkStatus.SUBMITTED} == set(WorkStatus)
    leaving = set().union(*(m.sources for m in MOVES.values()))
    assert leaving == set(WorkStatus) - {WorkStatus.CLOSED, WorkStatus.CANCELLED}  # the two ends


def test_a_person_acts_only_on_their_own_orders(world):
    with clock.frozen_at(NOW):
        a = world["agency"]
        other_vendor = Actor.as_person(f.person(a, "Vera", "vera@example.com", roles=["vendor"]), "vendor")
        other_owner = Actor.as_person(f.person(a, "Otto", "otto@example.com", roles=["owner"]), "owner")
        order = _order(world, WorkStatus.AWAITING_VENDOR_ACCEPTANCE)
        with pytest.raises(FieldError, match="not assigned to you"):
            ops.accept(order, other_vendor, source="portal")
        order.status, order.needs_owner_approval = WorkStatus.AWAITING_OWNER_APPROVAL, True
        with pytest.raises(FieldError, match="do not own"):
            ops.approve(order, other_owner, source="link")
        beta = f.agency("beta")
        with pytest.raises(FieldError, match="not one of your agency's"):
            ops.approve(order, Actor.staff(f.staff(beta)), source="back_office")
        assert order.status == WorkStatus.AWAITING_OWNER_APPROVAL and order.owner_decision is None


@pytest.mark.parametrize(("agency_above", "owner_above", "estimate", "gated"), [
    ("500", None, "500.00", False),    # equal to the agency's threshold: not above it
    ("500", None, "500.01", True),     # one cent above
    ("500", "1000", "999.99", False),  # the owner's own threshold wins over the agency's
    ("500", "1000", "1000.00", False),
    ("500", "1000", "1000.01", True),
    (None, "200", "200.01", True),
    (None, None, "99999.00", False),   # no threshold anywhere: no automatic gate
])
def test_the_owner_gate_at_its_edge_amount(world, agency_above, owner_above, estimate, gated):
    with clock.frozen_at(NOW):
        world["agency"].settings = {"owner_approval_above": agency_above} if agency_above else {}
        world["owner"].approval_threshold = Decimal(owner_above) if owner_above else None
        order = _order(world, WorkStatus.SUBMITTED)
        event = ops.triage(order, world["actors"]["staff"], vendor_id=world["vendor"].id, estimate=estimate)
        assert order.needs_owner_approval is gated
        assert order.status == (WorkStatus.AWAITING_OWNER_APPROVAL if gated else WorkStatus.TRIAGED)
        assert event.changes["estimate"] == [None, estimate]
        assert ("above" in (event.note or "")) is gated


def test_an_estimate_in_another_currency_waits_for_the_owner(world):
    with clock.frozen_at(NOW):
        order = _order(world, WorkStatus.SUBMITTED)
        ops.triage(order, world["actors"]["staff"], estimate="10.00", currency="USD")
        assert order.status == WorkStatus.AWAITING_OWNER_APPROVAL and order.currency == "USD"


@pytest.mark.parametrize("bad", ["0", "0.00", "-5", "abc", "NaN", "Infinity", "1e400", "12.345", ""])
def test_estimates_and_totals_that_are_not_positive_amounts_are_refused(world, bad):
    with clock.frozen_at(NOW):
        order = _order(world, WorkStatus.SUBMITTED)
        before = _events(order)
        if bad:  # an empty estimate clears it; an empty total is simply none
            with pytest.raises(FieldError) as refused:
                ops.triage(order, world["actors"]["staff"], estimate=bad)
            assert refused.value.field == "estimate"
        order.status = WorkStatus.IN_PROGRESS
        order.visits.clear()
        if bad:
            with pytest.raises(FieldError):
                ops.complete(order, world["actors"]["vendor"], source="portal", total=bad)
        assert order.estimate is None and order.total is None and _events(order) == before
        assert order.status == WorkStatus.IN_PROGRESS


def test_the_whole_journey_is_recorded_old_to_new(world):
    staff, owner, vendor = (world["actors"][r] for r in ("staff", "owner", "vendor"))
    with clock.frozen_at(NOW) as travel:
        order = _order(world, WorkStatus.SUBMITTED)
        order.vendor_id = None
        ops.triage(order, staff, priority="urgent", category="plumbing", vendor_id=world["vendor"].id,
                   estimate="750.00", access_notes="Key in box 4411", permission_to_enter=True,
                   preferred_times="Mornings", requires_vendor_acceptance=True)
        assert order.status == WorkStatus.AWAITING_OWNER_APPROVAL
        ops.approve(order, owner, source="link")
        assert order.status == WorkStatus.AWAITING_VENDOR_ACCEPTANCE
        ops.propose_times(order, vendor, source="portal", times=[NOW + timedelta(days=3)])
        assert order.status == WorkStatus.RESCHEDULE_REQUESTED
        ops.schedule(order, staff, source="back_office", at=NOW + timedelta(days=3))
        ops.log_arrival(order, vendor, source="portal")
        assert order.status == WorkStatus.IN_PROGRESS
        travel.advance(minutes=95)
        with pytest.raises(FieldError, match="still on site"):
            ops.complete(order, vendor, source="portal")
        ops.log_departure(order, vendor, source="portal", note="Replaced the washer")
        assert order.time_on_site == timedelta(minutes=95)
        ops.complete(order, vendor, source="portal", total="712.40")
        ops.transition(order, "invoice", vendor, source="portal")
        ops.transition(order, "close", staff, source="back_office")
        db.session.flush()
    events = db.session.scalars(select(WorkOrderEvent).where(WorkOrderEvent.work_order_id == order.id)
                                .order_by(WorkOrderEvent.id)).all()
    assert [(e.action, e.old_status, e.new_status) for e in events] == [
        ("submit", None, "submitted"),
        ("triage", "submitted", "awaiting-owner-approval"),
        ("approve", "awaiting-owner-approval", "awaiting-vendor-acceptance"),
        ("propose", "awaiting-vendor-acceptance", "reschedule-requested"),
        ("schedule", "reschedule-requested", "scheduled"),
        ("arrive", "scheduled", "in-progress"),
        ("depart", "in-progress", "in-progress"),
        ("complete", "in-progress", "completed"),
        ("invoice", "completed", "invoiced"),
        ("close", "invoiced", "closed"),
    ]
    triage = events[1]
    assert triage.changes["priority"] == ["normal", "urgent"]
    assert triage.changes["vendor_id"] == [None, world["vendor"].id]
    assert triage.changes["estimate"] == [None, "750.00"] and triage.changes["currency"] == [None, "EUR"]
    assert triage.changes["needs_owner_approval"] == [False, True]
    assert triage.note == "Owner approval needed: the estimate 750.00 is above the agency's threshold 500."
    assert (triage.actor_name, triage.source, triage.staff_user_id is not None) == ("Pat Manager", "back_office",
                                                                                  True)
    assert (events[2].actor_name, events[2].source, events[2].person_id) == ("Olga Owner", "link",
                                                                             world["owner"].id)
    assert events[6].changes["time_on_site"] == [None, "1 h 35 min"]
    assert events[7].changes["total"] == [None, "712.40"]


def test_the_time_on_site_is_recorded_in_whole_minutes_not_a_timedeltas_microseconds(world):
    vendor = world["actors"]["vendor"]
    with clock.frozen_at(NOW) as travel:
        order = _order(world, WorkStatus.SCHEDULED)
        ops.log_arrival(order, vendor, source="portal")
        travel.advance(seconds=61, microseconds=82274)
        ops.log_departure(order, vendor, source="portal")
        event = order.events[-1]
    assert event.changes["time_on_site"] == [None, "0 h 01 min"]


def test_a_declined_order_goes_to_another_vendor_and_cannot_be_scheduled_before(world):
    staff, vendor = world["actors"]["staff"], world["actors"]["vendor"]
    with clock.frozen_at(NOW):
        order = _order(world, WorkStatus.SUBMITTED)
        ops.triage(order, staff, vendor_id=world["vendor"].id, requires_vendor_acceptance=True)
        with pytest.raises(FieldError, match="Say why"):
            ops.decline(order, vendor, source="link", reason="  ")
        ops.decline(order, vendor, source="link", reason="On holiday")
        assert (order.status, order.status_reason) == (WorkStatus.DECLINED, "On holiday")
        ops.transition(order, "retriage", staff, source="back_office")
        with pytest.raises(FieldError, match="vendor declined"):
            ops.schedule(order, staff, source="back_office", at=NOW + timedelta(days=1))
        other = f.person(world["agency"], "Vera Vendor", "vera@example.com", roles=["vendor"])
        ops.triage(order, staff, vendor_id=other.id)
        assert order.status == WorkStatus.AWAITING_VENDOR_ACCEPTANCE and order.vendor_decision is None
        with pytest.raises(FieldError, match="one of the agency's vendors"):
            ops.triage(order, staff, vendor_id=world["tenant"].id)  # not a vendor
        assert order.vendor_id == other.id


def test_times_in_the_past_and_departures_before_arrivals_are_refused(world):
    staff, vendor = world["actors"]["staff"], world["actors"]["vendor"]
    with clock.frozen_at(NOW):
        order = _order(world, WorkStatus.ACCEPTED)
        with pytest.raises(FieldError, match="future"):
            ops.schedule(order, staff, source="back_office", at=NOW - timedelta(minutes=1))
        with pytest.raises(FieldError, match="future"):
            ops.propose_times(order, vendor, source="portal", times=[NOW])
        ops.schedule(order, staff, source="back_office", at=NOW + timedelta(hours=1))
        ops.log_arrival(order, vendor, source="portal", at=NOW - timedelta(minutes=30))
        with pytest.raises(FieldError, match="already on site"):
            ops.log_arrival(order, vendor, source="portal")
        with pytest.raises(FieldError, match="before the arrival"):
            ops.log_departure(order, vendor, source="portal", at=NOW - timedelta(hours=1))
        assert order.open_visit is not None and order.open_visit.departed_at is None


def test_a_message_about_an_order_goes_on_its_timeline_from_those_it_concerns(world):
    order = _order(world, WorkStatus.SCHEDULED)
    before = _events(order)
    event = ops.post_message(order, Actor.as_person(world["vendor"], "vendor"), source="portal",
                             text="  I will need the key from the concierge.\x00 ")
    assert (event.action, event.note, event.old_status, event.new_status) == (
        "message", "I will need the key from the concierge.", "scheduled", "scheduled")
    assert event.person_id == world["vendor"].id and order.status == WorkStatus.SCHEDULED
    stranger = f.person(world["agency"], "Vera Vendor", "vera@example.com", roles=["vendor"])
    for actor, text, says in [(Actor.as_person(stranger, "vendor"), "Hello", "not assigned to you"),
                              (Actor.as_person(world["vendor"], "vendor"), "  ", "Write your message"),
                              (Actor.as_person(world["vendor"], "vendor"), "x" * 2001, "2,000 characters")]:
        with pytest.raises(FieldError, match=says):
            ops.post_message(order, actor, source="portal", text=text)
    assert _events(order) == before + 1
