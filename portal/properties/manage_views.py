"""Back-office pages for properties and units: list, detail, new and edit."""

from __future__ import annotations

from portal import tags
from portal.bookings.queries import bookings_of_unit, leases_of_unit
from portal.fields import options
from portal.integrations.queries import export_of_unit
from portal.manage import bp
from portal.manage.crud import Column, Filter, Resource
from portal.people.queries import people_choices
from portal.properties.forms import PropertyForm, UnitForm
from portal.properties.models import Property, Unit
from portal.properties.operations import save_property, save_unit
from portal.properties.queries import property_choices
from portal.types import ID

properties = Resource(
    name="properties",
    singular="property",
    model=Property,
    form_class=PropertyForm,
    save=save_property,
    columns=[
        Column("Name", lambda p: p.name, link=True),
        Column("City", lambda p: p.city),
        Column("Address", lambda p: p.address),
        Column("Units", lambda p: len(p.units)),
    ],
    search=[Property.name, Property.city, Property.address, Property.external_id],
    order_by=[Property.name],
    form_data=lambda p: {"name": p.name, "address": p.address, "city": p.city, "external_id": p.external_id},
)
bp.add_url_rule("/properties", "properties_list", properties.list_view)
bp.add_url_rule("/properties/new", "properties_new", properties.form_view, methods=["GET", "POST"])
bp.add_url_rule(f"/properties/<{ID}:obj_id>", "properties_detail", properties.detail_view)
bp.add_url_rule(f"/properties/<{ID}:obj_id>/edit", "properties_edit", properties.form_view, methods=["GET", "POST"])


def _prepare_unit_form(form: UnitForm) -> None:
    form.property_id.choices = options(property_choices())
    form.owner_ids.choices = options(people_choices())


units = Resource(
    name="units",
    singular="unit",
    model=Unit,
    form_class=UnitForm,
    save=save_unit,
    columns=[
        Column("Unit", lambda u: u.name, link=True),
        Column("Property", lambda u: u.property.name),
        Column("Bedrooms", lambda u: u.bedrooms),
        Column("Capacity", lambda u: u.capacity),
        Column("Owners", lambda u: ", ".join(o.name for o in u.owners)),
        Column("Tags", lambda u: tags.render(u.tags)),
    ],
    search=[Unit.name, Unit.external_id, Property.name],
    search_joins=[Unit.property],
    filters=[
        Filter("property", "Property", lambda s, v: s.where(Unit.property_id == int(v)),
               choices=lambda: [(str(i), n) for i, n in property_choices()]),
        Filter("tag", "Tag", lambda s, v: s.where(Unit.tags.any(tags.Tag.name == v)), choices=tags.choices),
    ],
    order_by=[Unit.property_id, Unit.name],
    prepare_form=_prepare_unit_form,
    form_data=lambda u: {
        "property_id": u.property_id, "name": u.name, "bedrooms": u.bedrooms,
        "capacity": u.capacity, "external_id": u.external_id,
        "owner_ids": [o.id for o in u.owners], "access_code": u.access_code, "wifi_name": u.wifi_name,
        "wifi_password": u.wifi_password, "tags": tags.render(u.tags),
        "accepting_applications": u.accepting_applications,
    },
    related=lambda u: {"bookings": bookings_of_unit(u.id), "leases": leases_of_unit(u.id),
                       "calendar_export": export_of_unit(u.id)},
)
bp.add_url_rule("/units", "units_list", units.list_view)
bp.add_url_rule("/units/new", "units_new", units.form_view, methods=["GET", "POST"])
bp.add_url_rule(f"/units/<{ID}:obj_id>", "units_detail", units.detail_view)
bp.add_url_rule(f"/units/<{ID}:obj_id>/edit", "units_edit", units.form_view, methods=["GET", "POST"])
