"""The lease-or-booking helper that violation notices and insurance quotes share (portal.bookings.occupancy):
the picker's choices and preselection, the parsed value, the operations' lookup (scoped to the agency)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from portal import db
from portal.bookings import occupancy
from portal.bookings.models import BookingStatus
from portal.fields import Form, SelectField
from portal.operations import FieldError
from tests import factories as f


class Picker(Form):
    occupancy = SelectField("Lease or booking", choices=[])


@pytest.fixture
def homes(ctx):
    a = f.agency("alpha")
    lease = f.lease(a, f.unit(a, f.prop(a, "Seafront"), "1A"))
    booking = f.booking(a, f.unit(a, f.prop(a, "Hillside"), "2B"))
    old = f.booking(a, f.unit(a, f.prop(a, "Hillside"), "2C"), arrival=date.today() - timedelta(days=40))
    b = f.agency("beta")
    theirs = f.lease(b, f.unit(b))
    db.scope(db.session, a.id)
    return {"agency": a.id, "lease": lease, "booking": booking, "old": old, "theirs": theirs}


def test_parse_names_a_lease_or_a_booking_and_nothing_else():
    assert occupancy.parse("lease:3") == {"lease_id": 3, "booking_id": None}
    assert occupancy.parse("booking:12") == {"lease_id": None, "booking_id": 12}
    for bad in (None, "", "lease:", "lease:x", "flat:3", "lease:1234567890", "booking:٣"):
        assert occupancy.parse(bad) == {"lease_id": None, "booking_id": None}, bad


def test_the_picker_offers_the_agencys_current_leases_and_bookings_and_preselects_only_those(app, homes):
    with app.test_request_context():
        form = Picker(formdata=None)
        occupancy.offer(form.occupancy, homes["agency"], {"booking_id": str(homes["booking"].id)})
        values = [c.value for c in form.occupancy.choices]
        assert values == ["", f"lease:{homes['lease'].id}", f"booking:{homes['booking'].id}"]  # not the old stay
        assert form.occupancy.data == f"booking:{homes['booking'].id}"
        for named in ({"lease_id": str(homes["theirs"].id)}, {"booking_id": str(homes["old"].id)}):
            occupancy.offer(form.occupancy, homes["agency"], named)
            assert form.occupancy.data == ""  # another agency's, or no longer offered: nothing preselected


def test_find_returns_exactly_one_of_the_agencys_and_refuses_the_rest(homes):
    assert occupancy.find(homes["lease"].id, None) is homes["lease"]
    assert occupancy.find(None, str(homes["booking"].id)) is homes["booking"]
    with pytest.raises(FieldError, match="Choose either a lease or a booking"):
        occupancy.find(homes["lease"].id, homes["booking"].id)
    with pytest.raises(FieldError, match="That lease or booking was not found") as other:
        occupancy.find(homes["theirs"].id, None)
    assert occupancy.on_picker(other.value).field == occupancy.PICKER
    homes["booking"].status = BookingStatus.CANCELLED
    with pytest.raises(FieldError, match="This booking is cancelled"):
        occupancy.find(None, homes["booking"].id)
