"""Pending answers, their digits, and labelled samples.

Revision ID: 0001
Revises:
Create Date: 2025-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the three tables."""
    op.create_table(
        "answers",
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("message_id", sa.BigInteger(), nullable=False),
        sa.Column("token", sa.String(length=16), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("model_version", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("chat_id", "message_id", name="pk_answers"),
        sa.UniqueConstraint("token", name="uq_answers_token"),
    )
    op.create_index("ix_answers_user_id", "answers", ["user_id"])
    op.create_index("ix_answers_created_at", "answers", ["created_at"])
    op.create_table(
        "answer_digits",
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("message_id", sa.BigInteger(), nullable=False),
        sa.Column("position", sa.SmallInteger(), nullable=False),
        sa.Column("predicted", sa.SmallInteger(), nullable=False),
        sa.Column("grid", sa.LargeBinary(), nullable=False),
        sa.Column("crop", sa.LargeBinary(), nullable=True),
        sa.ForeignKeyConstraint(
            ["chat_id", "message_id"],
            ["answers.chat_id", "answers.message_id"],
            name="fk_answer_digits_chat_id_message_id_answers",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("chat_id", "message_id", "position", name="pk_answer_digits"),
    )
    op.create_table(
        "samples",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("answer_token", sa.String(length=16), nullable=False),
        sa.Column("position", sa.SmallInteger(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("grid", sa.LargeBinary(), nullable=False),
        sa.Column("predicted", sa.SmallInteger(), nullable=False),
        sa.Column("label", sa.SmallInteger(), nullable=False),
        sa.Column("model_version", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("crop", sa.LargeBinary(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_samples"),
        sa.UniqueConstraint("answer_token", "position", name="uq_samples_answer_token_position"),
    )
    op.create_index("ix_samples_user_id", "samples", ["user_id"])


def downgrade() -> None:
    """Drop the three tables."""
    op.drop_table("samples")
    op.drop_table("answer_digits")
    op.drop_table("answers")
