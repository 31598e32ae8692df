"""Alembic environment: migrations run on the connection `app.storage.migrate` hands over,
or on `sqlalchemy.url` when the `alembic` command line is used directly."""

from __future__ import annotations

from alembic import context

from app.storage.migrate import run_on

config = context.config
connection = config.attributes.get("connection")
if connection is None:
    from app.storage.database import make_engine

    engine = make_engine(config.get_main_option("sqlalchemy.url") or "")
    with engine.connect() as connection:
        run_on(context, connection)
        connection.commit()
    engine.dispose()
else:
    run_on(context, connection)
