"""Migrations that rebuild a SQLite table (batch mode: copy, drop, rename) keep every row that refers to it:
foreign keys are off while the schema changes and checked before the commit (portal/migrations/env.py)."""

from io import BytesIO

import pytest
from alembic import command
from sqlalchemy import text

from portal import db, migrate
from portal.files.operations import add_file
from portal.invoices import operations as invoicing
from portal.workorders import operations as ops
from tests import factories as f
from tests.workorders.test_files import jpeg

TABLES = ("agencies", "solutions", "notifications", "mail_templates", "people", "work_orders", "workorder_events",
          "workorder_visits", "work_order_files", "invoices", "invoice_lines")


def _counts() -> dict[str, int]:
    with db.engine().connect() as conn:
        return {t: conn.execute(text(f"SELECT count(*) FROM {t}")).scalar() for t in TABLES}


@pytest.fixture
def cfg(app):
    with app.app_context():
        config = migrate.alembic_config()
        yield config
        db.session.close()
        command.upgrade(config, "head")


def test_the_solutions_rebuild_of_0019_keeps_their_notifications(app, cfg):
    command.downgrade(cfg, "0018_invoice_events")
    a = f.agency("alpha")
    db.scope(db.session, a.id)
    f.solution(a)
    f.solution(a, "review-request", name="Reviews", anchor="departure", offset=1, at_time="10:00")
    db.session.commit()
    db.session.close()
    before = _counts()
    assert before["notifications"] == 2
    command.upgrade(cfg, "head")
    assert _counts() == before


def test_downgrading_past_rebuilt_tables_keeps_orders_their_story_and_invoices(app, cfg):
    a = f.agency("alpha")
    tenant = f.person(a, "Tom Tenant", "tom@example.com", roles=["tenant"])
    vendor = f.person(a, "Vic Vendor", "vic@example.com", roles=["vendor"])
    order = ops.submit_request(tenant, f.unit(a), "repair", "Tap", "Drips")
    ops.triage(order, ops.SYSTEM, vendor_id=vendor.id)
    f.completed(order)
    add_file(order, BytesIO(jpeg()), "tap.jpg", person=tenant)
    invoicing.create_invoice(order, vendor, number="A-1", lines=[{"description": "Washer", "quantity": "1",
                                                                   "unit_price": "10"}])
    db.session.commit()
    db.session.close()
    before = _counts()
    assert before["workorder_events"] >= 4 and before["invoice_lines"] == 1
    command.downgrade(cfg, "0017_invoices_photos")
    assert _counts() == before
    command.upgrade(cfg, "head")
    assert _counts() == before


def test_the_pool_gets_its_connections_back_with_foreign_keys_on(app, cfg):
    command.downgrade(cfg, "0019_approval_reminders")
    command.upgrade(cfg, "head")
    if db.engine().dialect.name == "sqlite":
        for _ in range(3):
            with db.engine().connect() as conn:
                assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
