"""failed questions attached to answers, for the next training run (issue 14 §5)

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30 06:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "training_examples",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=60), nullable=False),
        sa.Column("question", sa.String(length=200), nullable=False),
        sa.Column("answer_key", sa.String(length=120), nullable=False),
        sa.Column("exported_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["answer_key"],
            ["answers.key"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("question", "answer_key", name="uq_training_examples_question_answer"),
    )
    with op.batch_alter_table("training_examples", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_training_examples_answer_key"), ["answer_key"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("training_examples", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_training_examples_answer_key"))
    op.drop_table("training_examples")
