"""The work-order and invoice kinds plan and send for each transition: the requester told of every new
status (and the send-time recheck still skips a status the order has left), owners asked to approve each
wait, vendors reminded some hours before their visit (a moved visit reminded at its new time), and the
engine's authorization applied at send time."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from automation import dispatcher, starter
from automation.catalogue import KINDS
from automation.models import Anchor, OffsetUnit, Solution, Task, TaskStatus
from portal import clock, db
from portal.access.models import ItemEffect
from portal.access.operations import set_item_rule
from portal.properties.models import unit_owners
from portal.workorders import operations as ops
from portal.workorders.models import WorkStatus
from tests import factories as f

T0 = datetime(2026, 6, 1, 8, tzinfo=UTC)


def send_due(run_jobs) -> None:
    db.session.commit()
    dispatcher.dispatch()
    run_jobs()
    db.session.expire_all()


@pytest.fixture
def world(ctx):
    a = f.agency("alpha", starter=True)
    owner = f.person(a, "Olga Owner", "olga@example.com", roles=["owner"])
    vendor = f.person(a, "Victor Vendor", "victor@example.com", roles=["vendor"])
    tenant = f.person(a, "Tom Tenant", "tom@example.com", roles=["tenant"])
    unit = f.unit(a, f.prop(a, "Seafront"), "1A")
    db.session.execute(unit_owners.insert().values(unit_id=unit.id, person_id=owner.id))
    return a, owner, vendor, tenant, unit


def valid_from(when: datetime) -> None:
    """The agency's solutions as if switched on at `when` (tests on a frozen clock set in the past)."""
    for s in db.session.scalars(select(Solution)):
        s.valid_from = when


def subjects(smtp_server, address: str) -> list[str]:
    return [m["Subject"] for m in smtp_server.messages if address in m["To"]]


def test_the_requester_is_told_of_each_new_status(world, run_jobs, smtp_server):
    _a, _owner, vendor, tenant, unit = world
    order = ops.submit_request(tenant, unit, "repair", "Tap", "Drips")
    send_due(run_jobs)
    ops.triage(order, ops.SYSTEM, vendor_id=vendor.id)
    send_due(run_jobs)
    ops.schedule(order, ops.SYSTEM, source="system", at=clock.now() + timedelta(days=3))
    send_due(run_jobs)
    ops.start(order, ops.SYSTEM, source="system")
    send_due(run_jobs)
    ops.complete(order, ops.SYSTEM, source="system")
    send_due(run_jobs)
    assert subjects(smtp_server, "tom@example.com") == [
        'Your request "Tap": received', 'Your request "Tap": being arranged', 'Your request "Tap": visit booked',
        'Your request "Tap": work started', 'Your request "Tap": done']


def test_a_status_left_before_sending_is_skipped(world, run_jobs, smtp_server):
    _a, _owner, vendor, tenant, unit = world
    order = ops.submit_request(tenant, unit, "repair", "Tap", "Drips")
    ops.triage(order, ops.SYSTEM, vendor_id=vendor.id)  # moved on before the dispatcher ran
    send_due(run_jobs)
    assert subjects(smtp_server, "tom@example.com") == ['Your request "Tap": being arranged']
    skipped = db.session.scalar(select(Task).where(Task.occurrence == "submitted"))
    assert (skipped.status, skipped.reason) == (TaskStatus.SKIPPED, "the work order moved on to triaged")


def test_an_order_from_before_the_solution_is_followed_when_it_moves_on(world, run_jobs, smtp_server):
    _a, _owner, _vendor, tenant, unit = world
    with clock.frozen_at(clock.now() - timedelta(days=2)):
        old = ops.submit_request(tenant, unit, "repair", "Old tap", "Drips")
    valid_from(clock.now() - timedelta(days=1))  # switched on after the order came in
    send_due(run_jobs)
    assert subjects(smtp_server, "tom@example.com") == []  # its past is not raked up
    ops.triage(old, ops.SYSTEM, requires_owner_approval=True)
    send_due(run_jobs)
    assert subjects(smtp_server, "tom@example.com") == []  # waiting for the owner is not news to the tenant
    assert subjects(smtp_server, "olga@example.com") == ["Your approval is needed: Old tap at 1A"]


def test_each_wait_for_the_owner_asks_again_and_an_earlier_one_is_skipped(world, run_jobs, smtp_server):
    _a, _owner, _vendor, tenant, unit = world
    valid_from(T0)
    with clock.frozen_at(T0) as travel:
        order = ops.submit_request(tenant, unit, "repair", "Boiler", "Cold")
        ops.triage(order, ops.SYSTEM, requires_owner_approval=True)
        send_due(run_jobs)
        assert subjects(smtp_server, "olga@example.com") == ["Your approval is needed: Boiler at 1A"]
        travel.advance(minutes=5)
        ops.triage(order, ops.SYSTEM, requires_owner_approval=False)
        travel.advance(minutes=5)
        ops.triage(order, ops.SYSTEM, requires_owner_approval=True)  # a second wait
        travel.advance(minutes=5)
        ops.triage(order, ops.SYSTEM, requires_owner_approval=False)  # over before the dispatcher ran
        send_due(run_jobs)
        assert subjects(smtp_server, "olga@example.com") == ["Your approval is needed: Boiler at 1A"]
        kind_tasks = db.session.scalars(select(Task).join(Solution).where(
            Solution.kind == "workorder-owner-approval").order_by(Task.id)).all()
        assert [t.status for t in kind_tasks] == [TaskStatus.SENT, TaskStatus.SKIPPED]
        assert kind_tasks[1].reason == "the work order moved on to triaged"
        assert kind_tasks[0].occurrence != kind_tasks[1].occurrence


def test_the_vendor_is_reminded_24_hours_before_the_visit_and_at_its_new_time(world, run_jobs, smtp_server):
    _a, _owner, vendor, tenant, unit = world
    reminder = db.session.scalar(select(Solution).where(Solution.kind == "workorder-visit-reminder"))
    assert (reminder.anchor, reminder.offset, reminder.offset_unit) == (Anchor.VISIT, -24, OffsetUnit.HOURS)
    valid_from(T0)
    with clock.frozen_at(T0) as travel:
        order = ops.submit_request(tenant, unit, "repair", "Boiler", "Cold")
        ops.triage(order, ops.SYSTEM, vendor_id=vendor.id)
        visit = T0 + timedelta(days=3, hours=6)
        ops.schedule(order, ops.SYSTEM, source="system", at=visit)
        send_due(run_jobs)
        task = db.session.scalar(select(Task).where(Task.solution_id == reminder.id))
        assert task.due_at == visit - timedelta(hours=24)
        travel.advance(days=2, hours=5, minutes=59)
        send_due(run_jobs)
        assert subjects(smtp_server, "victor@example.com") == []
        # Moved a day later: reminded at the new time, not the old.
        ops.schedule(order, ops.SYSTEM, source="system", at=visit + timedelta(days=1))
        travel.advance(minutes=2)
        send_due(run_jobs)
        assert subjects(smtp_server, "victor@example.com") == []
        travel.advance(days=1)
        send_due(run_jobs)
        assert subjects(smtp_server, "victor@example.com") == [
            f"Reminder: Boiler at 1A on {(visit + timedelta(days=1)):%-d %b %Y, %H:%M}"]
        tasks = db.session.scalars(select(Task).where(Task.solution_id == reminder.id).order_by(Task.id)).all()
        assert [(t.status, t.reason) for t in tasks] == [(TaskStatus.SKIPPED, "the visit was moved"),
                                                         (TaskStatus.SENT, None)]


def test_an_owner_the_order_is_hidden_from_is_not_asked(world, run_jobs, smtp_server):
    a, owner, _vendor, tenant, unit = world
    order = ops.submit_request(tenant, unit, "repair", "Boiler", "Cold")
    set_item_rule(a.id, "owner.workorders.approve", order, owner.id, ItemEffect.EXCLUDE)
    ops.triage(order, ops.SYSTEM, requires_owner_approval=True)
    send_due(run_jobs)
    assert subjects(smtp_server, "olga@example.com") == []
    task = db.session.scalar(select(Task).join(Solution).where(Solution.kind == "workorder-owner-approval"))
    assert task.status == TaskStatus.SKIPPED and task.reason == "nobody this notification goes to may see it"


def test_every_new_kind_has_a_template_that_renders_with_its_links():
    from automation import rendering

    for name in starter.LOOP:
        subject, html, text = starter.TEMPLATES[name][1:]
        assert rendering.check(KINDS[name].subject.name, subject, html, text) is None, name
    assert rendering.LINKS["workorder"] == ["order_approval", "order_acceptance", "survey"]
    assert rendering.LINKS["invoice"] == ["invoice_approval"]
    assert WorkStatus.AWAITING_OWNER_APPROVAL.value == "awaiting-owner-approval"
