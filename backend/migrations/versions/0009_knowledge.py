"""the knowledge base staff grow without a developer (issue 20 §2): entries and their versions

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 14:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "knowledge_entries",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("questions", sa.JSON(), nullable=False),
        sa.Column("answer", sa.Text(), nullable=False),
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.Column("retired", sa.Boolean(), nullable=False),
        sa.Column("seed_key", sa.String(length=60), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=60), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=60), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("seed_key"),
    )
    with op.batch_alter_table("knowledge_entries", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_knowledge_entries_retired"), ["retired"], unique=False)
    op.create_table(
        "knowledge_versions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("questions", sa.JSON(), nullable=False),
        sa.Column("answer", sa.Text(), nullable=False),
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.Column("retired", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("author_role", sa.String(length=20), nullable=False),
        sa.Column("author_id", sa.String(length=60), nullable=False),
        sa.Column("note", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["knowledge_entries.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("entry_id", "version", name="uq_knowledge_versions_entry_version"),
    )
    with op.batch_alter_table("knowledge_versions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_knowledge_versions_entry_id"), ["entry_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("knowledge_versions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_knowledge_versions_entry_id"))
    op.drop_table("knowledge_versions")
    with op.batch_alter_table("knowledge_entries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_knowledge_entries_retired"))
    op.drop_table("knowledge_entries")
