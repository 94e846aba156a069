"""Every /api/v1 resource's blueprint, in the order the OpenAPI document lists them (add yours here)."""

from portal.api import documents, integrations, links, messages, units, workorders

BLUEPRINTS = [
    units.blp,
    workorders.blp,
    documents.blp,
    messages.blp,
    integrations.blp,
    links.blp,
]
