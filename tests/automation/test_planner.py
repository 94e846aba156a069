"""The planner follows its objects (S2, S5, S7): moves, cancellations, alterations, conditions,
tags, backfill, and never two tasks for one notification of one object."""

import threading
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import func, select

from automation import operations, planner
from automation.models import Solution, Task, TaskStatus
from portal import clock, db, tags
from portal.bookings.models import BookingStatus, Channel, PaymentType
from portal.bookings.operations import save_booking
from portal.workorders.models import WorkStatus
from tests import factories as f

NOW = datetime(2026, 5, 1, 8, tzinfo=UTC)


def _tasks(**where):
    stmt = select(Task).order_by(Task.id)
    for key, value in where.items():
        stmt = stmt.where(getattr(Task, key) == value)
    return db.session.scalars(stmt).all()


def _edit(booking, **changes):
    data = {k: getattr(booking, k) for k in ("guest_id", "unit_id", "arrival", "departure", "adults", "status",
                                             "payment_type", "channel", "amount_due", "amount_paid")}
    data["tags"] = tags.render(booking.tags)
    data.update(changes)
    return save_booking(booking, booking.agency_id, data)


def test_a_moved_arrival_reschedules_and_a_cancellation_cancels(ctx):
    a = f.agency("alpha", timezone="Europe/Madrid")
    with clock.frozen_at(NOW):
        f.solution(a, "extra-services", anchor="arrival", offset=-2, at_time="10:00")
        b = f.booking(a, arrival=date(2026, 6, 10))
        (task,) = _tasks()
        assert task.due_at == datetime(2026, 6, 8, 8, tzinfo=UTC)
        _edit(b, arrival=date(2026, 7, 1), departure=date(2026, 7, 5))
        db.session.refresh(task)
        assert task.due_at == datetime(2026, 6, 29, 8, tzinfo=UTC) and task.status == TaskStatus.PENDING
        _edit(b, status=BookingStatus.CANCELLED)
        db.session.refresh(task)
        assert task.status == TaskStatus.CANCELLED and "no longer meets" in task.reason
        _edit(b, status=BookingStatus.CONFIRMED)  # re-confirmed: the same task comes back
        db.session.refresh(task)
        assert task.status == TaskStatus.PENDING and task.due_at == datetime(2026, 6, 29, 8, tzinfo=UTC)
    assert len(_tasks()) == 1


def test_an_alteration_does_not_fire_a_new_booking_notice_again(ctx, run_jobs):
    a = f.agency("alpha")
    owner = f.person(a, "Olga Owner", "olga@example.com")
    u = f.unit(a)
    u.owners.append(owner)
    f.solution(a, "owner-new-booking", roles=("owner",))
    b = f.booking(a, u=u)
    db.session.commit()
    from automation import dispatcher

    dispatcher.dispatch()
    run_jobs()
    db.session.expire_all()
    assert [t.status for t in _tasks()] == [TaskStatus.SENT]
    _edit(b, arrival=b.arrival + timedelta(days=3), departure=b.departure + timedelta(days=3), adults=3)
    db.session.commit()
    assert len(_tasks()) == 1 and _tasks()[0].status == TaskStatus.SENT


def test_confirmed_only_waits_for_the_confirmation(ctx):
    a = f.agency("alpha")
    owner = f.person(a, "Olga Owner", "olga@example.com")
    u = f.unit(a)
    u.owners.append(owner)
    f.solution(a, "owner-new-booking", roles=("owner",), statuses=["confirmed"], name="confirmed only")
    f.solution(a, "owner-new-booking", roles=("owner",), statuses=["confirmed", "pre-booking"], name="both")
    b = f.booking(a, u=u, status=BookingStatus.PRE_BOOKING)
    assert [t.solution.name for t in _tasks()] == ["both"]
    _edit(b, status=BookingStatus.CONFIRMED)
    assert sorted(t.solution.name for t in _tasks()) == ["both", "confirmed only"]


def test_conditions_payment_type_channel_and_never_eligible_channels(ctx):
    a = f.agency("alpha")
    f.solution(a, "pending-payment", payment_types=["bank-transfer"], channels=["direct", "airbnb"])
    ok = f.booking(a, payment_type=PaymentType.BANK_TRANSFER)
    f.booking(a, guest=f.person(a, "Card Payer", "card@example.com"), payment_type=PaymentType.CARD)
    f.booking(a, guest=f.person(a, "Web Guest", "web@example.com"), payment_type=PaymentType.BANK_TRANSFER,
              channel=Channel.WEB)
    # Airbnb collects the money itself: never eligible for our payment reminders, even when chosen.
    f.booking(a, guest=f.person(a, "Air Guest", "air@example.com"), payment_type=PaymentType.BANK_TRANSFER,
              channel=Channel.AIRBNB, external_id="HMX1")
    f.booking(a, guest=f.person(a, "Paid Guest", "paid@example.com"), payment_type=PaymentType.BANK_TRANSFER,
              amount_paid=Decimal("300.00"))
    assert [t.object_id for t in _tasks()] == [ok.id]


def test_tags_include_and_never_exclude(ctx):
    a = f.agency("alpha")
    f.solution(a, "extra-services", tags="vip, sea view")
    vip_owner = f.person(a, "Vera Owner", "vera@example.com")
    vip_owner.tags = tags.resolve(a.id, ["vip"])
    u_owner = f.unit(a, name="Owner's")
    u_owner.owners.append(vip_owner)
    u_sea = f.unit(a, name="Sea")
    u_sea.tags = tags.resolve(a.id, ["sea view"])
    u_plain = f.unit(a, name="Plain")
    db.session.flush()
    by_owner = f.booking(a, u=u_owner)
    by_unit = f.booking(a, u=u_sea, guest=f.person(a, "S", "s@example.com"))
    by_booking = f.booking(a, u=u_plain, guest=f.person(a, "B", "b@example.com"), tags="VIP, late")
    f.booking(a, u=u_plain, guest=f.person(a, "P", "p@example.com"), tags="late")
    assert sorted(t.object_id for t in _tasks()) == sorted([by_owner.id, by_unit.id, by_booking.id])


def test_validity_and_backfill_with_progress(ctx, run_jobs):
    a = f.agency("alpha")
    with clock.frozen_at(NOW - timedelta(days=30)):
        future = [f.booking(a, guest=f.person(a, f"G{i}", f"g{i}@example.com"), arrival=date(2026, 6, 1) + timedelta(
            days=i)) for i in range(5)]
        f.booking(a, guest=f.person(a, "Old", "old@example.com"), arrival=date(2026, 4, 20))  # long gone
    with clock.frozen_at(NOW):
        only_new = f.solution(a, "extra-services", anchor="arrival", offset=-1, at_time="12:00", name="new only")
        assert _tasks() == []  # valid for bookings made from today on
        s = f.solution(a, "extra-services", anchor="arrival", offset=-1, at_time="12:00", active=False,
                       include_existing=True, name="with existing")
        operations.activate(s)
        db.session.commit()
        run_jobs()  # the backfill job, in its own session
    db.session.expire_all()
    s = db.session.get(Solution, s.id)
    assert (s.backfill_done, s.backfill_total) == (6, 6)
    assert sorted(t.object_id for t in _tasks(solution_id=s.id)) == [b.id for b in future]
    assert _tasks(solution_id=only_new.id) == []


def test_work_orders_notify_each_status_once(ctx):
    from portal.workorders.models import WorkKind, WorkOrder

    a = f.agency("alpha")
    tenant = f.person(a, "Tina Tenant", "tina@example.com", roles=["tenant"])
    f.solution(a, "workorder-status", roles=("requester",),
               tpl=f.template(a, subject="{{ work_order.title }}", text="Now {{ work_order.status }}"))
    w = WorkOrder(agency_id=a.id, requester_id=tenant.id, unit_id=f.unit(a).id, kind=WorkKind.REPAIR,
                  title="Leaking tap", description="Drips")
    db.session.add(w)
    db.session.flush()
    w.status = WorkStatus.SCHEDULED
    db.session.flush()
    w.title = "Leaking kitchen tap"  # not a move: no new task
    db.session.flush()
    assert [t.occurrence for t in _tasks()] == ["submitted", "scheduled"]


def test_concurrent_planning_never_makes_two_tasks(app):
    """Two sessions plan the same booking at the same moment: the unique constraint keeps one."""
    with app.app_context():
        a = f.agency("alpha")
        s = f.solution(a, "extra-services")
        s.active = False  # planned by hand below, not on save
        db.session.flush()
        b = f.booking(a)
        s.active = True
        db.session.commit()
        agency_id, booking_id = a.id, b.id
    barrier = threading.Barrier(4)
    errors = []

    def plan() -> None:
        try:
            with app.app_context():
                db.scope(db.session, agency_id)
                barrier.wait()
                planner.plan("booking", agency_id, [booking_id])
                db.session.commit()
        except Exception as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=plan) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with app.app_context():
        assert db.session.scalar(select(func.count(Task.id)).execution_options(all_agencies=True)) == 1


def test_deactivating_cancels_and_deleting_a_booking_cancels(ctx):
    a = f.agency("alpha")
    s = f.solution(a, "extra-services", anchor="arrival", offset=-1, at_time="10:00")
    b1 = f.booking(a)
    b2 = f.booking(a, guest=f.person(a, "Bo", "bo@example.com"), amount_paid=Decimal("300.00"))  # no charge
    db.session.delete(b2)
    db.session.flush()
    assert {(t.object_id, t.status) for t in _tasks()} == {(b1.id, TaskStatus.PENDING),
                                                           (b2.id, TaskStatus.CANCELLED)}
    operations.deactivate(s)
    db.session.expire_all()
    assert {t.status for t in _tasks()} == {TaskStatus.CANCELLED}


def test_the_limit_of_active_solutions(ctx):
    a = f.agency("alpha")
    a.settings = {"max_active_solutions": 2}
    f.solution(a, "extra-services", name="one")
    f.solution(a, "review-request", anchor="departure", at_time="10:00", name="two")
    third = f.solution(a, "pending-payment", active=False, name="three")
    try:
        operations.activate(third)
    except operations.FieldError as err:
        assert "at most 2 active solutions" in err.message
    else:
        raise AssertionError("a third active solution was allowed")
    assert not third.active


def test_dry_run_shows_the_next_30_days_and_writes_nothing(ctx):
    a = f.agency("alpha", timezone="Europe/Madrid")
    with clock.frozen_at(NOW):
        soon = f.booking(a, arrival=date(2026, 5, 20))
        f.booking(a, guest=f.person(a, "Later", "later@example.com"), arrival=date(2026, 7, 20))
        s = f.solution(a, "extra-services", anchor="arrival", offset=-3, at_time="09:00", active=False,
                       include_existing=True)
        preview = planner.dry_run(s)
    assert [(p.object_id, p.due_at) for p in preview] == [(soon.id, datetime(2026, 5, 17, 7, tzinfo=UTC))]
    assert _tasks() == []


def test_a_new_agency_can_still_switch_on_ten_of_its_own(ctx):
    """The starter switches on the workflow mails (starter.LOOP) and the pending-payment reminder: the LOOP ones
    do not count towards the limit (S6), so the agency can have ten of its own on, not one more."""
    from automation.starter import LOOP

    a = f.agency("alpha", starter=True)
    on = db.session.scalars(select(Solution).where(Solution.agency_id == a.id, Solution.active)).all()
    assert sum(1 for s in on if s.kind in LOOP) >= 10 and len(on) > operations.DEFAULT_MAX_ACTIVE
    own = sum(1 for s in on if s.kind not in LOOP)
    mine = [f.solution(a, "extra-services", active=False, name=f"mine {n}") for n in range(11 - own)]
    for s in mine[:-1]:
        operations.activate(s)
    assert operations.counted_active(a.id) == operations.DEFAULT_MAX_ACTIVE
    try:
        operations.activate(mine[-1])
    except operations.FieldError as err:
        assert "at most 10 active solutions" in err.message and "do not count" in err.message
    else:
        raise AssertionError("an eleventh solution of its own was allowed")
    assert not mine[-1].active
    # A workflow mail switched off can be switched on again whatever the count.
    loop = next(s for s in on if s.kind in LOOP)
    operations.deactivate(loop)
    operations.activate(loop)
    assert loop.active
