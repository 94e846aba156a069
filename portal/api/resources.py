"""Every /api/v1 resource's blueprint, in the order the OpenAPI document lists them (add yours here)."""

from portal.api import units

BLUEPRINTS = [
    units.blp,
]
