"""`portico run` as a developer runs it, in a real subprocess: its development-only mailbox shows
the mail as delivered, its access log never prints a link's token, and Ctrl-C stops everything
(web, worker, scheduler, Redis) within 5 seconds, leaving no process behind (issue 9, items 2, 5, 16)."""

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from devtools.services import free_port

LINK = re.compile(r'href="(http://[^"]+/l/(pay~[^"]+))"')
ENV_NAMES = ("DATABASE_URL", "REDIS_URL", "SMTP_URL", "BASE_URL", "PORTICO_ENV", "SECRET_KEYS")


@pytest.fixture(scope="module")
def instance(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("devrun-instance")


def _start(instance: Path, log: Path, ignoring_sigint: bool = False) -> tuple[subprocess.Popen, str]:
    env = {k: v for k, v in os.environ.items() if k not in ENV_NAMES}
    port = free_port()
    with open(log, "wb") as out:  # a file, not a pipe: the runner never blocks on its own output
        runner = subprocess.Popen([sys.executable, "-m", "portal.cli", "run", "--port", str(port)],
                                  env={**env, "PORTICO_INSTANCE": str(instance)}, stdout=out,
                                  stderr=subprocess.STDOUT, start_new_session=True,  # its own group, like a job
                                  # `make run &` in a script: the shell starts it with Ctrl-C ignored
                                  preexec_fn=(lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))
                                  if ignoring_sigint else None)
    deadline = time.monotonic() + 240  # the first start migrates and loads the demo
    while "Press Ctrl-C" not in log.read_text(errors="replace"):
        assert runner.poll() is None, log.read_text(errors="replace")
        assert time.monotonic() < deadline, "portico run did not start"
        time.sleep(0.2)
    return runner, f"http://127.0.0.1:{port}"


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _stops_within(runner: subprocess.Popen, children: list[int], seconds: float, log: Path) -> None:
    started = time.monotonic()
    try:
        runner.wait(seconds)
    except subprocess.TimeoutExpired:
        os.killpg(runner.pid, signal.SIGKILL)
        runner.wait()
        pytest.fail(f"portico run still running {seconds} s after Ctrl-C:\n{log.read_text(errors='replace')[-3000:]}")
    left = time.monotonic() - started
    leftovers = [pid for pid in children if _alive(pid)]
    for pid in leftovers:
        os.kill(pid, signal.SIGKILL)
    assert not leftovers, f"processes left behind: {leftovers}"
    assert left <= seconds


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=20) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def test_dev_mailbox_shows_real_links_logs_hide_them_and_ctrl_c_stops_all(instance, tmp_path):
    log = tmp_path / "run.log"
    runner, url = _start(instance, log)
    try:
        children = _children(runner.pid)
        assert len(children) >= 3  # Redis, the worker and the scheduler
        # The demo's booking confirmations reach the local SMTP server; its mailbox shows them as delivered.
        deadline = time.monotonic() + 120
        while "Booking" not in (listing := _get(f"{url}/_dev/mail/")[1]):
            assert time.monotonic() < deadline, "no mail reached the development mailbox"
            time.sleep(0.5)
        number = re.search(r'href="/_dev/mail/(\d+)">Booking', listing).group(1)
        status, page = _get(f"{url}/_dev/mail/{number}")
        assert status == 200
        full_url, token = LINK.search(page).groups()
        assert _get(full_url)[0] == 200  # the real, working one-time link
        assert _get(f"{url}/l/pay~not.real")[0] == 404
        # The banner's curl example works as printed: the demo agency's read-write API key.
        key = re.search(r"Authorization: Bearer (ptc_\S+)'", log.read_text(errors="replace")).group(1)
        request = urllib.request.Request(f"{url}/api/v1/bookings?per_page=5",
                                         headers={"Authorization": f"Bearer {key}"})
        with urllib.request.urlopen(request, timeout=20) as r:
            assert len(json.load(r)["items"]) == 5
    finally:
        os.killpg(runner.pid, signal.SIGINT)  # Ctrl-C in a terminal reaches the whole job
    _stops_within(runner, children, 5, log)
    output = log.read_text(errors="replace")
    # The banner names whom to try in each portal (read from the database, so the e-mails are the demo's).
    for portal in ("Tenant", "Owner", "Vendor"):
        assert re.search(rf"^    {portal}: +\S+@\S+  \(", output, re.M), output[:3000]
    assert "/l/pay~[redacted]" in output  # the requests were logged...
    secret = token.split("~", 1)[1]
    assert secret not in output and "not.real" not in output  # ...without their tokens


def test_ctrl_c_stops_a_busy_worker_within_5_seconds(instance, tmp_path):
    from redis import Redis
    from rq import Queue

    log = tmp_path / "run.log"
    runner, _ = _start(instance, log)
    try:
        children = _children(runner.pid)
        queue = Queue("default", connection=Redis(unix_socket_path=str(instance / "redis.sock")))
        job = queue.enqueue(time.sleep, 60)  # a long job the worker is in the middle of
        deadline = time.monotonic() + 60
        while job.get_status(refresh=True) != "started":
            assert time.monotonic() < deadline, "the worker never started the job"
            time.sleep(0.2)
    finally:
        os.kill(runner.pid, signal.SIGINT)  # the runner alone is told (an IDE's stop button, kill -INT)
    _stops_within(runner, children, 5, log)


def test_the_app_itself_has_no_dev_mailbox(app):
    """Only the dev runner mounts the mailbox beside the app; wsgi.py (gunicorn) serves the app alone."""
    assert app.test_client().get("/_dev/mail/").status_code == 404
    assert not [r for r in app.url_map.iter_rules() if r.rule.startswith("/_dev")]


def test_the_dev_mailbox_keeps_mail_across_restarts(tmp_path):
    import smtplib
    from email.message import EmailMessage

    from werkzeug.test import Client

    from devtools.services import LocalSMTP, mailbox_app

    first = LocalSMTP(store=tmp_path).start()
    try:
        email = EmailMessage()
        email["From"], email["To"], email["Subject"] = "a@example.com", "Zoë <b@example.com>", "Grüße"
        email.set_content("Open https://example.com/l/pay~x.y")
        with smtplib.SMTP("127.0.0.1", first.port) as s:
            s.send_message(email, to_addrs=["b@example.com", "hidden@example.com"])
    finally:
        first.stop()
    again = LocalSMTP(store=tmp_path).start()  # a later `portico run`
    try:
        client = Client(mailbox_app(again, "/_dev/mail"))
        listing = client.get("/").get_data(as_text=True)
        page = client.get("/0").get_data(as_text=True)
        missing = client.get("/1").status_code
    finally:
        again.stop()
    assert "Grüße" in listing and "Zoë &lt;b@example.com&gt;" in listing
    assert '<a href="https://example.com/l/pay~x.y"' in page and "hidden@example.com" in page
    assert missing == 404


def test_tokens_are_redacted_from_gunicorn_and_flask_log_lines(app, caplog):
    import logging

    token = "pay~eyJpZCI6IkFiQyJ9.SiGnAtUrE_-x"
    with caplog.at_level(logging.INFO):
        logging.getLogger("gunicorn.access").info('%(h)s "%(r)s" %(s)s', {"h": "10.0.0.1",
                                                                         "r": f"GET /l/{token} HTTP/1.1", "s": 200})
        app.logger.error("Exception on /l/%s [POST]", token.replace("~", "%7E"))
    lines = [r.getMessage() for r in caplog.records]
    assert lines == ['10.0.0.1 "GET /l/pay~[redacted] HTTP/1.1" 200', "Exception on /l/pay~[redacted] [POST]"]


def test_the_dev_mailbox_sends_the_security_headers_too(tmp_path):
    """The mailbox shows real links: its pages get the same headers as Portico's, and framing is refused."""
    from werkzeug.test import Client

    from devtools.services import LocalSMTP, mailbox_app

    smtp = LocalSMTP(store=tmp_path).start()
    try:
        client = Client(mailbox_app(smtp, "/_dev/mail"))
        responses = [client.get("/"), client.get("/99")]
    finally:
        smtp.stop()
    assert [r.status_code for r in responses] == [200, 404]
    for response in responses:
        csp = response.headers.get("Content-Security-Policy", "")
        assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
        assert response.headers.get("X-Content-Type-Options") == "nosniff"
        assert response.headers.get("Referrer-Policy") == "no-referrer"
        assert response.headers.get("Cache-Control") == "no-store"


def test_ctrl_c_stops_it_even_when_started_in_the_background_of_a_script(instance, tmp_path):
    """A shell starts `cmd &` with SIGINT ignored; Python then keeps it ignored unless told. `portico run`
    still stops on SIGINT, instead of serving on with its worker and scheduler dead as zombies."""
    log = tmp_path / "run.log"
    runner, _ = _start(instance, log, ignoring_sigint=True)
    children = _children(runner.pid)
    os.killpg(runner.pid, signal.SIGINT)
    _stops_within(runner, children, 5, log)


def _child(runner_pid: int, command: str) -> int | None:
    """The runner's live child running `portal.cli <command>` (or its embedded redis-server), if any."""
    for pid in _children(runner_pid):
        try:
            argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        ours = b"redis-server" in argv[0] if command == "redis" else (
            b"portal.cli" in argv and command.encode() in argv)
        if _alive(pid) and ours:
            return pid
    return None


def test_a_worker_scheduler_or_redis_that_dies_is_started_again_and_ctrl_c_still_stops_all(instance, tmp_path):
    log = tmp_path / "run.log"
    runner, _ = _start(instance, log)
    replaced = {}
    try:
        for command in ("worker", "cron", "redis"):
            first = _child(runner.pid, command)
            assert first is not None, f"no {command} child"
            os.kill(first, signal.SIGKILL)
            deadline = time.monotonic() + 30
            while (again := _child(runner.pid, command)) in (None, first):
                assert runner.poll() is None and time.monotonic() < deadline, (
                    f"the {command} was not started again:\n{log.read_text(errors='replace')[-3000:]}")
                time.sleep(0.1)
            replaced[command] = again
            # The new process is there before the runner has seen it answer; Ctrl-C before then would
            # stop a start still under way, so wait for the runner to say it is up.
            while f"{command} started again (pid {again})" not in log.read_text(errors="replace"):
                assert runner.poll() is None and time.monotonic() < deadline, (
                    f"the {command} did not come up again:\n{log.read_text(errors='replace')[-3000:]}")
                time.sleep(0.1)
        children = _children(runner.pid)
    finally:
        os.killpg(runner.pid, signal.SIGINT)
    _stops_within(runner, children, 5, log)
    output = log.read_text(errors="replace")
    assert "portico run: worker exited (code -9); starting it again in" in output
    assert "portico run: cron exited (code -9); starting it again in" in output
    assert f"portico run: cron started again (pid {replaced['cron']})" in output
    assert f"portico run: redis started again (pid {replaced['redis']})" in output


def test_the_banner_names_a_demo_person_to_try_in_each_portal_who_has_something_waiting(app):
    from sqlalchemy import select

    from devtools import demo, run
    from portal import db
    from portal.cli import cli
    from portal.people.models import Person
    from tests.conftest import signed_in_client

    with app.app_context():
        assert demo.people_to_try() == [] and run.try_lines([]) == []  # no demo agency: the banner says nothing
    assert app.test_cli_runner().invoke(cli, ["demo"]).exit_code == 0
    with app.app_context():
        people = demo.people_to_try()
        lines = run.try_lines(people)
        ids = {portal: db.session.scalar(select(Person.id).where(Person.email == email))
               for portal, _, email in people}
    assert [portal for portal, _, _ in people] == ["Tenant", "Owner", "Vendor", "Guest"]
    for (portal, name, email), line in zip(people, lines, strict=True):
        assert line.startswith(f"    {portal}:") and email in line and name in line
    # Each one, signed in to their portal, finds what the banner promises.
    tenant_client = signed_in_client(app, ids["Tenant"])
    tenant = tenant_client.get("/costa-serena/tenant/requests").text
    assert "Kitchen tap drips" in tenant
    # ... and a violation notice (with its photo) and an insurance quote waiting on the home page.
    home = tenant_client.get("/costa-serena/tenant/").text
    assert "Violation notice: Noise: Quiet hours 22:00 to 08:00" in home
    assert "Insurance quote: Mapfre Hogar · Contents Cover Plus" in home and "96.00 EUR" in home
    owner = signed_in_client(app, ids["Owner"]).get("/costa-serena/owner/").text
    assert int(re.search(r'id="waiting-count"[^>]*>(\d+)<', owner).group(1)) >= 1
    vendor = signed_in_client(app, ids["Vendor"]).get("/costa-serena/vendor/").text
    assert "Washing machine leaks" in vendor.split('id="to-accept"', 1)[1]
    # The guest: the stay's smoking notice waiting for an answer, and its insurance quote, on the home page.
    guest = signed_in_client(app, ids["Guest"]).get("/costa-serena/guest/").text
    assert "Violation notice: Smoking: No smoking indoors" in guest
    assert "Insurance quote: Seguros Sol · Stay Protect" in guest
