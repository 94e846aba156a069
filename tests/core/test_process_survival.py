"""Long-running processes survive their dependencies (issue 10): `portico cron` and `portico worker`
ride out a Redis outage and an unreachable database without being restarted by hand, and say what
in Redis's settings would lose work. Real processes, a real Redis stopped and started again, the
real SMTP server counting what arrives."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import urllib.request
from pathlib import Path

import pytest
from redis import Redis
from rq.registry import FailedJobRegistry
from sqlalchemy import insert, select, update
from sqlalchemy.engine import make_url

from automation.models import Task
from devtools.services import EmbeddedRedis, free_port
from portal import clock, db
from portal.processes import redis_warnings
from tests import factories as f
from tests.procs import TcpForward, restartable_redis, spawn, stop, wait_for


@pytest.fixture
def own_redis(tmp_path) -> EmbeddedRedis:
    """A Redis of this test's own (the session's shared one is never stopped), keeping its data
    across `stop()` and `start()` as a production Redis with persistence does."""
    server = restartable_redis(tmp_path)
    yield server
    server.stop()


def _due_task(app) -> None:
    """One more task due now (the first call sets up the agency, template, solution and booking)."""
    with app.app_context():
        task = db.session.scalars(select(Task).execution_options(all_agencies=True).order_by(Task.id)).first()
        if task is None:
            a = f.agency("alpha")
            f.solution(a, "extra-services", tpl=f.template(a))
            f.booking(a)
            db.session.execute(update(Task).values(occurrence="0", due_at=clock.now()))
        else:
            count = len(db.session.scalars(select(Task.id).execution_options(all_agencies=True)).all())
            db.session.execute(insert(Task), [{
                "agency_id": task.agency_id, "solution_id": task.solution_id, "notification_id": task.notification_id,
                "object_type": task.object_type, "object_id": task.object_id, "occurrence": str(count),
                "reference": task.reference, "due_at": clock.now()}])
        db.session.commit()


def test_cron_and_worker_ride_out_a_redis_outage(app, smtp_server, own_redis, tmp_path):
    """Redis stops under a running `portico cron` and `portico worker`: both log it and wait; once
    Redis is back, a task that became due afterwards is sent, and neither was restarted by hand."""
    logs = (tmp_path / "cron.log", tmp_path / "worker.log")
    _due_task(app)
    cron = spawn(app, "cron", log=logs[0], REDIS_URL=own_redis.url)
    worker = spawn(app, "worker", log=logs[1], REDIS_URL=own_redis.url)
    try:
        wait_for(lambda: len(smtp_server.messages) == 1, 30, "the first task to be sent", logs)
        own_redis.stop()
        # Down for a few seconds: cron has tried again and again, backing off, and is still there.
        wait_for(lambda: "(attempt 3)" in logs[0].read_text() or cron.poll() is not None, 20,
                 "cron to try Redis three times", logs)
        # RQ's own wait for Redis (in its dequeue loop), or ours when its work loop gave up
        wait_for(lambda: any(s in logs[1].read_text() for s in ("could not connect to Redis", "trying again"))
                 or worker.poll() is not None, 20, "the worker to notice Redis is gone", logs)
        assert cron.poll() is None and worker.poll() is None, "a process exited when Redis went away"
        own_redis.start()
        _due_task(app)
        wait_for(lambda: len(smtp_server.messages) == 2, 30, "the task due after Redis returned to be sent", logs)
        assert cron.poll() is None and worker.poll() is None
    finally:
        stop(cron, worker)
    ids = [m["Message-ID"] for m in smtp_server.messages]
    assert len(set(ids)) == 2
    assert cron.returncode == 0 and worker.returncode == 0  # SIGTERM still stops both cleanly


@pytest.mark.parametrize("command", ["worker", "cron"])
def test_started_while_redis_is_down_it_waits_and_sigterm_still_stops_it(app, own_redis, tmp_path, command):
    log = tmp_path / f"{command}.log"
    own_redis.stop()
    process = spawn(app, command, log=log, REDIS_URL=own_redis.url)
    try:
        wait_for(lambda: "(attempt 2)" in log.read_text() or process.poll() is not None, 30,
                 "it to wait for Redis", (log,))
        assert process.poll() is None, log.read_text()
        assert "ConnectionError" in log.read_text()
    finally:
        stop(process)
    assert process.returncode == 0, log.read_text()


def _unreachable(app, tmp_path) -> tuple[str, object]:
    """A DATABASE_URL for the same database that cannot be reached yet, and how to make it reachable."""
    url = make_url(app.config["DATABASE_URL"])
    if url.get_backend_name() == "sqlite":
        real = Path(url.database)
        door = tmp_path / "db"  # a folder that does not exist yet: SQLite cannot open the file
        return str(url.set(database=str(door / real.name))), lambda: os.symlink(real.parent, door)
    forward = TcpForward((url.host or "127.0.0.1", url.port or 5432))
    return url.set(host="127.0.0.1", port=forward.port).render_as_string(hide_password=False), forward.restore


def test_worker_survives_an_unreachable_database_and_sends_once_it_returns(app, smtp_server, own_redis, tmp_path):
    """Jobs that hit a database error fail (RQ records them) without taking the worker down; when the
    database answers again, the work is done, with no process restarted by hand."""
    logs = (tmp_path / "cron.log", tmp_path / "worker.log")
    database_url, make_reachable = _unreachable(app, tmp_path)
    _due_task(app)
    worker = spawn(app, "worker", log=logs[1], REDIS_URL=own_redis.url, DATABASE_URL=database_url)
    cron = spawn(app, "cron", log=logs[0], REDIS_URL=own_redis.url, DATABASE_URL=database_url)
    failed = FailedJobRegistry("dispatch", connection=Redis(unix_socket_path=str(own_redis.socket_path)))
    try:
        wait_for(lambda: failed.count >= 2 or worker.poll() is not None, 30,
                 "dispatch jobs to fail on the database", logs)
        assert worker.poll() is None, "the worker exited on a database error"
        assert not smtp_server.messages
        make_reachable()
        wait_for(lambda: len(smtp_server.messages) == 1, 30, "the task to be sent once the database is back", logs)
        assert worker.poll() is None and cron.poll() is None
    finally:
        stop(cron, worker)
    assert worker.returncode == 0


def _configured(server: EmbeddedRedis, **settings: str) -> Redis:
    connection = Redis(unix_socket_path=str(server.socket_path), decode_responses=True)
    for name, value in settings.items():
        connection.config_set(name.replace("_", "-"), value)
    return connection


def test_redis_settings_that_lose_work_are_named_with_their_fix(own_redis):
    risky = _configured(own_redis, appendonly="no", save="", maxmemory_policy="allkeys-lru")
    warnings = redis_warnings(risky)
    assert len(warnings) == 2
    assert "persistence is off" in warnings[0] and "appendonly yes" in warnings[0]
    assert "allkeys-lru" in warnings[1] and "maxmemory-policy noeviction" in warnings[1]
    assert redis_warnings(_configured(own_redis, appendonly="yes", maxmemory_policy="noeviction")) == []
    assert redis_warnings(_configured(own_redis, appendonly="no", save="60 1")) == []  # RDB alone is persistence


def test_a_redis_that_refuses_config_gets_a_warning_saying_what_to_check(tmp_path):
    """Managed Redis services often rename or disable CONFIG: say what could not be checked."""
    from devtools.services import redis_server_binary

    sock = tmp_path / "managed.sock"
    server = subprocess.Popen([redis_server_binary(), "--port", "0", "--unixsocket", str(sock), "--dir", str(tmp_path),
                               "--rename-command", "CONFIG", "", "--save", ""], stdout=subprocess.DEVNULL)
    try:
        connection = Redis(unix_socket_path=str(sock))
        wait_for(lambda: sock.exists() and connection.ping(), 10, "redis-server to start")
        warnings = redis_warnings(connection)
    finally:
        stop(server)
    assert len(warnings) == 1
    assert "could not read Redis's settings" in warnings[0]
    assert "appendonly yes" in warnings[0] and "maxmemory-policy is noeviction" in warnings[0]


@pytest.mark.parametrize("command", ["worker", "cron"])
def test_worker_and_cron_warn_about_risky_redis_settings_and_still_start(app, smtp_server, own_redis, tmp_path,
                                                                         command):
    log, good_log = tmp_path / "risky.log", tmp_path / "good.log"
    _configured(own_redis, appendonly="no", save="", maxmemory_policy="volatile-lru")
    process = spawn(app, command, log=log, REDIS_URL=own_redis.url)
    try:
        wait_for(lambda: "maxmemory-policy" in log.read_text() or process.poll() is not None, 30,
                 "the warning", (log,))
        assert process.poll() is None, "it refused to start"
    finally:
        stop(process)
    output = log.read_text()
    assert "WARNING: Redis persistence is off" in output and "appendonly yes" in output
    assert "WARNING: Redis maxmemory-policy is volatile-lru" in output and "noeviction" in output

    _configured(own_redis, appendonly="yes", maxmemory_policy="noeviction")
    process = spawn(app, command, log=good_log, REDIS_URL=own_redis.url)
    redis = Redis(unix_socket_path=str(own_redis.socket_path))
    try:  # up and registered with Redis: its start-up check is behind it
        wait_for(lambda: redis.keys("rq:worker:*" if command == "worker" else "rq:cron_scheduler:*"), 30,
                 "it to start", (good_log,))
    finally:
        stop(process)
    assert "WARNING" not in good_log.read_text()


def _gunicorn(app, port: int, instance: Path, log: Path) -> subprocess.Popen:
    """gunicorn as the README deploys it (gunicorn.conf.py read from the project folder), in production."""
    env = {**os.environ, "PORTICO_ENV": "production", "SECRET_KEYS": "p" * 48,
           "DATABASE_URL": app.config["DATABASE_URL"], "REDIS_URL": app.config["REDIS_URL"],
           "PORTICO_INSTANCE": str(instance), "BASE_URL": "https://portal.example.com"}
    with open(log, "ab") as out:
        return subprocess.Popen([sys.executable, "-m", "gunicorn", "--workers", "1", "--bind", f"127.0.0.1:{port}",
                                 "wsgi:app"], cwd=Path(__file__).parents[2], env=env, stdout=out,
                                stderr=subprocess.STDOUT)


def _healthz(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as r:
            return r.status == 200
    except OSError:
        return False


def test_two_gunicorn_masters_on_one_host_each_serve_with_their_own_control_socket(app, tmp_path):
    """Two masters of one deployment (same instance folder, two ports): both serve /healthz, each
    has its own control socket in the instance folder answering for itself, and one stopping leaves
    the other's socket alone (gunicorn's default is one socket per user, shared and then deleted)."""
    from gunicorn.ctl.client import ControlClient

    # A short folder: under pytest's numbered tmp_path the socket path can pass the ~100 bytes a unix
    # socket allows, and the config then names the socket by a hash instead of the address it serves.
    instance = Path(tempfile.mkdtemp(prefix="portico-ctl-"))
    ports = [free_port(), free_port()]
    logs = tuple(tmp_path / f"gunicorn-{port}.log" for port in ports)
    masters = [_gunicorn(app, port, instance, log) for port, log in zip(ports, logs, strict=True)]
    sockets = [instance / f"gunicorn-127.0.0.1-{port}.ctl" for port in ports]
    try:
        for port, path in zip(ports, sockets, strict=True):
            wait_for(lambda port=port, path=path: _healthz(port) and path.exists(), 60,
                     f"gunicorn on {port} with its control socket", logs)
        for master, port, path in zip(masters, ports, sockets, strict=True):
            with ControlClient(str(path), timeout=10) as control:
                assert control.send_command("show all")["arbiter"]["pid"] == master.pid
                assert [x["address"] for x in control.send_command("show listeners")["listeners"]] == [
                    f"http://127.0.0.1:{port}"]
        stop(masters[0])
        assert not sockets[0].exists() and sockets[1].exists()
        assert _healthz(ports[1])
        with ControlClient(str(sockets[1]), timeout=10) as control:
            assert control.send_command("show all")["arbiter"]["pid"] == masters[1].pid
    finally:
        stop(*masters)
        shutil.rmtree(instance, ignore_errors=True)
