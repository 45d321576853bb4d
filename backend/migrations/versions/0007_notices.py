"""notices when a student's case moves (issue 15 §1): one per (student, event key); WeChat delivery state,
students' WeChat on/off, the last inbound WeChat message per openid (48-hour window), staff deadlines

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30 06:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "notice_deadlines",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("title", sa.String(length=100), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("audience", sa.String(length=40), nullable=False),
        sa.Column("college_code", sa.String(length=40), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=60), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "wechat_inbound",
        sa.Column("openid", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("openid"),
    )
    op.create_table(
        "notice_settings",
        sa.Column("student_id", sa.String(length=20), nullable=False),
        sa.Column("wechat_enabled", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["student_id"],
            ["students.id"],
        ),
        sa.PrimaryKeyConstraint("student_id"),
    )
    op.create_table(
        "notices",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("student_id", sa.String(length=20), nullable=False),
        sa.Column("event_key", sa.String(length=120), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("title", sa.String(length=100), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("wechat_state", sa.String(length=20), nullable=False),
        sa.Column("wechat_via", sa.String(length=20), nullable=True),
        sa.Column("wechat_claimed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("wechat_claimed_by", sa.String(length=80), nullable=True),
        sa.Column("wechat_attempts", sa.Integer(), nullable=False),
        sa.Column("wechat_next_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("wechat_error", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(
            ["student_id"],
            ["students.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("student_id", "event_key", name="uq_notices_student_event"),
    )
    with op.batch_alter_table("notices", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_notices_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_notices_student_id"), ["student_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_notices_wechat_state"), ["wechat_state"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("notices", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_notices_wechat_state"))
        batch_op.drop_index(batch_op.f("ix_notices_student_id"))
        batch_op.drop_index(batch_op.f("ix_notices_created_at"))

    op.drop_table("notices")
    op.drop_table("notice_settings")
    op.drop_table("wechat_inbound")
    op.drop_table("notice_deadlines")
