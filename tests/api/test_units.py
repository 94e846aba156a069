"""/api/v1/units, and through it the frame every resource shares: keys, scoping, errors, pages, ETags, idempotency."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from portal import db
from portal.agencies.models import Agency
from portal.api.keys import revoke_key
from portal.api.models import ApiKey
from portal.properties.models import Unit
from portal.tags import Tag
from tests import factories as f
from tests.api.conftest import ApiClient, make_key
from tests.conftest import staff_client


@pytest.fixture
def place(app, alpha):
    """Alpha's property "Seafront" with units 1A and 1B, and an owner; their ids."""
    with app.app_context():
        a = db.session.get(Agency, alpha)
        db.scope(db.session, a.id)
        p = f.prop(a)
        u1, u2 = f.unit(a, p, "1A"), f.unit(a, p, "1B")
        owner = f.person(a, "Olga Owner", "olga@example.com")
        db.session.commit()
        return {"property": p.id, "units": [u1.id, u2.id], "owner": owner.id}


@pytest.fixture
def beta(app):
    """Agency "beta" with a property and a unit, and a read-write key of its own."""
    with app.app_context():
        b = f.agency("beta")
        p = f.prop(b, "Beta House")
        u = f.unit(b, p, "B1")
        db.session.commit()
        return {"key": make_key(b), "property": p.id, "unit": u.id}


def _units(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Unit).execution_options(all_agencies=True))


def _error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    assert response.mimetype == "application/json"
    body = response.json["error"]
    assert body["code"] == code and body["message"] and isinstance(body["fields"], dict)
    return body


def test_list_get_create_patch(api, place):
    listed = api.get("/api/v1/units")
    assert listed.status_code == 200
    assert [u["name"] for u in listed.json["items"]] == ["1A", "1B"] and listed.json["total"] == 2

    made = api.post("/api/v1/units", json={"property_id": place["property"], "name": " Penthouse ", "bedrooms": 3,
                                           "capacity": 6, "external_id": "PMS-77", "owner_ids": [place["owner"]],
                                           "tags": ["Sea view", "pets"]})
    assert made.status_code == 201, made.text
    unit = made.json
    assert (unit["name"], unit["bedrooms"], unit["owner_ids"], unit["tags"]) == (
        "Penthouse", 3, [place["owner"]], ["pets", "sea view"])
    assert made.headers["Location"] == f"/api/v1/units/{unit['id']}"

    got = api.get(made.headers["Location"])
    assert got.status_code == 200 and got.json == unit and got.headers["ETag"]

    changed = api.patch(made.headers["Location"], json={"capacity": 8, "tags": []},
                        headers={"If-Match": got.headers["ETag"]})
    assert changed.status_code == 200, changed.text
    assert (changed.json["capacity"], changed.json["tags"], changed.json["name"]) == (8, [], "Penthouse")
    assert changed.headers["ETag"] != got.headers["ETag"]
    assert api.get(made.headers["Location"]).headers["ETag"] == changed.headers["ETag"]


def test_filters_and_pages(api, place, beta):
    created = api.post("/api/v1/units", json={"property_id": place["property"], "name": "2C", "external_id": "X-1",
                                              "tags": ["garden"]})
    assert created.status_code == 201
    by_external = api.get("/api/v1/units", query_string={"external_id": "X-1"}).json
    assert [u["name"] for u in by_external["items"]] == ["2C"]
    assert [u["name"] for u in api.get("/api/v1/units?tag=Garden").json["items"]] == ["2C"]
    assert api.get("/api/v1/units", query_string={"property_id": beta["property"]}).json["total"] == 0

    first = api.get("/api/v1/units?per_page=2").json
    assert (len(first["items"]), first["total"], first["pages"], first["prev"]) == (2, 3, 2, None)
    second = api.get(first["next"]).json
    assert [u["name"] for u in second["items"]] == ["2C"] and second["next"] is None
    assert second["prev"] == "/api/v1/units?page=1&per_page=2"
    assert api.get("/api/v1/units?page=9").json["items"] == []
    assert _error(api.get("/api/v1/units?per_page=101"), 422, "invalid")["fields"].keys() == {"per_page"}
    assert _error(api.get("/api/v1/units?page=zero"), 422, "invalid")["fields"].keys() == {"page"}


def test_keys_are_needed_and_checked(app, client, place, alpha, login):
    nothing = client.get("/api/v1/units")
    assert _error(nothing, 401, "unauthorized") and nothing.headers["WWW-Authenticate"].startswith("Bearer")
    wrong = ApiClient(client, "ptc_00000000_" + "x" * 43).get("/api/v1/units")
    assert _error(wrong, 401, "invalid_key") and 'error="invalid_token"' in wrong.headers["WWW-Authenticate"]
    assert _error(ApiClient(client, "not-a-key").post("/api/v1/units", json={}), 401, "invalid_key")

    with app.app_context():
        a = db.session.get(Agency, alpha)
        key = make_key(a, scope="read")
    reader = ApiClient(client, key)
    assert reader.get("/api/v1/units").status_code == 200
    refused = reader.post("/api/v1/units", json={"property_id": place["property"], "name": "Z"})
    assert _error(refused, 403, "read_only_key")
    assert _units(app) == 2

    with app.app_context():
        db.scope(db.session, alpha)
        row = db.session.scalar(select(ApiKey).where(ApiKey.scope == "read"))
        assert row.last_used_at is not None
        revoke_key(row)
        db.session.commit()
    assert _error(reader.get("/api/v1/units"), 401, "invalid_key")

    # A signed-in staff member's cookie is no key, for reads or writes (and no CSRF token is asked of the API).
    staff = staff_client(app, login)
    assert staff.get("/manage/").status_code == 200
    assert _error(staff.get("/api/v1/units"), 401, "unauthorized")
    assert _error(staff.post("/api/v1/units", json={"property_id": place["property"], "name": "Z"}), 401,
                  "unauthorized")


def test_other_agencies_ids_are_not_found(api, place, beta, app):
    assert _error(api.get(f"/api/v1/units/{beta['unit']}"), 404, "not_found")
    assert _error(api.patch(f"/api/v1/units/{beta['unit']}", json={"name": "Mine"}, headers={"If-Match": "*"}),
                  404, "not_found")
    foreign = api.post("/api/v1/units", json={"property_id": beta["property"], "name": "Sneaky"})
    assert _error(foreign, 422, "invalid")["fields"] == {"property_id": ["No such record in your agency."]}
    theirs = ApiClient(app.test_client(), beta["key"]).get("/api/v1/units").json
    assert [u["name"] for u in theirs["items"]] == ["B1"]
    assert _units(app) == 3


def test_updates_need_the_current_etag(api, place):
    url = f"/api/v1/units/{place['units'][0]}"
    etag = api.get(url).headers["ETag"]
    assert _error(api.patch(url, json={"name": "1A bis"}), 428, "precondition_required")
    assert api.patch(url, json={"name": "1A bis"}, headers={"If-Match": etag}).status_code == 200
    assert _error(api.patch(url, json={"name": "1A ter"}, headers={"If-Match": etag}), 412, "precondition_failed")
    assert api.get(url).json["name"] == "1A bis"


def test_idempotency_keys_replay_and_refuse(api, place, app):
    body = {"property_id": place["property"], "name": "3A"}
    first = api.post("/api/v1/units", json=body, headers={"Idempotency-Key": "k-1"})
    again = api.post("/api/v1/units", json={"name": "3A", "property_id": place["property"]},
                     headers={"Idempotency-Key": "k-1"})
    assert first.status_code == again.status_code == 201
    assert again.json == first.json and again.headers["Location"] == first.headers["Location"]
    assert again.headers["Idempotent-Replayed"] == "true" and "Idempotent-Replayed" not in first.headers
    assert _units(app) == 3
    other = api.post("/api/v1/units", json={**body, "name": "3B"}, headers={"Idempotency-Key": "k-1"})
    assert _error(other, 422, "idempotency_key_reused")["fields"].keys() == {"Idempotency-Key"}
    assert api.post("/api/v1/units", json=body, headers={"Idempotency-Key": "k-2"}).status_code == 201
    assert _units(app) == 4
    # A refused request keeps nothing, its key neither: corrected, the same key goes through.
    refused = api.post("/api/v1/units", json={**body, "name": ""}, headers={"Idempotency-Key": "k-3"})
    assert _error(refused, 422, "invalid")
    assert api.post("/api/v1/units", json={**body, "name": "3C"}, headers={"Idempotency-Key": "k-3"}).status_code \
        == 201


def test_bad_input_is_a_clear_error_and_changes_nothing(api, place, app):
    bad_json = api.post("/api/v1/units", data="{not json", content_type="application/json")
    assert _error(bad_json, 400, "invalid_json")
    form = api.post("/api/v1/units", data={"property_id": place["property"], "name": "3D"})  # not JSON at all
    assert _error(form, 400, "not_json")["message"] == "Send the body as JSON, with 'Content-Type: application/json'."
    wrong = api.post("/api/v1/units", json={"property_id": "1", "name": 7, "bedrooms": True, "capacity": 2.5,
                                            "accepting_applications": "yes", "colour": "red"})
    assert _error(wrong, 422, "invalid")["fields"].keys() == {"property_id", "name", "bedrooms", "capacity",
                                                              "accepting_applications", "colour"}
    assert _error(api.post("/api/v1/units", json=[1, 2]), 422, "invalid")
    nul = api.post("/api/v1/units", json={"property_id": place["property"], "name": "A\x00B"})
    assert _error(nul, 422, "invalid")["fields"].keys() == {"name"}
    surrogate = api.post("/api/v1/units", data=f'{{"property_id": {place["property"]}, "name": "\\ud800"}}',
                         content_type="application/json")
    assert _error(surrogate, 422, "invalid")["fields"].keys() == {"name"}
    comma = api.post("/api/v1/units", json={"property_id": place["property"], "name": "Q", "tags": ["a,b"]})
    assert _error(comma, 422, "invalid")["fields"].keys() == {"tags.0"}
    # The owner is checked before anything is written: no unit, no tag left behind.
    half = api.post("/api/v1/units", json={"property_id": place["property"], "name": "Q", "tags": ["new-tag"],
                                           "owner_ids": [place["owner"], 999999]})
    assert _error(half, 422, "invalid")["fields"] == {"owner_ids.1": ["No such record in your agency."]}
    clash = api.post("/api/v1/units", json={"property_id": place["property"], "name": "Q", "tags": ["new-tag"],
                                            "external_id": "E"})
    assert clash.status_code == 201
    again = api.post("/api/v1/units", json={"property_id": place["property"], "name": "R", "tags": ["other-tag"],
                                            "external_id": "E"})
    assert _error(again, 422, "invalid")["fields"].keys() == {"external_id"}
    assert _units(app) == 3
    with app.app_context():
        assert db.session.scalars(select(Tag.name).execution_options(all_agencies=True)).all() == ["new-tag"]


def test_every_error_under_the_api_has_the_json_body(api):
    assert _error(api.get("/api/v1/nowhere"), 404, "not_found")
    assert _error(api.get("/api/v1/units/0"), 404, "not_found")
    assert _error(api.get("/api/v1/units/99999999999"), 404, "not_found")
    deleted = api.open("DELETE", "/api/v1/units")
    assert _error(deleted, 405, "method_not_allowed") and "POST" in deleted.headers["Allow"]
    assert _error(api.get("/api/v2/units"), 404, "not_found")


def test_openapi_document_is_public_and_describes_the_api(client):
    spec = client.get("/api/v1/openapi.json")
    assert spec.status_code == 200
    doc = spec.json
    assert doc["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http", "scheme": "bearer", "description": "An API key: ptc_ followed by its secret"}
    assert doc["security"] == [{"bearerAuth": []}]
    patch = doc["paths"]["/api/v1/units/{unit_id}"]["patch"]
    assert {"200", "400", "401", "403", "404", "409", "412", "422", "428", "429"} <= set(patch["responses"])
    post = doc["paths"]["/api/v1/units"]["post"]
    assert any(p.get("name") == "Idempotency-Key" for p in post["parameters"])
    assert doc["components"]["responses"]["NOT_FOUND"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Error"}


def test_the_same_idempotency_key_at_the_same_moment_makes_one_unit(app, live_server, api_key, place):
    """Ten clients send the same POST with the same key at once (real HTTP, threads): one unit is made; every
    answer is that unit (made or replayed), or a 409 asking to retry, never a second unit."""
    import json
    import threading
    import urllib.error
    import urllib.request

    body = json.dumps({"property_id": place["property"], "name": "Raced"}).encode()
    barrier, answers = threading.Barrier(10), []

    def send():
        request = urllib.request.Request(f"{live_server}/api/v1/units", data=body, method="POST", headers={
            "Authorization": f"Bearer {api_key}", "Content-Type": "application/json", "Idempotency-Key": "race"})
        barrier.wait()
        try:
            with urllib.request.urlopen(request, timeout=60) as r:
                answers.append((r.status, json.load(r)["id"]))
        except urllib.error.HTTPError as e:
            answers.append((e.code, json.load(e)["error"]["code"]))

    threads = [threading.Thread(target=send) for _ in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(90)
    assert len(answers) == 10
    made = {answer for status, answer in answers if status == 201}
    assert len(made) == 1, answers
    assert all(status == 201 or (status, answer) == (409, "conflict") for status, answer in answers), answers
    assert _units(app) == 3
