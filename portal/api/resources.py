"""Every /api/v1 resource's blueprint, in the order the OpenAPI document lists them (add yours here)."""

from portal.api import bookings, documents, integrations, links, messages, money, people, units, workorders

BLUEPRINTS = [
    units.blp,
    people.blp,
    bookings.blp,
    money.leases_blp,
    money.charges_blp,
    money.payments_blp,
    workorders.blp,
    documents.blp,
    messages.blp,
    integrations.blp,
    links.blp,
]
