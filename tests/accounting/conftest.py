"""The accounting tests' world: an agency in Madrid with fees, an owner of one unit, a tenant on a lease, a vendor."""

import pytest

from portal import db
from portal.accounting import operations as acc
from tests import factories as f


class World:
    pass


@pytest.fixture
def w(ctx):
    a = f.agency("alpha", timezone="Europe/Madrid")
    a.settings = {"partial_payments": True, acc.FEE_PERCENT: "10", acc.FEE_FIXED: "25.00"}
    world = World()
    world.agency = a
    world.staff = f.staff(a)
    world.owner = f.person(a, "Olga Owner", "olga@example.com", roles=["owner"])
    world.tenant = f.person(a, "Tom Tenant", "tom@example.com", roles=["tenant"])
    world.vendor = f.person(a, "Vic Vendor", "vic@example.com", roles=["vendor"])
    world.unit = f.unit(a, name="1A")
    world.unit.owners.append(world.owner)
    world.lease = f.lease(a, world.unit, world.tenant)
    db.session.flush()
    world.numbers = iter(range(1, 1000))
    return world
