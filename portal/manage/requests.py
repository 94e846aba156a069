"""The back office's Requests list: what tenants and guests asked for from their portals."""

from __future__ import annotations

from flask import render_template, request
from sqlalchemy import select

from portal import db
from portal.manage import bp
from portal.manage.crud import Filter, paginate, requested_page
from portal.people.models import Person
from portal.properties.models import Property, Unit
from portal.workorders.models import WorkOrder, WorkStatus
from portal.workorders.queries import requests_query


def _status_choices() -> list[tuple[str, str]]:
    return [(s.value, s.value.replace("-", " ").capitalize()) for s in WorkStatus]


def _property_choices() -> list[tuple[str, str]]:
    return [(str(i), n) for i, n in db.session.execute(select(Property.id, Property.name).order_by(Property.name))]


def _requester_choices() -> list[tuple[str, str]]:
    rows = db.session.execute(
        select(Person.id, Person.name).where(Person.id.in_(select(WorkOrder.requester_id))).order_by(Person.name)
    )
    return [(str(i), n) for i, n in rows]


FILTERS = [
    Filter("status", "Status", lambda s, v: s.where(WorkOrder.status == WorkStatus(v)), choices=_status_choices),
    Filter("property", "Property",
           lambda s, v: s.where(WorkOrder.unit_id.in_(select(Unit.id).where(Unit.property_id == int(v)))),
           choices=_property_choices),
    Filter("person", "Sent by", lambda s, v: s.where(WorkOrder.requester_id == int(v)), choices=_requester_choices),
]


@bp.get("/requests")
def requests_list():
    """Work and cleaning requests from the portals, filtered by status, property and person."""
    stmt, active = requests_query(), {}
    for f in FILTERS:
        value = f.parse(request.args.get(f.name, ""))
        if value is not None:
            stmt, active[f.name] = f.apply(stmt, value), value
    page = paginate(stmt, requested_page(), _page_size())
    return render_template("manage/requests.html", page=page, filters=FILTERS, active=active)


def _page_size() -> int:
    from flask import current_app

    return current_app.config["PAGE_SIZE"]
