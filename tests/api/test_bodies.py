"""Bodies the JSON parser cannot read: 400 invalid_json on every route, never a 500 (RecursionError included)."""

from __future__ import annotations

import pytest

DEEP = "[" * 3000  # 3 KB: Python's json gives up with RecursionError, not JSONDecodeError


@pytest.mark.parametrize("method,path", [("POST", "/api/v1/units"), ("POST", "/api/v1/people"),
                                          ("PATCH", "/api/v1/units/1")])
def test_a_deeply_nested_body_is_invalid_json_not_500(api, method, path):
    answer = api.open(method, path, data=DEEP, content_type="application/json")
    assert answer.status_code == 400
    assert answer.json["error"]["code"] == "invalid_json"


def test_a_deeply_nested_body_with_an_idempotency_key_is_invalid_json(api):
    answer = api.post("/api/v1/units", data=DEEP, content_type="application/json",
                      headers={"Idempotency-Key": "deep-1"})
    assert answer.status_code == 400
    assert answer.json["error"]["code"] == "invalid_json"


def test_bodies_that_are_not_json_are_still_refused_and_good_ones_read(api):
    assert api.post("/api/v1/units", data="{nope", content_type="application/json").json["error"]["code"] \
        == "invalid_json"
    read = api.post("/api/v1/units", json={"name": "Loft", "bedrooms": "two"})  # parsed, then validated
    assert read.status_code == 422
    assert set(read.json["error"]["fields"]) == {"property_id", "bedrooms"}
    assert api.post("/api/v1/units", data=b"", content_type="application/json").status_code == 422
