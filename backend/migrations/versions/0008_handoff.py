"""a person in the chat (issue 15 §2): handoff sessions (queue, held conversation, office-hours tickets) and
their messages with WeChat delivery state

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30 08:50:45.901017
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "handoff_sessions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("conversation", sa.String(length=80), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("open_key", sa.String(length=80), nullable=True),
        sa.Column("student_id", sa.String(length=20), nullable=True),
        sa.Column("college_code", sa.String(length=40), nullable=True),
        sa.Column("secret_hash", sa.String(length=64), nullable=True),
        sa.Column("staff_id", sa.String(length=60), nullable=True),
        sa.Column("staff_name", sa.String(length=50), nullable=True),
        sa.Column("transcript", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("taken_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_by", sa.String(length=60), nullable=True),
        sa.ForeignKeyConstraint(
            ["student_id"],
            ["students.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("open_key"),
        sa.UniqueConstraint("secret_hash"),
    )
    with op.batch_alter_table("handoff_sessions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_handoff_sessions_college_code"), ["college_code"], unique=False)
        batch_op.create_index(batch_op.f("ix_handoff_sessions_conversation"), ["conversation"], unique=False)
        batch_op.create_index(batch_op.f("ix_handoff_sessions_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_handoff_sessions_state"), ["state"], unique=False)
        batch_op.create_index(batch_op.f("ix_handoff_sessions_student_id"), ["student_id"], unique=False)

    op.create_table(
        "handoff_messages",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sender", sa.String(length=10), nullable=False),
        sa.Column("staff_id", sa.String(length=60), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("wechat_state", sa.String(length=20), nullable=False),
        sa.Column("wechat_claimed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("wechat_claimed_by", sa.String(length=80), nullable=True),
        sa.Column("wechat_attempts", sa.Integer(), nullable=False),
        sa.Column("wechat_next_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("wechat_error", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["handoff_sessions.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("handoff_messages", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_handoff_messages_session_id"), ["session_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_handoff_messages_wechat_state"), ["wechat_state"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("handoff_messages", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_handoff_messages_wechat_state"))
        batch_op.drop_index(batch_op.f("ix_handoff_messages_session_id"))

    op.drop_table("handoff_messages")
    with op.batch_alter_table("handoff_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_handoff_sessions_student_id"))
        batch_op.drop_index(batch_op.f("ix_handoff_sessions_state"))
        batch_op.drop_index(batch_op.f("ix_handoff_sessions_created_at"))
        batch_op.drop_index(batch_op.f("ix_handoff_sessions_conversation"))
        batch_op.drop_index(batch_op.f("ix_handoff_sessions_college_code"))

    op.drop_table("handoff_sessions")
