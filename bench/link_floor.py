"""How close can any link GET get to the bare page? Serves bench/floor_app.py (Core SQL, tiny
template) with and without the per-open audit INSERT, next to Portico's own link GET.

Run: .venv/bin/python bench/link_floor.py"""

from __future__ import annotations

import subprocess
import sys

from _harness import ROOT, gunicorn, scratch, wrk
from links import SETUP


def main() -> None:
    with scratch() as env:
        out = subprocess.run([sys.executable, "-c", SETUP, "1"], cwd=ROOT, env=env, capture_output=True,
                             text=True, check=True).stdout.splitlines()
        token = out[0].split()[1]
        with gunicorn("bench.bare:app", env) as base:
            bare = wrk(base + "/")["rps"]
        with gunicorn("bench.floor_app:app", {**env, "FLOOR_AUDIT": "0"}) as base:
            floor_no_audit = wrk(f"{base}/l/{token}")["rps"]
        with gunicorn("bench.floor_app:app", env) as base:
            floor = wrk(f"{base}/l/{token}")["rps"]
        with gunicorn("wsgi:app", env) as base:
            portico = wrk(f"{base}/l/{token}")["rps"]
    print(f"bare one-select page:                     {bare:8.0f} req/s")
    print(f"floor link GET, no audit write:           {floor_no_audit:8.0f} req/s  ratio {floor_no_audit / bare:.2f}")
    print(f"floor link GET, with the audit INSERT:    {floor:8.0f} req/s  ratio {floor / bare:.2f}")
    print(f"Portico link GET (ORM, page, audit):      {portico:8.0f} req/s  ratio {portico / bare:.2f}")


if __name__ == "__main__":
    main()
