"""Fault injection on real parts: an SMTP server that can be stopped, started again on its port, made
slow or made to lose its client mid-message; Portico's own processes (gunicorn with gunicorn.conf.py,
`portico worker`, `portico cron`) started as deployed; and a small HTTP client that talks to them.
Redis is services.EmbeddedRedis(data_dir=..., appendonly=True): stopped and started again on the
same socket, with its data. Process environment and stopping come from tests/procs.py."""

from __future__ import annotations

import asyncio
import http.cookiejar
import os
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

from devtools.services import LocalSMTP, _Inbox
from tests.conftest import csrf_token
from tests.procs import stop as stop_processes

ROOT = Path(__file__).resolve().parent.parent


# -- the SMTP server -------------------------------------------------------------------------

class _FaultyInbox(_Inbox):
    """The dev server's inbox, with faults: `on_data(peer_port, message)` is called when a message's
    data has come in, and the message is kept (accepted) unless it returns False; when slow, the
    server then waits `delay` seconds before answering 250, the window in which a killed client
    cannot know that the server already has its message."""

    def __init__(self) -> None:
        super().__init__(echo=False)
        self.delay = 0.0
        self.on_data: Callable[[int, EmailMessage], bool] | None = None

    async def handle_DATA(self, server, session, envelope):
        if self.on_data is not None:
            message = message_from_bytes(envelope.content, policy=policy.default)
            if self.on_data(session.peer[1], message) is False:
                return "451 4.3.0 Not accepted, try again later"
        reply = await super().handle_DATA(server, session, envelope)
        if self.delay:
            await asyncio.sleep(self.delay)
        return reply


class Sink(LocalSMTP):
    """The real SMTP server (aiosmtpd) on a fixed loopback port: `stop()` and `start()` again
    (connections are refused meanwhile); `inbox.delay` and `inbox.on_data` for the faults above."""

    def __init__(self) -> None:
        super().__init__()
        self.controller.loop.close()  # LocalSMTP's, never started: start() builds one on the faulty inbox
        self.inbox = _FaultyInbox()
        self.running = False

    def start(self) -> Sink:
        super().start()
        self.running = True
        return self

    def stop(self) -> None:
        """Stop listening (a no-op when stopped already, as after a test that failed mid-outage)."""
        if self.running:
            super().stop()
            self.running = False

    def by_mail(self) -> dict[tuple[str, str], list[str]]:
        """Every Message-ID received, per logical mail: (To, Subject)."""
        got: dict[tuple[str, str], list[str]] = {}
        for m in self.messages:
            got.setdefault((str(m["To"]), str(m["Subject"])), []).append(str(m["Message-ID"]))
        return got

    def counts(self) -> Counter:
        """How many times each logical mail (To, Subject) arrived."""
        return Counter({key: len(ids) for key, ids in self.by_mail().items()})


# -- Portico's processes -----------------------------------------------------------------------

class Fleet:
    """Portico's processes on one environment, each logged to a file, all stopped at the end."""

    def __init__(self, env: dict[str, str], logdir: Path) -> None:
        self.env, self.logdir = env, logdir
        self.procs: dict[str, subprocess.Popen] = {}

    def start(self, name: str, *args: str) -> subprocess.Popen:
        """Start `portico *args` (worker, cron) under `name`."""
        return self._popen(name, [sys.executable, "-m", "portal.cli", *args])

    def web(self, port: int, workers: int = 2) -> str:
        """gunicorn with the repository's gunicorn.conf.py on 127.0.0.1:port; its base URL once it answers."""
        self._popen("web", [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "gunicorn.conf.py"), "--bind",
                            f"127.0.0.1:{port}", "--workers", str(workers), "wsgi:app"])
        base = f"http://127.0.0.1:{port}"
        self.wait(lambda: _answers(f"{base}/healthz"), 60, "gunicorn to answer")
        return base

    def _popen(self, name: str, argv: list[str]) -> subprocess.Popen:
        with open(self.logdir / f"{name}.log", "ab") as log:
            proc = subprocess.Popen(argv, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT)
        self.procs[name] = proc
        return proc

    def dead(self) -> list[str]:
        """The processes that have exited (none should, unless a test killed it)."""
        return [name for name, p in self.procs.items() if p.poll() is not None]

    def wait(self, condition: Callable[[], bool], seconds: float, what: str | Callable[[], str],
             allow_dead: tuple[str, ...] = ()) -> None:
        """Poll `condition` until true; fail with the processes' logs if it is not within `seconds`
        or if a process exits meanwhile (nobody restarts them here). `what` may be worked out at the end."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if condition():
                return
            dead = [n for n in self.dead() if n not in allow_dead]
            if dead:
                raise AssertionError(f"{', '.join(dead)} exited while waiting for {_say(what)}\n{self.tail()}")
            time.sleep(0.2)
        raise AssertionError(f"timed out waiting for {_say(what)}\n{self.tail()}")

    def stop(self) -> None:
        stop_processes(*self.procs.values())

    def tail(self, lines: int = 25) -> str:
        out = []
        for name in self.procs:
            path = self.logdir / f"{name}.log"
            text = path.read_text(errors="replace").splitlines()[-lines:] if path.exists() else []
            out.append(f"--- {name}.log\n" + "\n".join(text))
        return "\n".join(out)


def _say(what: str | Callable[[], str]) -> str:
    return what if isinstance(what, str) else what()


def _answers(url: str) -> bool:
    try:
        urllib.request.urlopen(url, timeout=2).close()
    except urllib.error.HTTPError as answer:
        answer.close()
        return True
    except OSError:
        return False
    return True


def pid_of_local_port(port: int, pids: list[int]) -> int | None:
    """Which of `pids` owns the TCP socket whose local port is `port` (the SMTP client behind a session)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as rows:
            for row in list(rows)[1:]:
                fields = row.split()
                if int(fields[1].rsplit(":", 1)[1], 16) == port:
                    inodes.add(f"socket:[{fields[9]}]")
    for pid in pids:
        try:
            fds = os.listdir(f"/proc/{pid}/fd")
        except OSError:
            continue
        for fd in fds:
            try:
                if os.readlink(f"/proc/{pid}/fd/{fd}") in inodes:
                    return pid
            except OSError:
                continue
    return None


# -- HTTP ------------------------------------------------------------------------------------

@dataclass
class Answer:
    status: int
    text: str
    location: str | None


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class Browser:
    """A person's browser, minus the rendering: cookies kept, redirects not followed."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), _NoRedirect)

    def get(self, path: str) -> Answer:
        return self._open(urllib.request.Request(self.base + path))

    def post(self, path: str, form_page: str | None = None, **data: str) -> Answer:
        """POST a form with the CSRF token of `form_page` (the path itself unless given)."""
        page = self.get(form_page or path)
        assert page.status == 200, f"GET {form_page or path}: {page.status}"
        body = urllib.parse.urlencode({"csrf_token": csrf_token(page.text), **data}).encode()
        return self._open(urllib.request.Request(self.base + path, data=body, method="POST"))

    def _open(self, request: urllib.request.Request) -> Answer:
        try:
            with self.opener.open(request, timeout=60) as r:
                return Answer(r.status, r.read().decode(errors="replace"), r.headers.get("Location"))
        except urllib.error.HTTPError as r:
            with r:
                return Answer(r.code, r.read().decode(errors="replace"), r.headers.get("Location"))

