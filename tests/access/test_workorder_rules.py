"""Work orders and invoices in the authorization engine: an owner's are those on their units, a vendor's
those assigned to them; A2 switches a capability off for one person, A3 hides one order or invoice
from one owner (or shows it), and the SQL list filter agrees with can() item by item."""

import itertools

import pytest
from sqlalchemy import select

from portal import access, db
from portal.access.models import ItemEffect, ItemRule, OverrideEffect, PersonOverride
from portal.files.queries import may_see_order
from portal.invoices import operations as invoices
from portal.invoices.queries import awaiting_owner, vendor_invoices
from portal.people.models import PortalRole
from portal.workorders.models import WorkOrder, WorkStatus
from portal.workorders.operations import submit_request
from portal.workorders.queries import portal_orders
from tests import factories as f

OWNER, VENDOR = PortalRole.OWNER, PortalRole.VENDOR


@pytest.fixture
def w(ctx):
    a = f.agency("alpha")
    tom = f.person(a, "Tom Tenant", "tom@example.com", roles=["tenant"])
    vic = f.person(a, "Vic Vendor", "vic@example.com", roles=["vendor"])
    val = f.person(a, "Val Vendor", "val@example.com", roles=["vendor"])
    olga = f.person(a, "Olga Owner", "olga@example.com", roles=["owner"])
    otto = f.person(a, "Otto Owner", "otto@example.com", roles=["owner"])
    mine, theirs = f.unit(a, name="1A"), f.unit(a, name="2B")
    mine.owners.append(olga)
    theirs.owners.append(otto)
    orders = []
    for unit, vendor in ((mine, vic), (mine, val), (theirs, vic)):
        order = submit_request(tom, unit, "repair", f"Tap in {unit.name}", "It drips")
        order.vendor_id, order.status = vendor.id, WorkStatus.TRIAGED  # offered to the vendor
        orders.append(order)
    db.session.flush()
    return {"agency": a, "tenant": tom, "vic": vic, "val": val, "olga": olga, "otto": otto, "orders": orders}


def _listed(person, role):
    return [o.id for o in db.session.scalars(portal_orders(person, role))]


def test_an_owner_sees_the_orders_of_their_units_and_a_vendor_those_assigned_to_them(w):
    mine1, mine2, theirs = w["orders"]
    assert sorted(_listed(w["olga"], OWNER)) == sorted([mine1.id, mine2.id])
    assert _listed(w["otto"], OWNER) == [theirs.id]
    assert sorted(_listed(w["vic"], VENDOR)) == sorted([mine1.id, theirs.id])
    assert _listed(w["val"], VENDOR) == [mine2.id]
    assert access.can(w["vic"], VENDOR, "vendor.workorders.accept", mine1)
    refused = access.can(w["val"], VENDOR, "vendor.workorders.accept", mine1)
    assert not refused and refused.layer == "owner"
    # A role the person does not have sees nothing, whatever the order.
    assert _listed(w["vic"], OWNER) == [] and not access.can(w["vic"], OWNER, "owner.workorders.approve", mine1)


def test_an_order_hidden_from_one_owner_and_a_switched_off_vendor(w):
    a, (mine1, mine2, theirs) = w["agency"], w["orders"]
    db.session.add(ItemRule(agency_id=a.id, capability="owner.workorders.approve", item_type="WorkOrder",
                            item_id=mine1.id, person_id=w["olga"].id, effect=ItemEffect.EXCLUDE))
    db.session.add(PersonOverride(agency_id=a.id, person_id=w["vic"].id, capability="vendor.workorders.accept",
                                  effect=OverrideEffect.REVOKE))
    db.session.flush()
    assert _listed(w["olga"], OWNER) == [mine2.id]
    decision = access.can(w["olga"], OWNER, "owner.workorders.approve", mine1)
    assert not decision and decision.layer == "A3"
    assert _listed(w["vic"], VENDOR) == [] and not may_see_order(theirs, person=w["vic"])
    assert not may_see_order(mine1, person=w["olga"]) and may_see_order(mine2, person=w["olga"])
    # The requester still sees their own request.
    assert may_see_order(mine1, person=w["tenant"])


def test_an_include_rule_shows_an_order_to_another_owner(w):
    a, (_, _, theirs) = w["agency"], w["orders"]
    db.session.add(ItemRule(agency_id=a.id, capability="owner.workorders.approve", item_type="WorkOrder",
                            item_id=theirs.id, person_id=None, effect=ItemEffect.INCLUDE))
    db.session.flush()
    assert theirs.id in _listed(w["olga"], OWNER)
    assert access.can(w["olga"], OWNER, "owner.workorders.approve", theirs).layer == "A3"


def _invoice(w, order, vendor):
    order.status = WorkStatus.COMPLETED  # done: an invoice is made only for a completed order
    db.session.flush()
    inv = invoices.create_invoice(order, vendor, number=f"V-{order.id}", tax_rate="0",
                                  lines=[{"description": "Tap", "quantity": "1", "unit_price": "600"}])
    invoices.submit(inv)
    return inv


def test_invoices_follow_their_orders_owner_and_their_vendor(w):
    a, (mine1, mine2, theirs) = w["agency"], w["orders"]
    inv1, inv2, inv3 = _invoice(w, mine1, w["vic"]), _invoice(w, mine2, w["val"]), _invoice(w, theirs, w["vic"])
    for inv in (inv1, inv2, inv3):
        inv.status = "awaiting-owner-approval"
    db.session.flush()
    assert [i.id for i in awaiting_owner(w["olga"])] == [inv1.id, inv2.id]
    assert [i.id for i in awaiting_owner(w["otto"])] == [inv3.id]
    assert sorted(i.id for i in vendor_invoices(w["vic"])) == sorted([inv1.id, inv3.id])
    db.session.add(ItemRule(agency_id=a.id, capability="owner.invoices.approve", item_type="Invoice",
                            item_id=inv2.id, person_id=w["olga"].id, effect=ItemEffect.EXCLUDE))
    db.session.add(PersonOverride(agency_id=a.id, person_id=w["val"].id, capability="vendor.invoices.view",
                                  effect=OverrideEffect.REVOKE))
    db.session.flush()
    assert [i.id for i in awaiting_owner(w["olga"])] == [inv1.id]
    assert vendor_invoices(w["val"]) == []
    assert not access.can(w["olga"], OWNER, "owner.invoices.approve", inv2)
    assert access.can(w["olga"], OWNER, "owner.invoices.approve", inv1)


@pytest.mark.parametrize(("name", "role", "model"), [
    ("owner.workorders.approve", OWNER, WorkOrder), ("vendor.workorders.accept", VENDOR, WorkOrder),
])
def test_the_list_filter_agrees_with_can_for_every_rule_combination(w, name, role, model):
    a, orders = w["agency"], w["orders"]
    viewers = [w["olga"], w["otto"]] if role == OWNER else [w["vic"], w["val"]]
    effects = (None, ItemEffect.INCLUDE, ItemEffect.EXCLUDE)
    for viewer, (person_rule, everyone_rule) in itertools.product(viewers, itertools.product(effects, effects)):
        db.session.execute(ItemRule.__table__.delete())
        for order in orders[:2]:
            for who, effect in ((viewer.id, person_rule), (None, everyone_rule)):
                if effect is not None:
                    db.session.add(ItemRule(agency_id=a.id, capability=name, item_type="WorkOrder",
                                            item_id=order.id, person_id=who, effect=effect))
        db.session.flush()
        listed = set(db.session.scalars(select(model.id).where(access.visible(viewer, role, name, model))))
        assert listed == {o.id for o in orders if access.can(viewer, role, name, o)}, (viewer.name, person_rule,
                                                                                         everyone_rule)


def test_the_back_office_offers_the_order_and_invoice_settings():
    offered = {c.name for c in access.offered()}
    assert {"owner.workorders.approve", "owner.invoices.approve", "vendor.workorders.accept",
            "vendor.invoices.view"} <= offered
    assert access.CAPABILITIES["owner.workorders.approve"].items == "WorkOrder"
    assert access.CAPABILITIES["vendor.invoices.view"].items == "Invoice"


def test_a_vendor_sees_an_order_only_once_the_owner_need_not_or_did_approve_it(w):
    from portal.workorders import operations as ops

    mine1 = w["orders"][0]
    mine1.status = WorkStatus.SUBMITTED
    ops.triage(mine1, ops.SYSTEM, requires_owner_approval=True, vendor_id=w["vic"].id)
    assert mine1.status.value == "awaiting-owner-approval"
    assert mine1.id not in _listed(w["vic"], VENDOR)
    assert not access.can(w["vic"], VENDOR, "vendor.workorders.accept", mine1)
    assert not may_see_order(mine1, person=w["vic"])
    ops.approve(mine1, ops.Actor.as_person(w["olga"], "owner"), source="portal")
    assert mine1.id in _listed(w["vic"], VENDOR) and access.can(w["vic"], VENDOR, "vendor.workorders.accept", mine1)
