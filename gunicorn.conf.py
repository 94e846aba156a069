"""Gunicorn reads this from the working directory: Portico's start-up checks run once in the master."""

import sys


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
