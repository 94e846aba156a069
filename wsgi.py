"""WSGI entry point: `gunicorn wsgi:app`."""

import sys

from portal import StartupError, create_app

try:
    app = create_app()
except StartupError as err:
    print(f"portico: cannot start: {err}", file=sys.stderr)
    # gunicorn.conf.py has normally refused already (exit 2) in the master. Should a worker still
    # fail (gunicorn run without that file), 4 is gunicorn's "application failed to load": the
    # master stops instead of respawning; any other server sees the usual exit code 2.
    sys.exit(4 if "gunicorn" in sys.modules else 2)
