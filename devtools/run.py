"""`portico run`: everything a development machine needs, in one command, stopped by Ctrl-C."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from types import ModuleType
from typing import Any

from flask import Flask
from sqlalchemy import select
from werkzeug.middleware.dispatcher import DispatcherMiddleware
from werkzeug.serving import run_simple

MAILBOX = "/_dev/mail"  # the development mailbox, mounted by this runner only
STOP_WITHIN = 2.0  # seconds the children get to stop before they are killed (Ctrl-C ends all within 5 s)


def _instance_path() -> Path:
    return Path(os.environ.get("PORTICO_INSTANCE") or Flask("portal").instance_path)


def _stop_on_sigterm(signum, frame):
    raise KeyboardInterrupt


def stop_children(processes: list[subprocess.Popen], within: float = STOP_WITHIN) -> None:
    """Ask every child to stop at once, kill whoever is still there after `within` seconds, and
    reap them all (no zombies)."""
    alive = [p for p in processes if p is not None and p.poll() is None]
    for p in alive:
        p.terminate()
    deadline = time.monotonic() + within
    for p in alive:
        try:
            p.wait(max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


class Children:
    """The children of `portico run` (worker and cron, and the embedded Redis it started): one that
    dies is started again, after a backoff (0.5 s doubling to 2 s, reset once it has run a while)
    and a line saying so. Services (objects with `start()` and `process`) are stopped by their owner."""

    def __init__(self, commands: dict[str, list[str]], services: dict[str, Any] | None = None) -> None:
        self.commands = commands
        self.services = services or {}
        self.processes: dict[str, subprocess.Popen] = {}
        self._started: dict[str, float] = {}
        self._failures = dict.fromkeys([*commands, *self.services], 0)
        self._due: dict[str, float] = {}
        self._stopping = threading.Event()
        self._lock = threading.Lock()  # the watcher never starts a child that stop() would miss
        self._watcher = threading.Thread(target=self._watch, name="portico-run-children", daemon=True)

    def start(self) -> Children:
        for name, service in self.services.items():  # already running: only watched from here on
            self.processes[name], self._started[name] = service.process, time.monotonic()
        for name in self.commands:
            self._spawn(name)
        self._watcher.start()
        return self

    def _spawn(self, name: str) -> None:
        if name in self.services:
            self.processes[name] = self.services[name].start().process
        else:
            self.processes[name] = subprocess.Popen(self.commands[name])
        self._started[name] = time.monotonic()

    def _watch(self) -> None:
        from portal.processes import BACKOFF, HEALTHY_AFTER

        while not self._stopping.wait(0.2):
            with self._lock:
                if self._stopping.is_set():
                    return
                now = time.monotonic()
                for name, process in self.processes.items():
                    if name in self._due:
                        if now >= self._due[name]:
                            del self._due[name]
                            try:
                                self._spawn(name)
                            except (OSError, RuntimeError) as exc:  # tried again at the next backoff
                                print(f"portico run: {name} could not start: {exc}", flush=True)
                                self._started[name] = now
                                continue
                            print(f"portico run: {name} started again (pid {self.processes[name].pid}).", flush=True)
                        continue
                    code = process.poll()
                    if code is None:
                        continue
                    if now - self._started[name] >= HEALTHY_AFTER:
                        self._failures[name] = 0
                    delay = BACKOFF.compute(self._failures[name])
                    self._failures[name] += 1
                    self._due[name] = now + delay
                    print(f"portico run: {name} exited (code {code}); starting it again in {delay:.1f} s.", flush=True)

    def stop(self, within: float = STOP_WITHIN) -> None:
        """Stop watching, then stop every child (see `stop_children`)."""
        self._stopping.set()
        with self._lock:
            stop_children([p for name, p in self.processes.items() if name not in self.services], within)


def try_lines(people: list[tuple[str, str, str]]) -> list[str]:
    """The banner's lines naming whom to sign in as in each portal, and why them."""
    why = {"Tenant": "a repair request open", "Owner": "approvals waiting", "Vendor": "a job to accept",
           "Guest": "a notice to answer and an insurance quote on the stay"}
    return [f"    {portal + ':':8} {email}  ({name}: {why[portal]})" for portal, name, email in people]


def serve(app: Flask, smtp=None) -> object:
    """The WSGI app the development server runs: Portico, plus the local SMTP server's mailbox."""
    from devtools.services import mailbox_app

    return DispatcherMiddleware(app, {MAILBOX: mailbox_app(smtp, MAILBOX)}) if smtp is not None else app


def run_everything(host: str, port: int, services: ModuleType) -> None:
    """Start Redis and SMTP (unless configured), migrate, load the demo, then web + worker."""
    from devtools import automation_demo, demo
    from portal import create_app, db, migrate
    from portal.agencies.models import Agency
    from portal.links import logs

    instance = _instance_path()
    instance.mkdir(parents=True, exist_ok=True)
    stack: list = []
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    # Ctrl-C stops everything even when a shell started us in the background (`make run &`), where
    # SIGINT arrives ignored and Python would leave it so.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    children = smtp = redis_server = None
    try:
        if not os.environ.get("REDIS_URL"):
            redis_server = services.EmbeddedRedis(instance / "redis.sock", persist=True).start()
            stack.append(redis_server)
            os.environ["REDIS_URL"] = redis_server.url
        if not os.environ.get("SMTP_URL"):
            smtp_port = 8025 if not services.port_in_use(8025) else services.free_port()
            smtp = services.LocalSMTP(smtp_port, echo=True, store=instance / "mailbox").start()
            stack.append(smtp)
            os.environ["SMTP_URL"] = smtp.url
        if services.port_in_use(port):
            port = services.free_port()
        os.environ.setdefault("BASE_URL", f"http://{host}:{port}")

        app = create_app()
        with app.app_context():
            migrate.upgrade()
            migrate.upgrade_agencies()
            if db.session.scalar(select(Agency.id).limit(1)) is None:
                with db.transaction():
                    email, password = demo.load()
                    automation_demo.load(db.session.info["agency_id"])
                demo.remember_credentials(email, password)
                print("Loaded the demo agency.", flush=True)
            credentials = demo.read_credentials()
            people = demo.people_to_try()
            api_key = demo.api_key()
        children = Children({name: [sys.executable, "-m", "portal.cli", name] for name in ("worker", "cron")},
                            services={"redis": redis_server} if redis_server is not None else None).start()

        url = os.environ["BASE_URL"]
        print("\n" + "=" * 64, flush=True)
        print(f"  Portico is running at {url}", flush=True)
        print(f"  Back office: {url}/manage/login", flush=True)
        if credentials:
            print(f"  Demo manager: {credentials[0]}  password: {credentials[1]}", flush=True)
        if smtp is not None:
            print(f"  Mailbox:     {url}{MAILBOX}  (development only: the mail as delivered, real links)", flush=True)
        else:
            print(f"  Mail goes to {os.environ['SMTP_URL']}", flush=True)
        print(f"  Portals:     {url}/costa-serena/  (sign in with any demo person's e-mail; the link", flush=True)
        print("               arrives in the mailbox)", flush=True)
        for line in try_lines(people):
            print(line, flush=True)
        if api_key:
            print(f"  API:         {url}/api/v1/openapi.json  (the demo agency's read-write key:)", flush=True)
            print(f"               curl -H 'Authorization: Bearer {api_key}' '{url}/api/v1/bookings?per_page=5'",
                  flush=True)
        print("  Press Ctrl-C to stop everything.", flush=True)
        print("=" * 64 + "\n", flush=True)
        logs.install("werkzeug")  # the access log prints every URL: never a link's token
        run_simple(host, port, serve(app, smtp), threaded=True, use_reloader=False, use_debugger=False)
    except KeyboardInterrupt:
        pass
    finally:
        # A second Ctrl-C (or a SIGTERM) must not cut the clean-up short: it is bounded anyway.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        if children is not None:
            children.stop()
        for service in reversed(stack):
            service.stop()
        print("Portico stopped.", flush=True)
    # Stopped as asked, everything reaped: skip the interpreter's own teardown, which (collecting
    # the whole app's heap) takes seconds on a busy machine and has nothing left to release.
    sys.stderr.flush()
    os._exit(0)
