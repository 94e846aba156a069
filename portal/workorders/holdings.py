"""Whose work orders and invoices are whose, for the authorization engine (portal.access): a vendor's
are those assigned to them, an owner's those on the units they own. A2/A3 settings then apply as
they do to documents (an order hidden from one owner, a vendor's capability switched off)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, and_, exists, select

from portal import access, db
from portal.people.models import Person
from portal.properties.models import unit_owners
from portal.workorders.models import WorkStatus

NOT_YET_OFFERED = (WorkStatus.SUBMITTED, WorkStatus.AWAITING_OWNER_APPROVAL)


def _owns_unit(person: Person, unit_id: int) -> bool:
    return bool(db.session.scalar(select(exists().where(
        unit_owners.c.unit_id == unit_id, unit_owners.c.person_id == person.id))))


def _order_of(item: object) -> object:
    return getattr(item, "work_order", item)  # an invoice's order, or the order itself


def _owner_sql(person: Person, model: type) -> ColumnElement[bool]:
    from portal.workorders.models import WorkOrder

    owns = exists().where(unit_owners.c.unit_id == WorkOrder.unit_id, unit_owners.c.person_id == person.id)
    return owns if model is WorkOrder else owns.where(WorkOrder.id == model.work_order_id)


def _vendor_sql(person: Person, model: type) -> ColumnElement[bool]:
    return model.vendor_id == person.id


def _offered_order_sql(person: Person, model: type) -> ColumnElement[bool]:
    from portal.workorders.models import WorkOrder

    return and_(WorkOrder.vendor_id == person.id, WorkOrder.status.not_in(NOT_YET_OFFERED))


def _offered(person: Person, order: Any) -> bool:
    return order.vendor_id == person.id and order.status not in NOT_YET_OFFERED


for _name in ("owner.workorders.approve", "owner.invoices.approve"):
    access.holding(_name, lambda person, item: _owns_unit(person, _order_of(item).unit_id), _owner_sql)
# A vendor sees an order once it is offered to them: not while the owner has still to approve the work
# (its access notes and the tenant's details are not theirs yet).
access.holding("vendor.workorders.accept", _offered, _offered_order_sql)
access.holding("vendor.invoices.view", lambda person, item: item.vendor_id == person.id, _vendor_sql)
