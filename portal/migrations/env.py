"""Alembic environment: runs on the app's engine, against every model's metadata."""

from alembic import context

import automation.models  # noqa: F401  (automation's tables: the core does not import them)
from portal.models import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    engine = config.attributes["engine"]
    with engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            # A batch migration rebuilds a table (copy, DROP, rename). With foreign keys on, that DROP
            # cascades to (or is refused by) every row that references the table, so SQLite's own
            # procedure for altering a table is followed: keys off outside the transaction, the
            # references checked before the commit, keys back on before the connection returns to the pool.
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
        try:
            context.configure(
                connection=connection,
                target_metadata=target_metadata,
                render_as_batch=sqlite,
                compare_type=True,
                user_module_prefix="portal.types.",
            )
            with context.begin_transaction():
                context.run_migrations()
                if sqlite:
                    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                    if broken:
                        raise RuntimeError(f"the migration left rows naming missing rows: {broken[:5]}")
            connection.commit()
        finally:
            if sqlite:
                connection.rollback()  # nothing is open after the commit; after a failure, nothing is kept
                connection.exec_driver_sql("PRAGMA foreign_keys=ON")


if context.is_offline_mode():
    raise SystemExit("offline migrations are not supported; run `portico db upgrade`")
run_migrations_online()
