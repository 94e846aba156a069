"""Gunicorn reads this from the working directory: Portico's start-up checks run once in the master,
and each master gets its own control socket in the instance folder."""

import hashlib
import os
import re
import sys


def _control_socket_path(instance_path: str, addresses) -> str:
    """The master's control socket (for `gunicornc -s PATH`): in the instance folder and named after
    what it listens on, so two masters on one host (two ports, a blue/green switch) never share one;
    gunicorn's default is one path per user, which a second master takes over and a stopping one
    deletes."""
    listens = "_".join(f"{a[0]}-{a[1]}" if isinstance(a, tuple) else os.path.basename(str(a)) for a in addresses)
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", listens).strip("-") or "default"
    path = os.path.join(instance_path, f"gunicorn-{name}.ctl")
    if len(path.encode()) > 100:  # a unix socket path has ~107 bytes at most
        path = os.path.join(instance_path, f"gunicorn-{hashlib.sha256(name.encode()).hexdigest()[:12]}.ctl")
    return path


def on_starting(server) -> None:
    """Build the app once before any worker forks; a refusal stops gunicorn with exit code 2."""
    from portal import StartupError, create_app

    try:
        app = create_app()
    except StartupError as err:
        print(f"portico: cannot start: {err}", file=sys.stderr)
        sys.exit(2)  # as `portico` does; without this the master would report a worker failure (4)
    # Workers build their own app; the master keeps no database connection across the fork.
    app.extensions["db.engine"].dispose()
    # The control server starts after this hook; a --control-socket given on the command line wins.
    if server.cfg.control_socket == server.cfg.settings["control_socket"].default:
        server.cfg.set("control_socket", _control_socket_path(app.instance_path, server.cfg.address))
