"""Fixtures of the API tests: a key of agency "alpha" (read-write unless asked) and a client that sends it."""

from __future__ import annotations

import itertools

import pytest

from portal import db
from portal.api.keys import create_key
from portal.operations import FieldError
from tests import factories as f


class ApiClient:
    """A test client that sends `Authorization: Bearer <key>` (and JSON bodies) with every request."""

    def __init__(self, client, key: str | None) -> None:
        self.client, self.key = client, key

    def open(self, method: str, path: str, *, headers: dict | None = None, **kw):
        sent = {"Authorization": f"Bearer {self.key}"} if self.key else {}
        return self.client.open(path, method=method, headers={**sent, **(headers or {})}, **kw)

    def get(self, path: str, **kw):
        return self.open("GET", path, **kw)

    def post(self, path: str, **kw):
        return self.open("POST", path, **kw)

    def patch(self, path: str, **kw):
        return self.open("PATCH", path, **kw)

    def put(self, path: str, **kw):
        return self.open("PUT", path, **kw)


_key_numbers = itertools.count(2)


def make_key(agency, scope: str = "read-write", name: str | None = None) -> str:
    """A new key of `agency` (committed); named "PMS", then "PMS 2", "PMS 3"... unless told (an active name is
    unique)."""
    try:
        with db.session.begin_nested():
            _row, key = create_key(agency.id, name or "PMS", scope, None)
    except FieldError:
        if name:
            raise
        _row, key = create_key(agency.id, f"PMS {next(_key_numbers)}", scope, None)
    db.session.commit()
    return key


@pytest.fixture
def alpha(app):
    """Agency "alpha" with its manager, committed; its id."""
    with app.app_context():
        a = f.agency("alpha")
        f.staff(a)
        db.session.commit()
        return a.id


@pytest.fixture
def api_key(app, alpha) -> str:
    """A read-write key of "alpha"."""
    from portal.agencies.models import Agency

    with app.app_context():
        return make_key(db.session.get(Agency, alpha))


@pytest.fixture
def api(app, api_key) -> ApiClient:
    return ApiClient(app.test_client(), api_key)
