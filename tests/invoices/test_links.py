"""An owner approves or denies a vendor's invoice from the mail caught at the SMTP server (L4): the link
page shows the lines and the total, the decision goes through the invoice operations, the order's
timeline records it "from a link", and the link dies when the invoice moves on; the vendor is told
when it is paid."""

import re
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

from automation import dispatcher
from portal import db, links
from portal.invoices import operations as invoice_ops
from portal.invoices.models import Invoice, InvoiceStatus
from portal.people.models import Person
from portal.properties.models import unit_owners
from portal.workorders import operations as ops
from portal.workorders.models import WorkOrder
from tests import factories as f
from tests.conftest import press_link

LINES = [{"description": "Replace the kitchen tap", "quantity": "1", "unit_price": "80.00"},
         {"description": "Labour", "quantity": "1.5", "unit_price": "40.00"}]  # 140 + 21 % = 169.40


@pytest.fixture
def billed(app):
    with app.app_context():
        a = f.agency("alpha", starter=True)
        staff = f.staff(a)
        owner = f.person(a, "Olga Owner", "olga@example.com", roles=["owner"])
        co_owner = f.person(a, "Cora Owner", "cora@example.com", roles=["owner"])
        vendor = f.person(a, "Victor Vendor", "victor@example.com", roles=["vendor"])
        tenant = f.person(a, "Tom Tenant", "tom@example.com", roles=["tenant"])
        unit = f.unit(a, f.prop(a, "Seafront"), "1A")
        for person in (owner, co_owner):
            db.session.execute(unit_owners.insert().values(unit_id=unit.id, person_id=person.id))
        order = ops.submit_request(tenant, unit, "repair", "Leaking tap", "The kitchen tap drips")
        ops.triage(order, ops.SYSTEM, vendor_id=vendor.id)
        f.completed(order)
        invoice = invoice_ops.create_invoice(order, vendor, number="V-1", lines=LINES, tax_rate="21")
        invoice_ops.submit(invoice)
        invoice_ops.request_owner_approval(invoice, staff)
        ids = {"agency": a.id, "invoice": invoice.id, "order": order.id, "owner": owner.id, "co_owner": co_owner.id,
               "staff": staff.id}
        db.session.commit()
    return ids


def send_due(app, run_jobs) -> None:
    with app.app_context():
        dispatcher.dispatch()
    run_jobs()


def mail_to(smtp_server, address: str, subject_start: str):
    found = [m for m in smtp_server.messages if address in m["To"] and m["Subject"].startswith(subject_start)]
    assert len(found) == 1, [(m["To"], m["Subject"]) for m in smtp_server.messages]
    return found[0]


def token_of(mail) -> str:
    return re.search(r"/l/(\S+)", mail.get_body(("plain",)).get_content()).group(1)


def state(app, invoice_id: int) -> dict:
    with app.app_context():
        invoice = db.session.scalar(select(Invoice).where(Invoice.id == invoice_id)
                                    .execution_options(all_agencies=True))
        order = db.session.scalar(select(WorkOrder).where(WorkOrder.id == invoice.work_order_id)
                                  .execution_options(all_agencies=True))
        return {"status": invoice.status, "version": invoice.version, "decided_by": invoice.decided_by_person_id,
                "reason": invoice.denial_reason,
                "events": [(e.action, e.source, e.person_id, e.note) for e in order.events if "invoice" in e.action]}


def test_the_owner_approves_the_invoice_from_the_mail(app, billed, run_jobs, smtp_server):
    send_due(app, run_jobs)
    mail = mail_to(smtp_server, "olga@example.com", "Invoice to approve")
    assert mail["Subject"] == "Invoice to approve: V-1 (169.40 EUR) for 1A"
    body = mail.get_body(("plain",)).get_content()
    assert "Victor Vendor has invoiced 169.40 EUR (140.00 EUR + 29.40 EUR tax)" in body
    token = token_of(mail)
    owner = app.test_client()
    page = owner.get(f"/l/{token}")
    assert page.status_code == 200
    for shown in ("Invoice V-1 from Victor Vendor", "Replace the kitchen tap", "Labour", "80.00 EUR", "60.00 EUR",
                  "140.00 EUR", "29.40 EUR", "169.40 EUR", "Seafront · 1A", "Leaking tap"):
        assert shown in page.text, shown
    done = press_link(owner, token, choice="approve")
    assert done.status_code == 200 and "Invoice V-1 is approved" in done.text
    after = state(app, billed["invoice"])
    assert after["status"] == InvoiceStatus.APPROVED and after["decided_by"] == billed["owner"]
    # The decision is on the order's timeline once, from the link (after the draft and its sending).
    assert after["events"][-1] == ("invoice_approve", "link", billed["owner"], None)
    assert [e for e in after["events"] if e[1] == "link"] == [after["events"][-1]]
    # The co-owner's link for the same invoice died with the decision; nothing changes through it.
    co_token = token_of(mail_to(smtp_server, "cora@example.com", "Invoice to approve"))
    dead = app.test_client().get(f"/l/{co_token}")
    assert dead.status_code == 410 and "This invoice is approved." in dead.text
    assert owner.get(f"/l/{token}").status_code == 410  # used
    assert state(app, billed["invoice"]) == after


def test_the_owner_denies_the_invoice_with_a_reason(app, billed, run_jobs, smtp_server):
    send_due(app, run_jobs)
    token = token_of(mail_to(smtp_server, "olga@example.com", "Invoice to approve"))
    owner = app.test_client()
    before = state(app, billed["invoice"])
    empty = press_link(owner, token, choice="deny", reason="")
    assert empty.status_code == 422 and "Say why the invoice is denied" in empty.text
    assert state(app, billed["invoice"]) == before
    assert press_link(owner, token, choice="deny", reason="Labour was not agreed").status_code == 200
    after = state(app, billed["invoice"])
    assert after["status"] == InvoiceStatus.DENIED and after["reason"] == "Labour was not agreed"
    assert after["events"][-1] == ("invoice_denied", "link", billed["owner"], "Labour was not agreed")
    assert [e for e in after["events"] if e[1] == "link"] == [after["events"][-1]]


def test_a_link_for_someone_who_does_not_own_the_unit_cannot_be_made(app, billed):
    with app.app_context():
        db.scope(db.session, billed["agency"])
        from portal import agencies

        stranger = f.person(agencies.get(billed["agency"]), "Otto Owner", "otto@example.com", roles=["owner"])
        with pytest.raises(ValueError):
            links.create("invoice_approval", db.session.get(Invoice, billed["invoice"]), stranger)


def test_the_vendor_is_told_the_invoice_was_paid(app, billed, run_jobs, smtp_server):
    with app.app_context():
        db.scope(db.session, billed["agency"])
        invoice = db.session.get(Invoice, billed["invoice"])
        invoice_ops.approve(invoice, owner=db.session.get(Person, billed["owner"]))
        db.session.commit()
    send_due(app, run_jobs)
    assert not [m for m in smtp_server.messages if "victor@example.com" in m["To"]]  # approved: not paid yet
    with app.app_context():
        db.scope(db.session, billed["agency"])
        from portal.agencies.models import StaffUser

        invoice = db.session.get(Invoice, billed["invoice"])
        invoice_ops.mark_paid(invoice, db.session.get(StaffUser, billed["staff"]), amount=Decimal("169.40"),
                              paid_on=date(2026, 1, 5), reference="TR-778")
        db.session.commit()
    send_due(app, run_jobs)
    mail = mail_to(smtp_server, "victor@example.com", "Invoice V-1 is paid")
    body = mail.get_body(("plain",)).get_content()
    assert "paid: 169.40 EUR on 5 January 2026 (reference TR-778)" in body
    # Its page in the vendor portal, and the agency's name once (the signature), not twice.
    portal_page = re.search(r"(/alpha/vendor/invoices/\d+)", body).group(1)
    assert portal_page == f"/alpha/vendor/invoices/{billed['invoice']}" and body.count("Alpha") <= 1
