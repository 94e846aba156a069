"""A4 approval gates: a work order waits for the owner's approval (per order, or automatically
above an amount) and/or the vendor's acceptance, while others proceed."""

from decimal import Decimal

import pytest

from portal import access, db
from portal.operations import FieldError
from portal.workorders.models import WorkStatus
from portal.workorders.operations import apply_gates, decide, submit_request
from tests import factories as f


@pytest.fixture
def orders(ctx):
    a = f.agency("alpha")
    a.settings = {"owner_approval_above": "500"}
    tom = f.person(a, "Tom Tenant", "tom@example.com", roles=["tenant"])
    unit = f.unit(a)
    small = submit_request(tom, unit, "repair", "Tap", "Drips")
    big = submit_request(tom, unit, "repair", "Boiler", "Replace it")
    small.estimate, big.estimate = Decimal("120.00"), Decimal("1800.00")
    return small, big


def test_owner_approval_is_automatic_above_the_agency_amount(orders):
    small, big = orders
    apply_gates(small)
    apply_gates(big)
    assert access.gate(small).allowed and small.status == WorkStatus.ACKNOWLEDGED  # others proceed
    decision = access.gate(big)
    assert (decision.allowed, decision.layer) == (False, "approval")
    assert decision.reason == "waiting for owner approval"
    assert big.status == WorkStatus.AWAITING_OWNER_APPROVAL
    decide(big, "owner", "approved")
    assert access.gate(big).allowed and big.status == WorkStatus.ACKNOWLEDGED


def test_per_order_gates_in_order_and_refusals(orders):
    small, _big = orders
    apply_gates(small, owner_approval=True, vendor_acceptance=True)
    assert access.gate(small).reason == "waiting for owner approval and vendor acceptance"
    decide(small, "owner", "approved")
    assert small.status == WorkStatus.AWAITING_VENDOR_ACCEPTANCE
    with pytest.raises(FieldError):
        decide(small, "owner", "approved")  # already decided
    with pytest.raises(FieldError):
        decide(small, "vendor", "maybe")
    decide(small, "vendor", "declined")
    assert small.status == WorkStatus.ACKNOWLEDGED and small.pending_gates == []
    db.session.rollback()


def test_a_denied_order_is_cancelled(orders):
    _small, big = orders
    apply_gates(big)
    decide(big, "owner", "denied")
    assert big.status == WorkStatus.CANCELLED
