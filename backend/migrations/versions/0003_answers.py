"""answers staff edit without retraining (issue 14): answers and their versions

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30 06:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "answers",
        sa.Column("key", sa.String(length=120), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("variations", sa.JSON(), nullable=False),
        sa.Column("source", sa.String(length=200), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=60), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_table(
        "answer_versions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("answer_key", sa.String(length=120), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("variations", sa.JSON(), nullable=False),
        sa.Column("source", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("author_role", sa.String(length=20), nullable=False),
        sa.Column("author_id", sa.String(length=60), nullable=False),
        sa.Column("note", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["answer_key"],
            ["answers.key"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("answer_key", "version", name="uq_answer_versions_key_version"),
    )
    with op.batch_alter_table("answer_versions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_answer_versions_answer_key"), ["answer_key"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("answer_versions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_answer_versions_answer_key"))
    op.drop_table("answer_versions")
    op.drop_table("answers")
