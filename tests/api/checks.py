"""What the API resource tests share: an error's shape, a second agency with its own key, a read key."""

from __future__ import annotations

from portal import db
from portal.agencies.models import Agency
from tests import factories as f
from tests.api.conftest import ApiClient, make_key


def error(response, status: int, code: str) -> dict:
    """The error body of `response`, checked to be the API's one shape with this status and code."""
    assert response.status_code == status, response.text
    assert response.mimetype == "application/json"
    body = response.json["error"]
    assert body["code"] == code and body["message"] and isinstance(body["fields"], dict)
    return body


def reader(app, agency_id: int) -> ApiClient:
    """A client with a read-only key of the agency."""
    with app.app_context():
        return ApiClient(app.test_client(), make_key(db.session.get(Agency, agency_id), scope="read",
                                                     name="Reader"))


def other_agency(app) -> ApiClient:
    """Agency "beta" (with its manager) and a client with its read-write key."""
    with app.app_context():
        b = f.agency("beta")
        f.staff(b)
        db.session.commit()
        return ApiClient(app.test_client(), make_key(b, name="Beta PMS"))
