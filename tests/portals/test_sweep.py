"""Every portal route that takes an id, for every portal role, with another person's and another
agency's ids: never a 200, and nothing changes."""


import io
from datetime import timedelta
from decimal import Decimal

import pytest
from flask import url_for
from sqlalchemy import func, select

from portal import clock, db, links
from portal.accounting import ledger
from portal.accounting import operations as accounting
from portal.accounting.contributions import Contribution, ContributionStatus, request_contribution
from portal.accounting.models import Statement, StatementStatus
from portal.applicants import operations as applicants
from portal.applicants.models import Applicant, ApplicantStatus
from portal.bookings.models import Booking
from portal.documents.models import Document, DocumentKind, Signature
from portal.files.models import WorkOrderFile
from portal.files.operations import add_file
from portal.insurance import operations as quotes
from portal.insurance.models import InsuranceQuote, QuoteStatus
from portal.invoices import operations as invoices
from portal.invoices.models import Invoice, InvoiceStatus
from portal.links.models import ActionLink
from portal.money.models import Charge, Payment
from portal.violations import operations as violations
from portal.violations.models import Violation, ViolationEvent, ViolationStatus
from portal.workorders import operations as orders
from portal.workorders.models import WorkOrder, WorkOrderEvent, WorkStatus
from tests import factories as f
from tests.conftest import csrf_token, press_link
from tests.workorders.test_files import jpeg

PORTALS = ("tenant.", "guest.", "owner.", "vendor.", "portals.")
KIND_OF = {"doc_id": "document", "booking_id": "booking", "charge_id": "charge", "appointment_id": "appointment",
           "order_id": "order", "invoice_id": "invoice", "lease_id": "lease",
           "file_id": "file", "applicant_id": "applicant", "statement_id": "statement",
           "contribution_id": "contribution", "violation_id": "violation",
           "photo_id": "violation_photo", "quote_id": "quote"}


def _order_and_invoice(a, unit, owner):
    """An order on the owner's unit waiting for their approval, and another one's invoice waiting for it too:
    were a foreign id let through, the sweep's POSTs would decide them."""
    unit.owners.append(owner)
    vendor = f.person(a, "Sweep Vendor", f"vendor@{a.slug}.example", roles=["vendor"])
    staff = f.staff(a, f"sweep@{a.slug}.example")
    order = orders.submit_request(owner, unit, "repair", "Their order", "x")
    orders.triage(order, orders.SYSTEM, requires_owner_approval=True, vendor_id=vendor.id, estimate="100")
    done = orders.submit_request(owner, unit, "repair", "Their done order", "x")
    orders.triage(done, orders.SYSTEM, vendor_id=vendor.id)
    orders.schedule(done, orders.SYSTEM, source="system", at=clock.now() + timedelta(hours=1))
    orders.start(done, orders.SYSTEM, source="system")
    orders.complete(done, orders.SYSTEM, source="system")
    invoice = invoices.create_invoice(done, vendor, number="S-1", lines=[
        {"description": "Work", "quantity": "1", "unit_price": "50"}])
    invoices.submit(invoice)
    if invoice.status != InvoiceStatus.AWAITING_OWNER_APPROVAL:
        invoices.request_owner_approval(invoice, staff)
    return order.id, invoice.id


def _objects(a, owner):
    unit = f.unit(a, f.prop(a, f"{a.slug} House"))
    booking = f.booking(a, unit, owner)
    document = Document(agency_id=a.id, person_id=owner.id, kind=DocumentKind.NOTICE, title="Private",
                        body="x", requires_signature=True)
    db.session.add(document)
    db.session.flush()
    order_id, invoice_id = _order_and_invoice(a, unit, owner)
    photo = add_file(db.session.get(WorkOrder, order_id), io.BytesIO(jpeg()), "private.jpg", person=owner)
    # An applicant for the owner's unit, waiting for their decision.
    staff = f.staff(a, f"applicants@{a.slug}.example")
    applicant = applicants.submit(unit, kind="tenant", name="Sweep Applicant", email="applicant@example.com",
                                  move_in=clock.now().date() + timedelta(days=30), source="staff", by=staff)
    applicants.send_to_owner(applicant, staff)
    lease = f.lease(a, unit, owner)
    notice, quote = _notice_and_quote(a, lease, booking)
    # The owner's sent statement of last month, and money asked of them: someone else's never opens or pays.
    statement = accounting.generate(owner, ledger.previous_month(a.today()), a.currency)
    accounting.mark_sent(statement)
    contribution = request_contribution(owner, Decimal("75.00"), a.currency)
    return {"statement": statement.id, "contribution": contribution.id,
            "booking": booking.id, "lease": lease.id, "charge": f.charge(a, booking=booking).id,
            "document": document.id,
            "appointment": f.appointment(a, owner).id, "order": order_id, "invoice": invoice_id, "file": photo.id,
            "applicant": applicant.id, "violation": notice.id, "violation_photo": notice.photos[0].id,
            "quote": quote.id}


def _notice_and_quote(a, lease, booking):
    """A violation notice (with a photo) on the occupant's lease and an insurance quote on their booking, both
    open: were a foreign id let through, the sweep's POSTs would answer or accept them."""
    from werkzeug.datastructures import FileStorage

    staff = f.staff(a, f"notices@{a.slug}.example")
    notice = violations.record(a.id, {"lease_id": lease.id, "category": "noise", "rule": "Quiet hours",
                                      "description": "Loud", "observed_on": a.today()}, staff,
                               photos=[FileStorage(io.BytesIO(jpeg()), "hall.jpg")])
    quote = quotes.create_quote(a.id, {"booking_id": booking.id, "insurer": "Ins", "product": "Cover",
                                       "cover": "All", "premium": Decimal("30"), "currency": "EUR",
                                       "valid_until": a.today() + timedelta(days=5)}, staff)
    return notice, quote


@pytest.fixture
def world(app):
    with app.app_context():
        beta = f.agency("beta")
        theirs = _objects(beta, f.person(beta, "Beta Guest", "b@example.com", roles=["tenant", "guest", "owner"]))
        a = f.agency("alpha")
        other = f.person(a, "Other Person", "other@example.com", roles=["tenant", "guest", "owner", "vendor"])
        others = _objects(a, other)
        users = {role: f.person(a, f"{role} user", f"{role}@example.com", roles=[role]).id
                 for role in ("tenant", "guest", "owner", "vendor")}
        tokens = {}
        from portal.people.models import Person

        for role, pid in users.items():
            person = db.session.get(Person, pid)
            tokens[role] = links.token(links.create("login", person, person))
        db.session.commit()
    return others, theirs, tokens


def _client(app, token):
    c = app.test_client()
    press_link(c, token)
    return c


def _id_rules(app):
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith(PORTALS) and rule.arguments & set(KIND_OF):
            yield rule


def test_every_portal_id_route_is_in_the_sweep(app):
    rules = list(_id_rules(app))
    assert len(rules) >= 12
    for rule in rules:
        assert (rule.arguments - {"agency"}) <= set(KIND_OF), f"{rule.rule}: add its id to KIND_OF"


def test_other_peoples_and_other_agencies_ids_are_never_200(app, world):
    others, theirs, tokens = world
    checked = 0
    for role, token in tokens.items():
        c = _client(app, token)
        csrf = csrf_token(c.get(f"/alpha/{role}/").text)
        for rule in _id_rules(app):
            args = rule.arguments & set(KIND_OF)
            for agency, objects in (("alpha", others), ("alpha", theirs), ("beta", theirs)):
                with app.test_request_context():
                    url = url_for(rule.endpoint, agency=agency, **{arg: objects[KIND_OF[arg]] for arg in args})
                for method in sorted(rule.methods & {"GET", "POST"}):
                    r = c.get(url) if method == "GET" else c.post(url, data={"csrf_token": csrf, "typed_name": "X",
                                                                             "option": "insurance", "title": "T",
                                                                             "description": "D", "kind": "repair",
                                                                             "action": "complete", "text": "Hi",
                                                                             "estimate": "10", "number": "N-1",
                                                                             "line0-description": "X",
                                                                             "line0-quantity": "1",
                                                                             "line0-unit_price": "5", "reason": "R",
                                                                             "choice": "acknowledge",
                                                                             "comment": "C"})
                    # Another person's or agency's item is simply not there: never 200, never a 403
                    # that would confirm it exists; 302 only to sign in to another agency's portal.
                    assert r.status_code in (302, 404), (role, method, url, r.status_code)
                    if r.status_code == 302:
                        assert "/login" in r.headers["Location"], (role, method, url)
                    checked += 1
    assert checked > 100
    with app.app_context():
        assert db.session.scalar(select(func.count(Signature.id)).execution_options(all_agencies=True)) == 0
        assert db.session.scalar(select(func.count(Payment.id)).execution_options(all_agencies=True)) == 0
        # Each agency's two orders, one invoice and one photo, as they were: nothing new, none decided, no message.
        assert db.session.scalar(select(func.count(WorkOrder.id)).execution_options(all_agencies=True)) == 4
        assert set(db.session.scalars(select(WorkOrder.status).execution_options(all_agencies=True))) == {
            WorkStatus.AWAITING_OWNER_APPROVAL, WorkStatus.INVOICED}
        assert set(db.session.scalars(select(Invoice.status).execution_options(all_agencies=True))) == {
            InvoiceStatus.AWAITING_OWNER_APPROVAL}
        assert db.session.scalar(select(func.count(WorkOrderEvent.id)).where(WorkOrderEvent.action == "message")
                                 .execution_options(all_agencies=True)) == 0
        assert db.session.scalar(select(func.count(WorkOrderFile.id)).execution_options(all_agencies=True)) == 2
        # Each agency's applicant still waits for its owner.
        assert list(db.session.scalars(select(Applicant.status).execution_options(all_agencies=True))) == [
            ApplicantStatus.AWAITING_OWNER] * 2
        # The two charges made above and each agency's booking balance: nothing added.
        assert db.session.scalar(select(func.count(Charge.id)).execution_options(all_agencies=True)) == 4
        assert db.session.scalar(select(func.count(Booking.id)).where(Booking.checked_in_at.is_not(None))
                                 .execution_options(all_agencies=True)) == 0
        # Each agency's statement still sent as it was, each request for money still waiting, no link made for it.
        assert list(db.session.scalars(select(Statement.status).execution_options(all_agencies=True))) == [
            StatementStatus.SENT] * 2
        assert list(db.session.scalars(select(Contribution.status).execution_options(all_agencies=True))) == [
            ContributionStatus.REQUESTED] * 2
        assert db.session.scalar(select(func.count()).select_from(ActionLink).where(
            ActionLink.action == "send_money").execution_options(all_agencies=True)) == 0
        # Each agency's notice and quote, still open and unanswered: nothing answered, accepted or declined.
        assert set(db.session.scalars(select(Violation.status).execution_options(all_agencies=True))) == {
            ViolationStatus.OPEN}
        assert db.session.scalar(select(func.count(ViolationEvent.id)).where(ViolationEvent.action != "record")
                                 .execution_options(all_agencies=True)) == 0
        assert set(db.session.scalars(select(InsuranceQuote.status).execution_options(all_agencies=True))) == {
            QuoteStatus.OPEN}
