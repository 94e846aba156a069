"""Shared by the benchmarks: a scratch database and Redis, gunicorn servers, and wrk."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from devtools.services import EmbeddedRedis, free_port  # noqa: E402

WORKERS = int(os.environ.get("BENCH_WORKERS", "2"))
DURATION = os.environ.get("BENCH_DURATION", "8s")
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "16"))


@contextmanager
def scratch():
    """A temporary instance folder with its own Redis; yields the environment for servers."""
    if not shutil.which("wrk"):
        raise SystemExit("wrk is needed for the benchmarks (Debian: apt-get install wrk)")
    tmp = Path(tempfile.mkdtemp(prefix="portico-bench-"))
    redis = EmbeddedRedis(tmp / "redis.sock").start()
    env = {
        **os.environ,
        "PORTICO_INSTANCE": str(tmp),
        "DATABASE_URL": os.environ.get("DATABASE_URL") or f"sqlite:///{tmp / 'bench.db'}",
        "REDIS_URL": redis.url,
        "SMTP_URL": f"smtp://127.0.0.1:{free_port()}",  # nothing listens: mail stays queued
        "SECRET_KEYS": "bench-" + "k" * 48,
        "PORTICO_ENV": "production",
        # Production refuses a plain-http BASE_URL: as behind a TLS proxy, links say https while
        # the benchmark talks plain HTTP to the process on loopback.
        "BASE_URL": "https://127.0.0.1:5000",
    }
    try:
        yield env
    finally:
        redis.stop()
        shutil.rmtree(tmp, ignore_errors=True)


@contextmanager
def gunicorn(target: str, env: dict[str, str]):
    """Serve `target` (module:app) with gunicorn; yields its base URL."""
    port = free_port()
    env = {**env, "BASE_URL": f"https://127.0.0.1:{port}"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--workers", str(WORKERS), "--bind", f"127.0.0.1:{port}",
         "--log-level", "warning", target],
        cwd=ROOT, env=env,
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            urllib.request.urlopen(f"{base}/healthz" if target == "wsgi:app" else base, timeout=1).close()
            break
        except urllib.error.HTTPError:
            break  # it answers
        except OSError:
            time.sleep(0.05)
    try:
        yield base
    finally:
        proc.terminate()
        proc.wait(10)


def wrk(url: str, script: str | None = None) -> dict[str, float]:
    """Load `url` with wrk; requests per second, p99 latency in ms and non-2xx count."""
    args = ["wrk", "-t2", f"-c{CONNECTIONS}", f"-d{DURATION}", "--latency"]
    if script:
        args += ["-s", script]
    out = subprocess.run([*args, url], capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", out)
    scale = {"us": 0.001, "ms": 1, "s": 1000}[p99.group(2)]
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    total = int(re.search(r"(\d+) requests in", out).group(1))
    return {"rps": rps, "p99_ms": float(p99.group(1)) * scale, "non_2xx": int(bad.group(1)) if bad else 0,
            "requests": total}
