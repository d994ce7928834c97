"""Alembic environment: migrations run on the connection tracker.store.migrate hands over.

Run programmatically (tracker.store.migrate, `tracker db upgrade`); there is no alembic.ini.
"""

from alembic import context

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("tracker migrations run through tracker.store.migrate(engine), "
                       "or `tracker db upgrade`, which pass a connection")

context.configure(connection=connection, target_metadata=None, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
