"""Learning from the bot's users: corrections under each answer, kept in a database.

The database layer is SQLAlchemy Core with Alembic migrations (in `migrations/`, run at
start-up); `store` holds every query, `keyboard` the buttons and their callback data, and
`handlers` the Telegram side. The training side lives in `training.feedback_training`, which takes
plain arrays.
"""
