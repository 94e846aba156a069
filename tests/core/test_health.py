"""Health endpoints and refusing to start without what production needs."""

import os
import re
import subprocess
import sys

from devtools.services import free_port
from portal import create_app


def test_healthz_answers(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok"}


def test_readyz_checks_database_and_redis(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json["status"] == "ready"


def test_readyz_is_503_naming_redis_when_it_is_down(app, tmp_path):
    broken = create_app({**app.config, "REDIS_URL": f"redis://127.0.0.1:{free_port()}/0"})
    try:
        response = broken.test_client().get("/readyz")
    finally:
        broken.extensions["db.engine"].dispose()
    assert response.status_code == 503
    assert set(response.json["reasons"]) == {"redis"}


def test_readyz_is_503_naming_the_database_when_it_is_down(app, tmp_path):
    missing = tmp_path / "no-such-dir" / "x.db"
    broken = create_app({**app.config, "DATABASE_URL": f"sqlite:///{missing}"})
    response = broken.test_client().get("/readyz")
    assert response.status_code == 503
    assert set(response.json["reasons"]) == {"database"}


def _portico(*args, **env):
    environ = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEYS", "DATABASE_URL"}}
    environ.update(env)
    return subprocess.run(
        [sys.executable, "-m", "portal.cli", *args], env=environ, capture_output=True, text=True, timeout=60
    )


def test_production_refuses_to_start_without_secret_keys(tmp_path):
    result = _portico("db", "upgrade", PORTICO_ENV="production", PORTICO_INSTANCE=str(tmp_path))
    assert result.returncode == 2
    assert "SECRET_KEYS is not set" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "secret_keys").exists()


def test_production_refuses_to_start_with_unreachable_database(tmp_path):
    result = _portico(
        "db", "upgrade", PORTICO_ENV="production", PORTICO_INSTANCE=str(tmp_path),
        SECRET_KEYS="k" * 48, DATABASE_URL=f"postgresql+psycopg://nobody@127.0.0.1:{free_port()}/x",
        BASE_URL="https://portal.example.com",
    )
    assert result.returncode == 2
    assert "cannot reach the database" in result.stderr
    assert "Traceback" not in result.stderr


def test_development_generates_and_keeps_a_secret_key(tmp_path, monkeypatch):
    monkeypatch.setenv("PORTICO_INSTANCE", str(tmp_path))
    monkeypatch.delenv("SECRET_KEYS", raising=False)
    first = create_app({"DATABASE_URL": f"sqlite:///{tmp_path}/a.db"})
    second = create_app({"DATABASE_URL": f"sqlite:///{tmp_path}/a.db"})
    key = (tmp_path / "secret_keys").read_text().strip()
    assert len(key) >= 48
    assert first.secret_key == second.secret_key == key
    for a in (first, second):
        a.extensions["db.engine"].dispose()


def test_key_rotation_keeps_old_sessions_valid(app, client, login):
    """A session signed with the previous key still works after a new key is added."""
    from portal import db
    from tests import factories as f

    with app.app_context():
        a = f.agency()
        f.staff(a)
        db.session.commit()
    login("manager@alpha.example", f.PASSWORD)
    cookie = client.get_cookie("session").value
    rotated = create_app({**app.config, "SECRET_KEYS": [app.config["SECRET_KEYS"][-1], "n" * 48]})
    try:
        c = rotated.test_client()
        c.set_cookie("session", cookie)
        assert c.get("/manage/").status_code == 200
        assert rotated.secret_key == "n" * 48
    finally:
        rotated.extensions["db.engine"].dispose()


def test_gunicorn_serves_the_production_app(app, tmp_path):
    """The deployment path in the README: gunicorn wsgi:app with production settings."""
    import time
    import urllib.request

    port = free_port()
    env = {**os.environ, "PORTICO_ENV": "production", "SECRET_KEYS": "p" * 48,
           "DATABASE_URL": app.config["DATABASE_URL"], "REDIS_URL": app.config["REDIS_URL"],
           "PORTICO_INSTANCE": str(tmp_path), "BASE_URL": "https://portal.example.com"}
    root = os.path.dirname(os.path.dirname(os.path.dirname(__file__)))
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--workers", "2", "--bind", f"127.0.0.1:{port}", "wsgi:app"],
        cwd=root, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    try:
        body = None
        # Up to ~40 s for two workers to import the app: on a loaded machine 10 s was not always enough.
        for _ in range(400):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as r:
                    body = r.read().decode()
                    break
            except OSError:
                time.sleep(0.1)
        assert body is not None and '"ready"' in body
    finally:
        server.terminate()
        server.wait(10)
        server.stderr.close()


def test_gunicorn_refuses_production_without_keys(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "SECRET_KEYS"}
    env.update(PORTICO_ENV="production", PORTICO_INSTANCE=str(tmp_path))
    root = os.path.dirname(os.path.dirname(os.path.dirname(__file__)))
    result = subprocess.run(
        [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{free_port()}", "wsgi:app"],
        cwd=root, env=env, capture_output=True, text=True, timeout=60,
    )
    assert result.returncode != 0
    assert "SECRET_KEYS is not set" in result.stderr


# -- readyz tells the truth: the dispatcher's heartbeat, free disk, SMTP -------------------------

def _beat(app, seconds_ago: float) -> None:
    """The dispatcher's heartbeat as `portico cron` leaves it, `seconds_ago`."""
    import time

    from portal import health

    app.extensions["redis"].set(health.HEARTBEAT_KEY, repr(time.time() - seconds_ago))


def test_the_dispatch_job_records_a_heartbeat_that_readyz_reports(app, client, run_jobs):
    from automation import jobs
    from portal import queue

    assert client.get("/readyz").json["warnings"]["dispatch"] == "dispatch has not run yet"
    with app.app_context():
        queue.get_queue("dispatch").enqueue(jobs.dispatch)
    run_jobs()
    ready = client.get("/readyz")
    assert ready.status_code == 200 and "dispatch" not in ready.json.get("warnings", {})
    assert 0 <= ready.json["checks"]["dispatch_age_seconds"] < 60


def test_readyz_is_503_when_dispatch_is_late(app, client):
    _beat(app, 600)  # DISPATCH_INTERVAL 1: late after 60 s
    late = client.get("/readyz")
    assert late.status_code == 503
    assert re.fullmatch(r"dispatch late: last ran 6\d\d s ago", late.json["reasons"]["dispatch"])
    _beat(app, 5)
    assert client.get("/readyz").status_code == 200


def test_a_cron_that_never_ran_is_late_only_where_one_is_expected(app):
    import time

    expected = create_app({**app.config, "EXPECT_CRON": True})
    try:
        c = expected.test_client()
        assert c.get("/readyz").status_code == 200  # just deployed: its cron starts alongside
        expected.extensions["health.started"] = time.time() - 3600  # up an hour, and still no heartbeat
        never = c.get("/readyz")
        assert never.status_code == 503 and "never run" in never.json["reasons"]["dispatch"]
        _beat(expected, 1)
        assert c.get("/readyz").status_code == 200
    finally:
        expected.extensions["db.engine"].dispose()


def test_readyz_is_503_when_the_disk_has_too_little_room(app):
    roomy = create_app({**app.config, "MIN_FREE_DISK_MB": 2**40, "MIN_FREE_DISK_PERCENT": 100})
    try:
        response = roomy.test_client().get("/readyz")
    finally:
        roomy.extensions["db.engine"].dispose()
    assert response.status_code == 503 and set(response.json["reasons"]) == {"disk"}
    assert response.json["reasons"]["disk"].startswith("disk space low:")
    assert all(mb > 0 for mb in response.json["checks"]["disk_free_mb"].values())


def test_an_unreachable_smtp_server_is_a_warning_not_unready(app, client):
    assert "smtp" not in client.get("/readyz").json.get("warnings", {})
    silent = create_app({**app.config, "SMTP_URL": f"smtp://127.0.0.1:{free_port()}"})
    try:
        response = silent.test_client().get("/readyz")
    finally:
        silent.extensions["db.engine"].dispose()
    assert response.status_code == 200 and response.json["status"] == "ready"
    assert "unreachable" in response.json["warnings"]["smtp"]


def test_the_automation_dashboard_says_when_dispatch_is_late(app, client, login):
    from portal import db
    from tests import factories as f

    with app.app_context():
        f.staff(f.agency())
        db.session.commit()
    login("manager@alpha.example", f.PASSWORD)
    assert "Dispatch is late" not in client.get("/manage/automation/").text  # no cron expected, none ran
    _beat(app, 3 * 3600)
    page = client.get("/manage/automation/")
    assert page.status_code == 200 and "Dispatch is late: it last ran 3 hours ago" in page.text
    _beat(app, 2)
    assert "Dispatch is late" not in client.get("/manage/automation/").text
