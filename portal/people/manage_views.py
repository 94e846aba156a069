"""Back-office pages for people: list, detail, new and edit, and sending a sign-in link."""

from __future__ import annotations

from portal import tags
from portal.bookings.queries import bookings_of_guest, leases_of_tenant
from portal.fields import enum_choices
from portal.links.manage_views import send_link_back
from portal.links.queries import links_to
from portal.manage import bp
from portal.manage.crud import Column, Filter, Resource
from portal.messages.queries import messages_to
from portal.money.queries import charges_of_person
from portal.people.forms import PersonForm
from portal.people.models import Person, PortalAccount, PortalRole
from portal.people.operations import save_person
from portal.properties.queries import units_owned_by
from portal.types import ID
from portal.workorders.queries import requests_about

people = Resource(
    name="people",
    singular="person",
    model=Person,
    form_class=PersonForm,
    save=save_person,
    columns=[
        Column("Name", lambda p: p.name, link=True),
        Column("E-mail", lambda p: p.email),
        Column("Phone", lambda p: p.phone),
        Column("Portals", lambda p: ", ".join(r.value for r in p.roles)),
        Column("Tags", lambda p: tags.render(p.tags)),
    ],
    search=[Person.name, Person.email, Person.phone],
    filters=[
        Filter("role", "Portal", lambda s, v: s.where(Person.accounts.any(PortalAccount.role == PortalRole(v))),
               choices=lambda: enum_choices(PortalRole)),
        Filter("tag", "Tag", lambda s, v: s.where(Person.tags.any(tags.Tag.name == v)), choices=tags.choices),
    ],
    order_by=[Person.name],
    form_data=lambda p: {
        "name": p.name, "email": p.email, "phone": p.phone, "language": p.language or "",
        "notes": p.notes, "roles": [r.value for r in p.roles], "tags": tags.render(p.tags),
        "approval_threshold": p.approval_threshold, "invoice_approval_threshold": p.invoice_approval_threshold,
        "fee_percent": p.fee_percent, "fee_fixed": p.fee_fixed,
    },
    related=lambda p: {
        "bookings": bookings_of_guest(p.id),
        "leases": leases_of_tenant(p.id),
        "owned_units": units_owned_by(p.id),
        "messages": messages_to(p.id),
        "links": links_to(p.id),
        "charges": charges_of_person(p.id),
        "requests": requests_about(person_id=p.id),
    },
)
bp.add_url_rule("/people", "people_list", people.list_view)
bp.add_url_rule("/people/new", "people_new", people.form_view, methods=["GET", "POST"])
bp.add_url_rule(f"/people/<{ID}:obj_id>", "people_detail", people.detail_view)
bp.add_url_rule(f"/people/<{ID}:obj_id>/edit", "people_edit", people.form_view, methods=["GET", "POST"])


@bp.post(f"/people/<{ID}:obj_id>/send-link")
def people_send_link(obj_id: int):
    """E-mail a sign-in link."""
    person = people.get(obj_id)
    return send_link_back(people, person, person, "login", "Sign-in link")
