"""/api/v1 driven from its own OpenAPI document over real HTTP (the live server) with the demo agency's data:
schemathesis finds no 500, no answer the document does not describe, and no operation that works without a key."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from portal import db
from portal.api.keys import create_key

CONFIG = Path(__file__).with_name("schemathesis.toml")


@pytest.fixture
def demo_key(app) -> str:
    """The demo agency (as `make run` loads it) with a PMS integration that syncs stays, and a read-write key."""
    from devtools import demo
    from portal.integrations.models import Integration, IntegrationKind
    from portal.integrations.stays import set_sync

    with app.app_context():
        with db.transaction():
            demo.load()
            agency_id = db.session.info["agency_id"]
            pms = Integration(agency_id=agency_id, name="Demo PMS", kind=IntegrationKind.PMS)
            db.session.add(pms)
            db.session.flush()
            set_sync(pms, True, confirmed=True)
        with db.transaction():
            _row, key = create_key(agency_id, "schemathesis", "read-write", None)
    return key


def _schemathesis(live_server: str, folder: Path, *args: str) -> subprocess.CompletedProcess:
    """Schemathesis's CLI in `folder` (where it keeps its cache of failures, out of the repository)."""
    command = [str(Path(sys.executable).with_name("schemathesis")), "--config-file", str(CONFIG), "run",
               f"{live_server}/api/v1/openapi.json", "--url", live_server, *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=600, cwd=folder)


def test_schemathesis_finds_nothing(live_server, demo_key, tmp_path):
    result = _schemathesis(
        live_server, tmp_path, "-H", f"Authorization: Bearer {demo_key}", "--checks", "all",
        "--phases", "examples,coverage,fuzzing", "--max-examples", "25", "--workers", "2", "--seed", "14",
        "--generation-database", "none", "--request-timeout", "30", "--no-color")
    assert result.returncode == 0, result.stdout[-12000:] + result.stderr[-3000:]
    assert re.search(r"\d+ passed", result.stdout), result.stdout[-3000:]


def _operations(live_server: str) -> list[tuple[str, str]]:
    with urllib.request.urlopen(f"{live_server}/api/v1/openapi.json") as r:
        spec = json.load(r)
    return [(method.upper(), re.sub(r"\{[^}]+\}", "1", path))
            for path, item in spec["paths"].items() for method in item if method != "parameters"]


@pytest.mark.parametrize("header", [None, "Bearer ptc_00000000_not-a-key", "Basic bWFuYWdlcjpwYXNz"])
def test_every_operation_needs_a_key(live_server, header):
    operations = _operations(live_server)
    assert len(operations) >= 4
    for method, path in operations:
        request = urllib.request.Request(f"{live_server}{path}", method=method,
                                         data=b"{}" if method in ("POST", "PUT", "PATCH") else None,
                                         headers={"Content-Type": "application/json", "If-Match": "*",
                                                  **({"Authorization": header} if header else {})})
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request)
        answer = refused.value
        assert answer.code == 401, (method, path, answer.code)
        assert answer.headers["WWW-Authenticate"].startswith('Bearer realm="portico"')
        assert json.loads(answer.read())["error"]["code"] in ("unauthorized", "invalid_key")
