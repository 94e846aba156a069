"""The API's answers when it cannot serve: a key over its rate (429), a database away (503), a bug (500): the same
JSON error body as every other error, with Retry-After where waiting helps."""

from __future__ import annotations

from devtools.services import free_port
from portal import create_app, db
from portal.agencies.models import Agency
from tests.api.conftest import ApiClient, make_key


def test_a_key_over_its_rate_gets_429_and_other_keys_do_not(app, alpha):
    tight = create_app({**app.config, "API_RATE_LIMIT": "3 per minute"})
    try:
        with app.app_context():
            agency = db.session.get(Agency, alpha)
            busy, calm = make_key(agency), make_key(agency, name="Website")
        client = tight.test_client()
        answers = [ApiClient(client, busy).get("/api/v1/units") for _ in range(4)]
        assert [a.status_code for a in answers] == [200, 200, 200, 429]
        refused = answers[-1]
        assert refused.json["error"]["code"] == "rate_limited"
        assert 1 <= int(refused.headers["Retry-After"]) <= 60
        assert ApiClient(client, calm).get("/api/v1/units").status_code == 200
    finally:
        tight.extensions["db.engine"].dispose()


def test_database_away_and_a_bug_answer_json(app, alpha):
    with app.app_context():
        key = make_key(db.session.get(Agency, alpha))
    broken = create_app({**app.config, "PROPAGATE_EXCEPTIONS": False,
                         "DATABASE_URL": f"postgresql+psycopg://nobody@127.0.0.1:{free_port()}/gone"})

    @broken.get("/api/v1/boom")
    def boom():  # a bug under the API's path
        raise RuntimeError("a bug")

    try:
        client = ApiClient(broken.test_client(), key)
        away = client.get("/api/v1/units")
        assert away.status_code == 503 and int(away.headers["Retry-After"]) > 0
        assert away.json["error"]["code"] == "unavailable"
        assert "database" in away.json["error"]["message"]
        bug = client.get("/api/v1/boom")
        assert bug.status_code == 500 and bug.json == {"error": {
            "code": "server_error", "message": "Something went wrong on our side.", "fields": {}}}
    finally:
        broken.extensions["db.engine"].dispose()
