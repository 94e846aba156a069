"""Helpers for tests that run Portico's real processes (`python -m portal.cli worker|cron|run`,
gunicorn) and take their dependencies away: spawn with the test app's settings and a log file,
stop, wait for a condition with a deadline, a Redis that can be stopped and started again, and a
TCP port forward that can be cut and restored (a database that goes away and comes back)."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

from devtools.services import EmbeddedRedis
from tests.conftest import TEST_KEY


def restartable_redis(folder: Path) -> EmbeddedRedis:
    """A started Redis of a test's own (its socket and data in `folder`), persisting as production
    should: `stop()` then `start()` brings it back with its data, the session's Redis untouched."""
    return EmbeddedRedis(folder / "redis.sock", persist=True, data_dir=folder / "redis-data").start()


def env(app, **extra: str) -> dict[str, str]:
    """The environment a process needs to run on the test app's database, Redis and SMTP server."""
    return {**os.environ, "DATABASE_URL": app.config["DATABASE_URL"], "REDIS_URL": app.config["REDIS_URL"],
            "SMTP_URL": app.config["SMTP_URL"], "SECRET_KEYS": TEST_KEY, "BASE_URL": app.config["BASE_URL"],
            "PORTICO_INSTANCE": os.environ["PORTICO_INSTANCE"], "PORTICO_ENV": "development", **extra}


def spawn(app, *args: str, log: Path, **extra: str) -> subprocess.Popen:
    """`python -m portal.cli *args`, its output (stdout and stderr) written to `log`."""
    with open(log, "ab") as out:  # a file, not a pipe: the process never blocks on its own output
        return subprocess.Popen([sys.executable, "-m", "portal.cli", *args], env=env(app, **extra),
                                stdout=out, stderr=subprocess.STDOUT)


def stop(*processes: subprocess.Popen) -> None:
    """SIGTERM each process; SIGKILL whoever is still there after 10 s."""
    for p in processes:
        if p.poll() is None:
            p.terminate()
    for p in processes:
        try:
            p.wait(10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def wait_for(condition: Callable[[], object], seconds: float, what: str, logs: tuple[Path, ...] = ()) -> None:
    """Poll `condition` until it holds; fail naming `what` (with the tail of `logs`) at the deadline."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            tails = "\n".join(f"--- {p.name}\n{p.read_text(errors='replace')[-2000:]}" for p in logs if p.exists())
            raise AssertionError(f"timed out waiting for {what}\n{tails}")
        time.sleep(0.1)


class TcpForward:
    """A loopback port forwarding to `target` (host, port) while `up`: `cut()` closes the listener and
    every open connection (the database is unreachable), `restore()` listens again on the same port."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self._listener: socket.socket | None = None
        self._open: list[socket.socket] = []
        self._lock = threading.Lock()

    def restore(self) -> TcpForward:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(16)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()
        return self

    def cut(self) -> None:
        with self._lock:
            listener, self._listener = self._listener, None
            doomed, self._open = self._open, []
        for s in [listener, *doomed]:
            if s is not None:
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)
                s.close()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            with self._lock:
                self._open += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for s in (source, sink):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)
