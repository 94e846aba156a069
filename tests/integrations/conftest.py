"""A real HTTP server on loopback serving the .ics fixtures (and feeds that misbehave) to the sync."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"
DRIP = 100  # bytes /drip.ics sends, one every 0.2 s, unless the client hangs up


class FeedServer:
    """Serves `feeds[path]` (bytes); special paths misbehave. Tests change `feeds` to change a feed."""

    def __init__(self) -> None:
        self.feeds: dict[str, bytes] = {f"/{p.name}": p.read_bytes() for p in FIXTURES.glob("*.ics")}
        self.hits: dict[str, int] = {}
        self.release = threading.Event()  # the slow feed answers once the test is over
        self.dripped, self.drip_done = 0, threading.Event()  # bytes /drip.ics sent before the client left
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.hits[self.path] = server.hits.get(self.path, 0) + 1
                if self.path == "/error.ics":
                    self._answer(500, b"Internal Server Error", "text/plain")
                elif self.path == "/slow.ics":
                    server.release.wait(10)  # far past the test's timeout
                    self._answer(200, server.feeds["/airbnb.ics"])
                elif self.path == "/drip.ics":  # a byte at a time, each well within the read timeout
                    self.send_response(200)
                    self.send_header("Content-Type", "text/calendar")
                    self.end_headers()
                    with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                        for byte in server.feeds["/airbnb.ics"][:DRIP]:
                            self.wfile.write(bytes([byte]))
                            self.wfile.flush()
                            server.dripped += 1
                            if server.release.wait(0.2):
                                break
                    server.drip_done.set()
                elif self.path == "/junk.ics":
                    self._answer(200, b"\x00\xffjunk" * (10 * 1024 * 1024 // 6), "application/octet-stream",
                                 length=False)
                elif self.path == "/page.ics":
                    self._answer(200, b"<!DOCTYPE html><html><body>Sign in to see your calendar</body></html>",
                                 "text/html")
                elif self.path == "/moved.ics":
                    self.send_response(302)
                    self.send_header("Location", "/airbnb.ics")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                elif self.path.startswith("/redirect-to/"):  # to any address, e.g. another scheme's
                    self.send_response(302)
                    self.send_header("Location", self.path.removeprefix("/redirect-to/"))
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                elif self.path in server.feeds:
                    self._answer(200, server.feeds[self.path])
                else:
                    self._answer(404, b"Not Found", "text/plain")

            def _answer(self, status: int, body: bytes, kind: str = "text/calendar; charset=utf-8",
                        length: bool = True) -> None:
                self.send_response(status)
                self.send_header("Content-Type", kind)
                if length:
                    self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self.wfile.write(body)  # unless the client gave up (too large), as a channel's server sees it

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/{path.lstrip('/')}"

    def start(self) -> FeedServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.release.set()
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def feeds(app, monkeypatch) -> Iterator[FeedServer]:
    """The feed server, and an app that may read loopback feeds with short timeouts."""
    monkeypatch.setitem(app.config, "ICAL_PRIVATE_ADDRESSES", True)
    monkeypatch.setitem(app.config, "ICAL_CONNECT_TIMEOUT", 2)
    monkeypatch.setitem(app.config, "ICAL_READ_TIMEOUT", 2)
    server = FeedServer().start()
    yield server
    server.stop()
