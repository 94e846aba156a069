"""The integrations' writes refuse what no caller should pass through: a blank name."""

from __future__ import annotations

import pytest

from portal.integrations import operations
from portal.operations import FieldError
from tests import factories as f


@pytest.mark.parametrize("name", ["", "   ", None])
def test_an_integration_needs_a_name(ctx, name):
    a = f.agency("alpha")
    with pytest.raises(FieldError) as refused:
        operations.save_integration(None, a.id, {"name": name, "kind": "ical", "interval_minutes": 60,
                                                 "when_missing": "cancel"})
    assert refused.value.field == "name"
