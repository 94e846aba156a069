"""Vendor invoices: every legal and illegal transition, totals rounded with Decimal, the owner-approval
threshold at its edge, bad input refused with nothing changed, and the expenses an owner's statement reads."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, inspect, select

from portal import agencies, db
from portal.invoices import operations as ops
from portal.invoices.models import Invoice, InvoiceLine, InvoiceStatus
from portal.invoices.queries import awaiting_owner, expenses, threshold_for, vendor_invoices
from portal.operations import FieldError
from portal.workorders.models import WorkOrderEvent, WorkStatus
from portal.workorders.operations import submit_request
from tests import factories as f

S = InvoiceStatus
LINES = [{"description": "Replace the kitchen tap", "quantity": "1", "unit_price": "80.00"},
         {"description": "Labour", "quantity": "1.5", "unit_price": "40.00"}]  # 80 + 60 = 140


@pytest.fixture
def w(ctx):
    a = f.agency("alpha")
    staff = f.staff(a)
    tom = f.person(a, "Tom Tenant", "tom@example.com", roles=["tenant"])
    vic = f.person(a, "Vic Vendor", "vic@example.com", roles=["vendor"])
    olga = f.person(a, "Olga Owner", "olga@example.com", roles=["owner"])
    other_owner = f.person(a, "Otto Owner", "otto@example.com", roles=["owner"])
    unit = f.unit(a)
    unit.owners.append(olga)
    other_unit = f.unit(a, name="2B")
    other_unit.owners.append(other_owner)
    order = done(submit_request(tom, unit, "repair", "Leaking tap", "The kitchen tap drips"), vic)

    class W:
        pass

    world = W()
    world.__dict__.update(agency=a, staff=staff, tenant=tom, vendor=vic, owner=olga, other_owner=other_owner,
                          unit=unit, other_unit=other_unit, order=order)
    world.number = iter(range(1, 1000))
    return world


def done(order, vendor):
    """The order assigned to `vendor` and completed: what an invoice needs."""
    order.vendor_id, order.status = vendor.id, WorkStatus.COMPLETED
    db.session.flush()
    return order


def new_invoice(w, lines=LINES, tax_rate="21", order=None):
    """A draft for `order`, or for a new completed order on the world's unit (one open invoice per order)."""
    order = order or done(submit_request(w.tenant, w.unit, "repair", "Another job", "Fix it"), w.vendor)
    return ops.create_invoice(order, w.vendor, number=f"V-{next(w.number)}", lines=lines, tax_rate=tax_rate)


# How to bring a fresh invoice to each status, with the real operations.
def _to(w, status: InvoiceStatus) -> Invoice:
    inv = new_invoice(w)
    if status == S.DRAFT:
        return inv
    ops.submit(inv)
    if status == S.SUBMITTED:
        return inv
    if status == S.AWAITING_OWNER_APPROVAL:
        ops.request_owner_approval(inv, w.staff)
    elif status == S.DENIED:
        ops.deny(inv, "Too expensive", staff=w.staff)
    else:
        ops.approve(inv, staff=w.staff)
        if status == S.PAID:
            ops.mark_paid(inv, w.staff, amount=inv.total, paid_on=date(2026, 1, 5), reference="TR-1")
    assert inv.status == status
    return inv


ACTIONS = {
    "edit": lambda w, inv: ops.update_draft(inv, number=inv.number, lines=LINES[:1], tax_rate="10"),
    "submit": lambda w, inv: ops.submit(inv),
    "request_owner_approval": lambda w, inv: ops.request_owner_approval(inv, w.staff),
    "approve_staff": lambda w, inv: ops.approve(inv, staff=w.staff),
    "approve_owner": lambda w, inv: ops.approve(inv, owner=w.owner),
    "deny_staff": lambda w, inv: ops.deny(inv, "Not agreed", staff=w.staff),
    "deny_owner": lambda w, inv: ops.deny(inv, "Not agreed", owner=w.owner),
    "approve_for_owner": lambda w, inv: ops.approve_for_owner(inv, w.staff, reason="Not agreed"),
    "deny_for_owner": lambda w, inv: ops.deny_for_owner(inv, w.staff, reason="Not agreed"),
    "mark_paid": lambda w, inv: ops.mark_paid(inv, w.staff, amount=inv.total, paid_on=date(2026, 1, 6),
                                              reference="TR-2"),
}
# (from, action) -> the status it leads to; every pair not listed is refused.
LEGAL = {
    (S.DRAFT, "edit"): S.DRAFT,
    (S.DRAFT, "submit"): S.SUBMITTED,
    (S.SUBMITTED, "request_owner_approval"): S.AWAITING_OWNER_APPROVAL,
    (S.SUBMITTED, "approve_staff"): S.APPROVED,
    (S.SUBMITTED, "deny_staff"): S.DENIED,
    (S.AWAITING_OWNER_APPROVAL, "approve_owner"): S.APPROVED,
    (S.AWAITING_OWNER_APPROVAL, "deny_owner"): S.DENIED,
    (S.AWAITING_OWNER_APPROVAL, "approve_for_owner"): S.APPROVED,
    (S.AWAITING_OWNER_APPROVAL, "deny_for_owner"): S.DENIED,
    (S.APPROVED, "mark_paid"): S.PAID,
}
CASES = [(start, action) for start in S for action in ACTIONS]


# Where the invoice's work order stands while the invoice is in each status.
ORDER_STATUS = {S.DRAFT: WorkStatus.COMPLETED, S.SUBMITTED: WorkStatus.INVOICED,
                S.AWAITING_OWNER_APPROVAL: WorkStatus.INVOICED, S.APPROVED: WorkStatus.INVOICED,
                S.DENIED: WorkStatus.COMPLETED, S.PAID: WorkStatus.CLOSED}
# Who takes each action, as the order's timeline records it.
ROLE = {"submit": "vendor", "approve_owner": "owner", "deny_owner": "owner"}


def _events(order) -> list[WorkOrderEvent]:
    return list(db.session.scalars(select(WorkOrderEvent).where(WorkOrderEvent.work_order_id == order.id)
                                   .order_by(WorkOrderEvent.id)))


def _snapshot(inv: Invoice) -> dict:
    columns = {attr.key: getattr(inv, attr.key) for attr in inspect(Invoice).column_attrs}
    return {**columns, "lines": [(line.description, line.quantity, line.unit_price) for line in inv.lines]}


@pytest.mark.parametrize(("start", "action"), CASES, ids=[f"{s.value}-{a}" for s, a in CASES])
def test_every_transition_is_legal_or_refused_with_a_reason(w, start, action):
    inv = _to(w, start)
    db.session.commit()
    before, order = _snapshot(inv), inv.work_order
    assert order.status == ORDER_STATUS[start]
    events = len(_events(order))
    expected = LEGAL.get((start, action))
    if expected is None:
        with pytest.raises(FieldError) as refused:
            ACTIONS[action](w, inv)
        assert "cannot be" in refused.value.message
        assert not db.session.dirty and not db.session.new and not db.session.deleted
        assert _snapshot(inv) == before
        assert order.status == ORDER_STATUS[start] and len(_events(order)) == events
        return
    ACTIONS[action](w, inv)
    db.session.commit()
    db.session.expire_all()
    assert inv.status == expected and inv.version == before["version"] + 1
    # The order follows the invoice, and its timeline says who took which step, from where, old -> new.
    assert order.status == ORDER_STATUS[expected]
    if action != "edit":
        last = _events(order)[-1]
        assert len(_events(order)) == events + 1
        assert (last.invoice_id, last.changes["invoice"]) == (inv.id, [start.value, expected.value])
        assert (last.actor_role, last.source) == (ROLE.get(action, "staff"),
                                                  "portal" if ROLE.get(action) else "back_office")
        assert (last.old_status, last.new_status) == (ORDER_STATUS[start].value, ORDER_STATUS[expected].value)
    if action.startswith(("approve", "deny")):
        assert inv.decided_at is not None
        who = (inv.decided_by_person_id, inv.decided_by_staff_id)
        assert who == ((w.owner.id, None) if action in ("approve_owner", "deny_owner") else (None, w.staff.id))
    if action.startswith("deny"):
        assert inv.denial_reason == "Not agreed"
    if action == "mark_paid":
        assert (inv.paid_amount, inv.paid_on, inv.payment_reference) == (inv.total, date(2026, 1, 6), "TR-2")


def test_the_table_covers_every_status_and_action():
    assert {s for s, _ in LEGAL} | {S.DENIED, S.PAID} == set(S)
    assert {a for _, a in LEGAL} == set(ACTIONS)
    # The operations' own table says the same as this one.
    for (start, action), _ in LEGAL.items():
        assert start in ops.TRANSITIONS[action]
    assert sum(len(v) for v in ops.TRANSITIONS.values()) == len(LEGAL)


def test_approving_twice_and_paying_twice_are_refused(w):
    inv = _to(w, S.AWAITING_OWNER_APPROVAL)
    ops.approve(inv, owner=w.owner)
    with pytest.raises(FieldError, match="already approved"):
        ops.approve(inv, owner=w.owner)
    ops.mark_paid(inv, w.staff, amount="169.40", paid_on=date(2026, 2, 1), reference="TR-9")
    with pytest.raises(FieldError, match="already paid"):
        ops.mark_paid(inv, w.staff, amount="169.40", paid_on=date(2026, 2, 1), reference="TR-9")
    assert inv.payment_reference == "TR-9" and inv.status == S.PAID


def test_of_two_decisions_at_once_the_second_is_refused(w):
    from sqlalchemy import update

    inv = _to(w, S.AWAITING_OWNER_APPROVAL)
    db.session.commit()
    assert inv.status == S.AWAITING_OWNER_APPROVAL  # read now, as a request would
    with db.engine().begin() as other_request:  # which meanwhile approved it and committed
        other_request.execute(update(Invoice.__table__).where(Invoice.__table__.c.id == inv.id)
                              .values(status="approved", version=inv.version + 1))
    with pytest.raises(FieldError, match="meanwhile"):
        ops.deny(inv, "No", owner=w.owner)
    db.session.rollback()
    db.session.expire_all()
    assert (inv.status, inv.denial_reason) == (S.APPROVED, None)


def test_only_an_owner_of_the_unit_decides_and_only_staff_pay(w):
    inv = _to(w, S.AWAITING_OWNER_APPROVAL)
    with pytest.raises(FieldError, match="owner of this unit"):
        ops.approve(inv, owner=w.other_owner)  # owns another unit
    with pytest.raises(FieldError, match="owner of this unit"):
        ops.deny(inv, "no", owner=w.tenant)
    with pytest.raises(FieldError, match="waits for the owner"):
        ops.approve(inv, staff=w.staff)  # staff cannot approve in the owner's place
    beta = f.agency("beta")
    beta_staff = f.staff(beta)
    db.scope(db.session, w.agency.id)
    inv2 = _to(w, S.SUBMITTED)
    with pytest.raises(FieldError, match="agency's staff"):
        ops.approve(inv2, staff=beta_staff)
    assert (inv.status, inv2.status) == (S.AWAITING_OWNER_APPROVAL, S.SUBMITTED)


def test_a_denial_needs_a_reason(w):
    inv = _to(w, S.SUBMITTED)
    for reason in ("", "   ", "x" * 1001):
        with pytest.raises(FieldError) as refused:
            ops.deny(inv, reason, staff=w.staff)
        assert refused.value.field == "reason"
    assert inv.status == S.SUBMITTED and inv.decided_at is None


def test_an_owner_approval_request_needs_an_owner(w):
    bare_unit = f.unit(w.agency, name="3C")
    lonely = done(submit_request(w.tenant, bare_unit, "repair", "Door", "Stuck"), w.vendor)
    inv = new_invoice(w, order=lonely)
    ops.submit(inv)
    with pytest.raises(FieldError, match="no owner"):
        ops.request_owner_approval(inv, w.staff)
    assert inv.status == S.SUBMITTED


# -- totals --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("currency", "lines", "rate", "amounts", "subtotal", "tax", "total"), [
    # 0.5 x 0.25 = 0.125: halves round up (a float, or banker's rounding, would give 0.12).
    ("EUR", [("0.5", "0.25")], "0", ["0.13"], "0.13", "0.00", "0.13"),
    # 21 % of 10.05 = 2.1105 -> 2.11; the tax is rounded once, on the subtotal.
    ("EUR", [("1", "10.05")], "21", ["10.05"], "10.05", "2.11", "12.16"),
    # 5 % of 0.50 = 0.025 -> 0.03; 0.1 + 0.2 is exactly 0.30 here.
    ("EUR", [("1", "0.10"), ("1", "0.20"), ("1", "0.20")], "5", ["0.10", "0.20", "0.20"], "0.50", "0.03", "0.53"),
    # Each line is rounded first: 3 x 3.333 hours at 10.00 = 33.33 each.
    ("EUR", [("3.333", "10.00"), ("3.333", "10.00")], "7.5", ["33.33", "33.33"], "66.66", "5.00", "71.66"),
    # Yen have no decimals: 10 % of 999 = 99.9 -> 100.
    ("JPY", [("3", "333")], "10", ["999"], "999", "100", "1099"),
    # Three places for Kuwaiti dinars: 2.5 x 1.333 = 3.3325 -> 3.333.
    ("KWD", [("2.5", "1.333")], "0", ["3.333"], "3.333", "0.000", "3.333"),
])
def test_totals_are_exact_decimals_rounded_to_the_currency(ctx, currency, lines, rate, amounts, subtotal, tax,
                                                            total):
    a = f.agency("cur", currency=currency)
    vic = f.person(a, "Vic", "vic@example.com", roles=["vendor"])
    unit = f.unit(a)
    order = done(submit_request(f.person(a, "T", "t@example.com"), unit, "repair", "Job", "Do it"), vic)
    inv = ops.create_invoice(order, vic, number="1", tax_rate=rate,
                             lines=[{"description": "Work", "quantity": q, "unit_price": p} for q, p in lines])
    db.session.commit()
    db.session.expire_all()
    inv = db.session.get(Invoice, inv.id)
    assert [line.amount for line in inv.lines] == [Decimal(x) for x in amounts]
    assert (inv.subtotal, inv.tax, inv.total) == (Decimal(subtotal), Decimal(tax), Decimal(total))
    assert inv.currency == currency and all(isinstance(v, Decimal) for v in (inv.subtotal, inv.tax, inv.total))


def test_a_draft_can_be_changed_and_its_totals_follow(w):
    inv = new_invoice(w)
    assert inv.total == Decimal("169.40")  # 140 + 21 %
    ops.update_draft(inv, number="V-final", tax_rate="10",
                     lines=[{"description": "Tap", "quantity": "2", "unit_price": "15.50"}])
    db.session.commit()
    assert (inv.number, inv.subtotal, inv.tax, inv.total) == ("V-final", Decimal("31.00"), Decimal("3.10"),
                                                             Decimal("34.10"))
    assert db.session.scalar(select(func.count(InvoiceLine.id))) == 1


# -- bad input -----------------------------------------------------------------------------------------


def _line(**kw):
    return [{"description": "Work", "quantity": "1", "unit_price": "10.00", **kw}]


@pytest.mark.parametrize(("kwargs", "field"), [
    ({"lines": []}, "lines"),
    ({"lines": None}, "lines"),
    ({"lines": _line(quantity="0")}, "lines-0-quantity"),
    ({"lines": _line(quantity="-1")}, "lines-0-quantity"),
    ({"lines": _line(quantity="two")}, "lines-0-quantity"),
    ({"lines": _line(quantity="NaN")}, "lines-0-quantity"),
    ({"lines": _line(quantity="Infinity")}, "lines-0-quantity"),
    ({"lines": _line(quantity="1e3")}, "lines-0-quantity"),
    ({"lines": _line(quantity=0.1)}, "lines-0-quantity"),  # a float is never an amount
    ({"lines": _line(quantity="1.00001")}, "lines-0-quantity"),
    ({"lines": _line(quantity=None)}, "lines-0-quantity"),
    ({"lines": _line(unit_price="0")}, "lines-0-unit_price"),
    ({"lines": _line(unit_price="-10")}, "lines-0-unit_price"),
    ({"lines": _line(unit_price="10,50")}, "lines-0-unit_price"),
    ({"lines": _line(unit_price="0.335")}, "lines-0-unit_price"),  # EUR has two places
    ({"lines": _line(unit_price="1000000000000")}, "lines-0-unit_price"),
    ({"lines": _line(unit_price=Decimal("NaN"))}, "lines-0-unit_price"),
    ({"lines": _line(description="  ")}, "lines-0-description"),
    ({"lines": [*_line(), *_line(quantity="0")]}, "lines-1-quantity"),
    ({"lines": _line() * 101}, "lines"),
    ({"tax_rate": "101"}, "tax_rate"),
    ({"tax_rate": "-1"}, "tax_rate"),
    ({"tax_rate": "abc"}, "tax_rate"),
    ({"number": "  "}, "number"),
    ({"number": "N" * 61}, "number"),
])
def test_bad_input_is_refused_and_no_invoice_is_made(w, kwargs, field):
    args = {"number": "V-1", "lines": _line(), "tax_rate": "21", **kwargs}
    with pytest.raises(FieldError) as refused:
        ops.create_invoice(w.order, w.vendor, **args)
    assert refused.value.field == field
    assert db.session.scalar(select(func.count(Invoice.id))) == 0
    assert db.session.scalar(select(func.count(InvoiceLine.id))) == 0


def test_only_the_assigned_vendor_invoices_and_numbers_are_unique_per_vendor(w):
    intruder = f.person(w.agency, "Ivy Vendor", "ivy@example.com", roles=["vendor"])
    with pytest.raises(FieldError, match="assigned"):
        ops.create_invoice(w.order, intruder, number="1", lines=LINES)
    ops.create_invoice(w.order, w.vendor, number="A-1", lines=LINES)
    second = done(submit_request(w.tenant, w.unit, "repair", "Second", "Job"), w.vendor)
    with pytest.raises(FieldError, match="already has an invoice"):
        ops.create_invoice(second, w.vendor, number="A-1", lines=LINES)
    second.status = WorkStatus.CANCELLED
    with pytest.raises(FieldError, match="cancelled"):
        ops.create_invoice(second, w.vendor, number="A-2", lines=LINES)
    assert db.session.scalar(select(func.count(Invoice.id))) == 1


def test_the_attachment_is_a_file_of_the_same_order(w):
    import io

    from portal.files.operations import add_file
    from tests.workorders.test_files import PDF

    pdf = add_file(w.order, io.BytesIO(PDF), "bill.pdf", person=w.vendor)
    inv = ops.create_invoice(w.order, w.vendor, number="P-1", lines=LINES, attachment=pdf)
    assert inv.attachment.sha256 == pdf.sha256
    other = done(submit_request(w.tenant, w.unit, "repair", "Other", "Job"), w.vendor)
    with pytest.raises(FieldError) as refused:
        ops.create_invoice(other, w.vendor, number="P-2", lines=LINES, attachment=pdf)
    assert refused.value.field == "attachment"


@pytest.mark.parametrize(("kwargs", "field"), [
    ({"amount": "169.39"}, "amount"),  # not the total
    ({"amount": "0"}, "amount"),
    ({"amount": "-169.40"}, "amount"),
    ({"amount": "lots"}, "amount"),
    ({"paid_on": None}, "paid_on"),
    ({"paid_on": "2026-01-01"}, "paid_on"),
    ({"paid_on": "future"}, "paid_on"),
    ({"reference": " "}, "reference"),
    ({"reference": "R" * 121}, "reference"),
])
def test_a_bad_payment_is_refused_and_the_invoice_stays_approved(w, kwargs, field):
    inv = _to(w, S.APPROVED)
    db.session.commit()
    before = _snapshot(inv)
    if kwargs.get("paid_on") == "future":
        kwargs = {"paid_on": agencies.get(w.agency.id).today() + timedelta(days=1)}
    args = {"amount": "169.40", "paid_on": date(2026, 1, 2), "reference": "TR-5", **kwargs}
    with pytest.raises(FieldError) as refused:
        ops.mark_paid(inv, w.staff, **args)
    assert refused.value.field == field
    assert _snapshot(inv) == before and not db.session.dirty


def test_a_payment_the_order_cannot_follow_writes_nothing(w):
    """The order's own check (it must be closable) comes before any field of the payment is set."""
    inv = _to(w, S.APPROVED)
    inv.work_order.status = WorkStatus.CANCELLED  # cancelled meanwhile: it cannot be closed
    db.session.commit()
    before = _snapshot(inv)
    with pytest.raises(FieldError) as refused:
        ops.mark_paid(inv, w.staff, amount="169.40", paid_on=date(2026, 1, 2), reference="TR-6")
    assert refused.value.field == "status" and "Close" in refused.value.message
    assert _snapshot(inv) == before and not db.session.dirty


# -- the owner-approval threshold ----------------------------------------------------------------------


def _submitted_with_total(w, total: str) -> Invoice:
    inv = new_invoice(w, lines=[{"description": "Work", "quantity": "1", "unit_price": total}], tax_rate="0")
    assert inv.total == Decimal(total)
    ops.submit(inv)
    return inv


@pytest.mark.parametrize(("settings", "own", "total", "status"), [
    ({}, {}, "99999.00", S.SUBMITTED),  # no threshold: only staff send an invoice to the owner
    ({"invoice_approval_threshold": "500"}, {}, "500.00", S.SUBMITTED),  # at the threshold: goes ahead
    ({"invoice_approval_threshold": "500"}, {}, "500.01", S.AWAITING_OWNER_APPROVAL),  # a cent above: waits
    ({"invoice_approval_threshold": "0"}, {}, "0.01", S.AWAITING_OWNER_APPROVAL),
    # The owner's own threshold replaces the agency's, lower or higher.
    ({"invoice_approval_threshold": "500"}, {"owner": "250"}, "250.01", S.AWAITING_OWNER_APPROVAL),
    ({"invoice_approval_threshold": "500"}, {"owner": "250"}, "250.00", S.SUBMITTED),
    ({"invoice_approval_threshold": "500"}, {"owner": "1000"}, "999.99", S.SUBMITTED),
    ({"invoice_approval_threshold": "500"}, {"owner": "1000"}, "1000.01", S.AWAITING_OWNER_APPROVAL),
    # Another owner's threshold is theirs alone.
    ({}, {"other_owner": "10"}, "600.00", S.SUBMITTED),
    ({"invoice_approval_threshold": "not a number"}, {}, "600.00", S.SUBMITTED),
])
def test_the_threshold_at_its_edge(w, settings, own, total, status):
    w.agency.settings = settings
    for who, amount in own.items():
        getattr(w, who).invoice_approval_threshold = Decimal(amount)
    db.session.flush()
    inv = _submitted_with_total(w, total)
    assert inv.status == status
    assert inv.needs_owner_approval is (status == S.AWAITING_OWNER_APPROVAL)


def test_with_two_owners_the_more_careful_threshold_counts(w):
    w.unit.owners.append(w.other_owner)
    w.agency.settings = {"invoice_approval_threshold": "500"}
    w.other_owner.invoice_approval_threshold = Decimal("100")
    inv = _submitted_with_total(w, "100.01")
    assert inv.status == S.AWAITING_OWNER_APPROVAL
    ops.approve(inv, owner=w.other_owner)  # either owner of the unit may decide
    assert inv.status == S.APPROVED and inv.decided_by_person_id == w.other_owner.id
    assert threshold_for(w.owner, w.agency.settings) == Decimal("500")


def test_staff_cannot_approve_what_has_come_to_need_the_owner(w):
    inv = _submitted_with_total(w, "300.00")
    w.agency.settings = {"invoice_approval_threshold": "200"}  # lowered after the invoice came in
    with pytest.raises(FieldError, match="owner's approval"):
        ops.approve(inv, staff=w.staff)
    assert inv.status == S.SUBMITTED
    ops.request_owner_approval(inv, w.staff)
    assert awaiting_owner(w.owner) == [inv] and awaiting_owner(w.other_owner) == []


# -- what the owner's statement reads -------------------------------------------------------------------


def test_expenses_are_the_approved_and_paid_invoices_per_owner_and_unit(w):
    paid = _to(w, S.PAID)
    approved = _to(w, S.APPROVED)
    for status in (S.DRAFT, S.SUBMITTED, S.AWAITING_OWNER_APPROVAL, S.DENIED):
        _to(w, status)
    # Another owner's unit, and another agency, add nothing to Olga's.
    order2 = done(submit_request(w.tenant, w.other_unit, "repair", "Paint", "Walls"), w.vendor)
    theirs = new_invoice(w, order=order2)
    ops.submit(theirs)
    ops.approve(theirs, staff=w.staff)
    beta = f.agency("beta")
    b_vendor = f.person(beta, "Vic Vendor", "vic@example.com", roles=["vendor"])
    b_unit = f.unit(beta)
    b_order = done(submit_request(f.person(beta, "T", "t@example.com"), b_unit, "repair", "X", "Y"), b_vendor)
    b_inv = ops.create_invoice(b_order, b_vendor, number="B-1", lines=LINES)
    ops.submit(b_inv)
    ops.approve(b_inv, staff=f.staff(beta))
    db.session.commit()
    db.scope(db.session, w.agency.id)

    mine = expenses(owner_id=w.owner.id)
    assert [(inv.id, unit_id) for inv, unit_id in mine] == [(paid.id, w.unit.id), (approved.id, w.unit.id)]
    assert sum(inv.total for inv, _ in mine) == Decimal("338.80")
    assert [inv.id for inv, _ in expenses(unit_id=order2.unit_id)] == [theirs.id]
    assert [inv.id for inv, _ in expenses(owner_id=w.other_owner.id)] == [theirs.id]
    assert {inv.id for inv, _ in expenses()} == {paid.id, approved.id, theirs.id}
    later = expenses(owner_id=w.owner.id, start=approved.decided_at)
    assert [inv.id for inv, _ in later] == [approved.id]
    assert expenses(owner_id=w.owner.id, end=paid.decided_at) == []
    assert {i.id for i in vendor_invoices(w.vendor)} >= {paid.id, approved.id}
    assert [i.status for i in vendor_invoices(w.vendor) if i.id == paid.id] == [S.PAID]


# -- the invoice and its work order ---------------------------------------------------------------------


@pytest.mark.parametrize("status", [s for s in WorkStatus if s != WorkStatus.COMPLETED], ids=str)
def test_only_a_completed_order_is_invoiced(w, status):
    order = done(submit_request(w.tenant, w.unit, "repair", "Early", "Not done yet"), w.vendor)
    order.status = status
    db.session.commit()
    events = len(_events(order))
    with pytest.raises(FieldError) as refused:
        new_invoice(w, order=order)
    assert refused.value.field == "work_order" and status.value.replace("-", " ") in refused.value.message
    assert db.session.scalar(select(func.count(Invoice.id))) == 0
    assert order.status == status and len(_events(order)) == events


def test_one_open_invoice_per_order_and_a_denied_one_is_replaced(w):
    first = new_invoice(w, order=w.order)
    with pytest.raises(FieldError, match=f"already has invoice {first.number}"):
        new_invoice(w, order=w.order)  # a second draft beside the first
    ops.submit(first)
    with pytest.raises(FieldError, match="work order can be invoiced"):
        new_invoice(w, order=w.order)  # the order is invoiced now
    ops.request_owner_approval(first, w.staff)
    ops.deny(first, "Too dear for a tap", owner=w.owner)
    assert w.order.status == WorkStatus.COMPLETED  # back to be invoiced again
    second = new_invoice(w, order=w.order, lines=LINES[:1])
    ops.submit(second)
    ops.approve(second, staff=w.staff)
    ops.mark_paid(second, w.staff, amount=second.total, paid_on=date(2026, 3, 1), reference="TR-77")
    db.session.commit()
    assert (w.order.status, first.status, second.status) == (WorkStatus.CLOSED, S.DENIED, S.PAID)
    steps = [(e.action, e.old_status, e.new_status, e.invoice_id, e.actor_role, (e.changes or {}).get("invoice"))
             for e in _events(w.order) if e.invoice_id]
    assert steps == [
        ("invoice_draft", "completed", "completed", first.id, "vendor", [None, "draft"]),
        ("invoice", "completed", "invoiced", first.id, "vendor", ["draft", "submitted"]),
        ("invoice_to_owner", "invoiced", "invoiced", first.id, "staff", ["submitted", "awaiting-owner-approval"]),
        ("invoice_denied", "invoiced", "completed", first.id, "owner", ["awaiting-owner-approval", "denied"]),
        ("invoice_draft", "completed", "completed", second.id, "vendor", [None, "draft"]),
        ("invoice", "completed", "invoiced", second.id, "vendor", ["draft", "submitted"]),
        ("invoice_approve", "invoiced", "invoiced", second.id, "staff", ["submitted", "approved"]),
        ("close", "invoiced", "closed", second.id, "staff", ["approved", "paid"]),
    ]
    denial, payment = _events(w.order)[-5], _events(w.order)[-1]
    assert denial.note == "Too dear for a tap" and "TR-77" in payment.note


def test_an_order_with_an_unpaid_invoice_is_not_closed(w):
    from portal.workorders import operations as orders

    staff = orders.Actor.staff(w.staff)
    draft = new_invoice(w, order=w.order)
    ops.submit(draft)
    for step in (lambda: None, lambda: ops.approve(draft, staff=w.staff)):
        step()
        with pytest.raises(FieldError, match=f"Invoice {draft.number} of this order is not paid"):
            orders.act(w.order, "close", staff, source="back_office")
        assert w.order.status == WorkStatus.INVOICED
    # No button moves an order to invoiced or back: only its invoice does.
    assert "invoice" not in orders.STAFF_ACTIONS and "invoice_denied" not in orders.STAFF_ACTIONS
    # A completed order whose vendor only has a draft may be closed (nothing was sent).
    other = done(submit_request(w.tenant, w.unit, "repair", "Small", "Job"), w.vendor)
    late = new_invoice(w, order=other)
    orders.act(other, "close", staff, source="back_office")
    with pytest.raises(FieldError, match="closed"):
        ops.submit(late)
    assert (other.status, late.status) == (WorkStatus.CLOSED, S.DRAFT)


def test_staff_enter_a_paper_invoice_for_the_vendor(w):
    inv = ops.create_invoice(w.order, w.vendor, number="PAPER-1", lines=LINES, by=w.staff)
    ops.submit(inv, by=w.staff)
    beta_staff = f.staff(f.agency("beta"))
    db.scope(db.session, w.agency.id)
    with pytest.raises(FieldError, match="agency's staff"):
        ops.create_invoice(w.order, w.vendor, number="PAPER-2", lines=LINES, by=beta_staff)
    db.session.commit()
    assert (inv.status, inv.vendor_id, w.order.status) == (S.SUBMITTED, w.vendor.id, WorkStatus.INVOICED)
    entered = [(e.action, e.actor_role, e.staff_user_id, e.source) for e in _events(w.order) if e.invoice_id]
    assert entered == [("invoice_draft", "staff", w.staff.id, "back_office"),
                       ("invoice", "staff", w.staff.id, "back_office")]


@pytest.mark.parametrize("decide", [ops.approve_for_owner, ops.deny_for_owner])
def test_deciding_for_the_owner_needs_the_owners_word(w, decide):
    inv = _to(w, S.AWAITING_OWNER_APPROVAL)
    db.session.commit()
    before = _snapshot(inv)
    for reason in ("", "  ", "x" * 1001):
        with pytest.raises(FieldError) as refused:
            decide(inv, w.staff, reason=reason)
        assert refused.value.field == "reason"
    assert _snapshot(inv) == before and inv.work_order.status == WorkStatus.INVOICED
    decide(inv, w.staff, reason="Olga said so by phone")
    assert _events(inv.work_order)[-1].note == "For the owner: Olga said so by phone"
