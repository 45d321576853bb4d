"""what students ask and their feedback (issue 14 §3, §4): turn_log, feedback

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30 06:25:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "turn_log",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("conversation", sa.String(length=80), nullable=False),
        sa.Column("student_id", sa.String(length=20), nullable=True),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("intent", sa.String(length=80), nullable=True),
        sa.Column("confidence", sa.Float(), nullable=True),
        sa.Column("answer_key", sa.String(length=120), nullable=True),
        sa.Column("fallback", sa.Boolean(), nullable=False),
        sa.Column("handoff", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("turn_log", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_turn_log_at"), ["at"], unique=False)
        batch_op.create_index(batch_op.f("ix_turn_log_student_id"), ["student_id"], unique=False)

    op.create_table(
        "feedback",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("conversation", sa.String(length=80), nullable=False),
        sa.Column("message_id", sa.String(length=64), nullable=False),
        sa.Column("student_id", sa.String(length=20), nullable=True),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("answer", sa.Text(), nullable=False),
        sa.Column("answer_key", sa.String(length=120), nullable=True),
        sa.Column("rating", sa.String(length=4), nullable=False),
        sa.Column("reason", sa.String(length=20), nullable=True),
        sa.Column("comment", sa.String(length=500), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("channel", "conversation", "message_id", name="uq_feedback_message"),
    )
    with op.batch_alter_table("feedback", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_feedback_at"), ["at"], unique=False)
        batch_op.create_index(batch_op.f("ix_feedback_student_id"), ["student_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("feedback", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_feedback_student_id"))
        batch_op.drop_index(batch_op.f("ix_feedback_at"))
    op.drop_table("feedback")
    with op.batch_alter_table("turn_log", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_turn_log_student_id"))
        batch_op.drop_index(batch_op.f("ix_turn_log_at"))
    op.drop_table("turn_log")
