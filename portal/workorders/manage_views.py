"""The back office's Requests list: what tenants and guests asked for from their portals."""

from __future__ import annotations

from flask import render_template
from sqlalchemy import select

from portal.fields import enum_choices
from portal.manage import bp
from portal.manage.crud import Filter, apply_filters
from portal.pages import page_size, paginate, requested_page
from portal.properties.models import Unit
from portal.properties.queries import property_choices
from portal.workorders.models import WorkOrder, WorkStatus
from portal.workorders.queries import requester_choices, requests_query

FILTERS = [
    Filter("status", "Status", lambda s, v: s.where(WorkOrder.status == WorkStatus(v)),
           choices=lambda: enum_choices(WorkStatus)),
    Filter("property", "Property",
           lambda s, v: s.where(WorkOrder.unit_id.in_(select(Unit.id).where(Unit.property_id == int(v)))),
           choices=lambda: [(str(i), n) for i, n in property_choices()]),
    Filter("person", "Sent by", lambda s, v: s.where(WorkOrder.requester_id == int(v)),
           choices=lambda: [(str(i), n) for i, n in requester_choices()]),
]


@bp.get("/requests")
def requests_list():
    """Work and cleaning requests from the portals, filtered by status, property and person."""
    stmt, active = apply_filters(requests_query(), FILTERS)
    page = paginate(stmt, requested_page(), page_size())
    return render_template("manage/requests.html", page=page, filters=FILTERS, active=active)
