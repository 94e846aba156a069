"""`portico run`: everything a development machine needs, in one command, stopped by Ctrl-C."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from types import ModuleType

from flask import Flask
from sqlalchemy import select
from werkzeug.serving import run_simple


def _instance_path() -> Path:
    return Path(os.environ.get("PORTICO_INSTANCE") or Flask("portal").instance_path)


def _stop_on_sigterm(signum, frame):
    raise KeyboardInterrupt


def run_everything(host: str, port: int, devservices: ModuleType) -> None:
    """Start Redis and SMTP (unless configured), migrate, load the demo, then web + worker."""
    from automation import demo as automation_demo
    from portal import create_app, db, demo, migrate
    from portal.agencies.models import Agency

    instance = _instance_path()
    instance.mkdir(parents=True, exist_ok=True)
    stack: list = []
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    worker = cron = None
    try:
        if not os.environ.get("REDIS_URL"):
            redis = devservices.EmbeddedRedis(instance / "redis.sock", persist=True).start()
            stack.append(redis)
            os.environ["REDIS_URL"] = redis.url
        if not os.environ.get("SMTP_URL"):
            smtp_port = 8025 if not devservices.port_in_use(8025) else devservices.free_port()
            smtp = devservices.LocalSMTP(smtp_port, echo=True).start()
            stack.append(smtp)
            os.environ["SMTP_URL"] = smtp.url
        if devservices.port_in_use(port):
            port = devservices.free_port()
        os.environ.setdefault("BASE_URL", f"http://{host}:{port}")

        app = create_app()
        with app.app_context():
            migrate.upgrade()
            if db.session.scalar(select(Agency.id).limit(1)) is None:
                email, password = demo.load()
                automation_demo.load(db.session.info["agency_id"])
                db.session.commit()
                demo.remember_credentials(email, password)
                print("Loaded the demo agency.", flush=True)
            credentials = demo.read_credentials()
        worker = subprocess.Popen([sys.executable, "-m", "portal.cli", "worker"])
        cron = subprocess.Popen([sys.executable, "-m", "portal.cli", "cron"])

        url = os.environ["BASE_URL"]
        print("\n" + "=" * 64, flush=True)
        print(f"  Portico is running at {url}", flush=True)
        print(f"  Back office: {url}/manage/login", flush=True)
        if credentials:
            print(f"  Demo manager: {credentials[0]}  password: {credentials[1]}", flush=True)
        print(f"  Sent mail:   {url}/manage/mail  (SMTP at {os.environ['SMTP_URL']})", flush=True)
        print(f"  Portals:     {url}/costa-serena/  (sign in with any demo person's e-mail; the link", flush=True)
        print("               arrives under Sent mail)", flush=True)
        print("  Press Ctrl-C to stop everything.", flush=True)
        print("=" * 64 + "\n", flush=True)
        run_simple(host, port, app, threaded=True, use_reloader=False, use_debugger=False)
    except KeyboardInterrupt:
        pass
    finally:
        for process in (worker, cron):
            if process is not None and process.poll() is None:
                process.terminate()
                try:
                    process.wait(10)
                except subprocess.TimeoutExpired:
                    process.kill()
        for service in reversed(stack):
            service.stop()
        print("Portico stopped.", flush=True)
