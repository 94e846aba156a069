"""WSGI entry point: `gunicorn wsgi:app`."""

import sys

from portal import StartupError, create_app

try:
    app = create_app()
except StartupError as err:
    print(f"portico: cannot start: {err}", file=sys.stderr)
    sys.exit(2)
