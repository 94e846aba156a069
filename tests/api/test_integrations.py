"""/api/v1/integrations: add and configure; sync stays refused without confirm (nothing changes), then on and
off; run now creates a run whose job records its counts and its errors per feed; other agencies and read keys."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import func, select

from portal import db
from portal.agencies.models import Agency
from portal.integrations.models import SyncRun
from portal.integrations.operations import add_feed, save_integration
from tests import factories as f
from tests.api.checks import error, other_agency, reader

BASE = "/api/v1/integrations"
CALENDAR = b"""BEGIN:VCALENDAR\r
VERSION:2.0\r
PRODID:-//Airbnb Inc//Hosting Calendar 1.0.0//EN\r
BEGIN:VEVENT\r
DTSTART;VALUE=DATE:20270110\r
DTEND;VALUE=DATE:20270113\r
UID:api-test-1@airbnb.com\r
SUMMARY:Reserved\r
END:VEVENT\r
END:VCALENDAR\r
"""


@pytest.fixture
def channel(app, monkeypatch) -> Iterator[str]:
    """A channel's calendar server on loopback: /1a.ics is a calendar with one reservation, anything else a 404."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            found = self.path == "/1a.ics"
            body = CALENDAR if found else b"Not Found"
            self.send_response(200 if found else 404)
            self.send_header("Content-Type", "text/calendar" if found else "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    monkeypatch.setitem(app.config, "ICAL_PRIVATE_ADDRESSES", True)  # the test's server is on loopback
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def feeds(app, alpha, channel):
    """Alpha's iCal integration "Airbnb" (sync stays off) reading feeds for units 1A (a calendar with a reservation)
    and 2B (an address that answers 404), and a CSV integration."""
    with app.app_context():
        a = db.session.get(Agency, alpha)
        db.scope(db.session, a.id)
        p = f.prop(a)
        airbnb = save_integration(None, a.id, {"name": "Airbnb", "kind": "ical", "interval_minutes": 30,
                                               "when_missing": "cancel"})
        add_feed(airbnb, f.unit(a, p, "1A").id, f"{channel}/1a.ics")
        add_feed(airbnb, f.unit(a, p, "2B").id, f"{channel}/gone.ics")
        sheet = save_integration(None, a.id, {"name": "Spreadsheet", "kind": "csv", "interval_minutes": 60,
                                              "when_missing": "keep"})
        db.session.commit()
        return {"airbnb": airbnb.id, "sheet": sheet.id}


def _runs(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(SyncRun.id)).execution_options(all_agencies=True))


def _patch(api, url: str, body: dict):
    return api.patch(url, json=body, headers={"If-Match": api.get(url).headers["ETag"]})


def test_add_list_and_configure(api, feeds):
    made = api.post(BASE, json={"name": "Hostaway", "kind": "pms"})
    assert made.status_code == 201, made.text
    assert (made.json["sync_stays"], made.json["interval_minutes"], made.json["when_missing"]) == (False, 60,
                                                                                                   "cancel")
    assert [i["name"] for i in api.get(BASE).json["items"]] == ["Airbnb", "Hostaway", "Spreadsheet"]
    changed = _patch(api, made.headers["Location"], {"name": "Hostaway EU", "interval_minutes": 15,
                                                     "when_missing": "keep"})
    assert changed.status_code == 200, changed.text
    assert (changed.json["name"], changed.json["interval_minutes"], changed.json["when_missing"], changed.json["kind"]
            ) == ("Hostaway EU", 15, "keep", "pms")
    taken = api.post(BASE, json={"name": "Airbnb", "kind": "ical"})
    assert error(taken, 422, "invalid")["fields"] == {
        "name": ["Another integration has this name: choose another one."]}
    short = _patch(api, made.headers["Location"], {"interval_minutes": 1, "kind": "csv"})
    assert error(short, 422, "invalid")["fields"].keys() == {"interval_minutes", "kind"}
    for blank in ("", "   "):
        assert error(_patch(api, made.headers["Location"], {"name": blank}), 422, "invalid")["fields"].keys() \
            == {"name"}
    assert api.get(made.headers["Location"]).json["name"] == "Hostaway EU"
    assert api.get(BASE).json["total"] == 3


def test_sync_stays_needs_the_confirmation(api, feeds):
    url = f"{BASE}/{feeds['airbnb']}"
    refused = api.post(f"{url}/sync", json={"on": True})
    consequence = error(refused, 422, "invalid")["fields"]["confirm"][0]
    assert "all imported units will be considered active for syncing" in consequence.lower()
    assert api.get(url).json["sync_stays"] is False
    assert error(api.post(f"{url}/sync", json={"on": True, "confirm": False}), 422, "invalid")
    on = api.post(f"{url}/sync", json={"on": True, "confirm": True})
    assert on.status_code == 200 and on.json["sync_stays"] is True and on.json["sync_changed_at"]
    off_refused = api.post(f"{url}/sync", json={"on": False})
    assert "no new or updated stays will be taken" in error(off_refused, 422, "invalid")["fields"]["confirm"][0]
    assert api.get(url).json["sync_stays"] is True
    assert api.post(f"{url}/sync", json={"on": False, "confirm": True}).json["sync_stays"] is False
    assert error(api.post(f"{url}/sync", json={"on": "yes", "confirm": 1}), 422, "invalid")["fields"].keys() == {
        "on", "confirm"}


def test_run_now_creates_a_run_with_its_counts_and_errors(api, feeds, app, run_jobs):
    assert api.post(f"{BASE}/{feeds['airbnb']}/sync", json={"on": True, "confirm": True}).status_code == 200
    started = api.post(f"{BASE}/{feeds['airbnb']}/run", headers={"Idempotency-Key": "run-1"})
    assert started.status_code == 202, started.text
    assert started.json["status"] == "running"
    run_url = started.headers["Location"]
    assert run_url == f"{BASE}/{feeds['airbnb']}/runs/{started.json['run_id']}"
    replayed = api.post(f"{BASE}/{feeds['airbnb']}/run", headers={"Idempotency-Key": "run-1"})
    assert replayed.json == started.json and _runs(app) == 1
    assert error(api.post(f"{BASE}/{feeds['airbnb']}/run"), 409, "already_running")

    run_jobs()
    run = api.get(run_url).json
    assert (run["status"], run["trigger"], run["total"], run["done"], run["created"], run["error_count"]) == (
        "partial", "manual", 2, 2, 1, 1)  # "api" is a PMS's daily push
    [problem] = run["errors"]
    assert problem["location"] == "feed of 2B" and "404" in problem["message"], problem
    listed = api.get(f"{BASE}/{feeds['airbnb']}/runs").json
    assert [r["id"] for r in listed["items"]] == [run["id"]] and "errors" not in listed["items"][0]
    assert api.post(f"{BASE}/{feeds['airbnb']}/run").status_code == 202 and _runs(app) == 2

    csv = api.post(f"{BASE}/{feeds['sheet']}/run")
    assert "Only an iCal integration" in error(csv, 409, "not_runnable")["message"]
    assert error(api.get(f"{BASE}/{feeds['sheet']}/runs/{run['id']}"), 404, "not_found")
    assert _runs(app) == 2


def test_other_agencies_and_read_keys(api, feeds, app, alpha):
    beta = other_agency(app)
    url = f"{BASE}/{feeds['airbnb']}"
    assert error(beta.get(url), 404, "not_found")
    assert error(beta.get(f"{url}/runs"), 404, "not_found")
    assert error(beta.post(f"{url}/sync", json={"on": True, "confirm": True}), 404, "not_found")
    assert error(beta.post(f"{url}/run"), 404, "not_found")
    assert beta.get(BASE).json["total"] == 0
    read = reader(app, alpha)
    assert read.get(url).status_code == 200
    assert error(read.post(f"{url}/sync", json={"on": True, "confirm": True}), 403, "read_only_key")
    assert error(read.post(f"{url}/run"), 403, "read_only_key")
    assert error(read.post(BASE, json={"name": "X", "kind": "csv"}), 403, "read_only_key")
    assert api.get(url).json["sync_stays"] is False and _runs(app) == 0
