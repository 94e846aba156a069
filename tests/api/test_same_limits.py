"""One limit per thing wherever it is entered: a unit's capacity and bedrooms (unit form, API, CSV) and an
integration's interval (back-office form, API)."""

from __future__ import annotations

from portal.integrations import csvimport
from portal.integrations.models import INTERVAL_MINUTES
from portal.integrations.stays import BadRecord, Located
from portal.properties.models import BEDROOMS, CAPACITY


def _units_csv(bedrooms: int, capacity: int) -> bytes:
    return f"external_id,name,property,bedrooms,capacity\nV-1,Villa,Costa,{bedrooms},{capacity}\n".encode()


def _line(bedrooms: int, capacity: int):
    [line] = csvimport.read(_units_csv(bedrooms, capacity), "units").lines
    return csvimport._unit(*line)


def test_a_csv_unit_has_the_apis_limits(app):
    with app.app_context():
        assert isinstance(_line(BEDROOMS[1], CAPACITY[1]), Located)
        too_many, too_big = _line(BEDROOMS[1], CAPACITY[1] + 1), _line(BEDROOMS[1] + 1, CAPACITY[1])
    assert isinstance(too_many, BadRecord) and "capacity" in too_many.message
    assert isinstance(too_big, BadRecord) and "bedrooms" in too_big.message


def test_the_api_takes_the_back_offices_interval(api):
    longest = api.post("/api/v1/integrations", json={"name": "Daily", "kind": "ical",
                                                     "interval_minutes": INTERVAL_MINUTES[1]})
    assert longest.status_code == 201, longest.text
    too_long = api.post("/api/v1/integrations", json={"name": "Weekly", "kind": "ical",
                                                      "interval_minutes": INTERVAL_MINUTES[1] + 1})
    assert too_long.status_code == 422 and set(too_long.json["error"]["fields"]) == {"interval_minutes"}
