"""Alembic's entry point: migrate the connection `bot.feedback.database.migrate` hands over."""

from __future__ import annotations

from alembic import context

from bot.feedback.schema import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError(
        "run migrations with bot.feedback.database.migrate (the bot does at start-up), "
        "which hands Alembic a connection"
    )
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
