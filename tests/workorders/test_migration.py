"""Migration 0016 keeps today's orders valid: their statuses mapped, their gates kept, their story begun."""

from alembic import command
from sqlalchemy import select, text

from portal import db, migrate
from portal.workorders.models import WorkOrder, WorkOrderEvent, WorkStatus
from portal.workorders.operations import submit_request
from tests import factories as f


def test_old_statuses_are_mapped_and_each_order_gets_its_first_event(app):
    with app.app_context():
        a = f.agency("alpha")
        tenant = f.person(a, "Tom Tenant", "tom@example.com", roles=["tenant"])
        unit = f.unit(a)
        ids = [submit_request(tenant, unit, "repair", f"Job {i}", "x").id for i in range(3)]
        agency_id = a.id
        db.session.commit()
        db.session.close()
        cfg = migrate.alembic_config()
        try:
            command.downgrade(cfg, "0015_sessions")
            with db.engine().begin() as conn:
                assert conn.execute(text("SELECT count(*) FROM people")).scalar() == 1  # nothing cascaded away
                for order_id, status in zip(ids, ("acknowledged", "done", "awaiting-owner-approval"), strict=True):
                    conn.execute(text("UPDATE work_orders SET status = :s, needs_owner_approval = :n, "
                                      "estimate = :e WHERE id = :i"),
                                 {"s": status, "n": status.startswith("awaiting"), "e": 9000000, "i": order_id})
        finally:
            command.upgrade(cfg, "head")
        db.scope(db.session, agency_id)
        orders = {o.id: o for o in db.session.scalars(select(WorkOrder))}
        assert [orders[i].status for i in ids] == [WorkStatus.TRIAGED, WorkStatus.COMPLETED,
                                                   WorkStatus.AWAITING_OWNER_APPROVAL]
        assert orders[ids[2]].requires_owner_approval and orders[ids[2]].pending_gates == ["owner approval"]
        assert {o.currency for o in orders.values()} == {"EUR"}
        firsts = db.session.scalars(select(WorkOrderEvent).order_by(WorkOrderEvent.work_order_id)).all()
        assert [(e.work_order_id, e.action, e.new_status, e.actor_name) for e in firsts] == [
            (i, "submit", "submitted", "Tom Tenant") for i in ids]
