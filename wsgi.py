"""WSGI entry point: `gunicorn wsgi:app`."""

import sys

from portal import StartupError, create_app

try:
    app = create_app()
except StartupError as err:
    print(f"portico: cannot start: {err}", file=sys.stderr)
    # 4 is gunicorn's "application failed to load": the master stops instead of respawning.
    sys.exit(4)
