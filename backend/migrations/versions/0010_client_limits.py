"""limits per client (issue 21 §1, §5): a keyed hash of the client address on handoff sessions and feedback
rows, so the per-address limits are counted in the database (shared by every backend process)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06 14:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("handoff_sessions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("client_hash", sa.String(length=32), nullable=True))
        batch_op.create_index(
            "ix_handoff_sessions_client_created", ["client_hash", "created_at"], unique=False
        )
    with op.batch_alter_table("feedback", schema=None) as batch_op:
        batch_op.add_column(sa.Column("client_hash", sa.String(length=32), nullable=True))
        batch_op.create_index("ix_feedback_client_at", ["client_hash", "at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("feedback", schema=None) as batch_op:
        batch_op.drop_index("ix_feedback_client_at")
        batch_op.drop_column("client_hash")
    with op.batch_alter_table("handoff_sessions", schema=None) as batch_op:
        batch_op.drop_index("ix_handoff_sessions_client_created")
        batch_op.drop_column("client_hash")
