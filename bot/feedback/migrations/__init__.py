"""Alembic migrations of the feedback database; `bot.feedback.database.migrate` runs them."""
