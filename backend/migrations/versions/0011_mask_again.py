"""mask stored turn-log and feedback texts again with the normalising masking (issue 21 §4): numbers written
with dots, underscores, dashes, full-width digits or Chinese numerals and e-mail addresses like abc＠qq．com
were stored in clear before; a data migration, no schema change

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06 14:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from contracts.masking import mask

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

# (table, column, the length the store path cuts it to)
COLUMNS = (
    ("turn_log", "question", 1000),
    ("feedback", "question", 1000),
    ("feedback", "answer", 4000),
    ("feedback", "comment", 500),
)
BATCH = 1000


def upgrade() -> None:
    conn = op.get_bind()
    for table, column, limit in COLUMNS:
        t = sa.table(table, sa.column("id", sa.Integer), sa.column(column, sa.Text))
        last = 0
        while True:
            rows = conn.execute(
                sa.select(t.c.id, t.c[column]).where(t.c.id > last).order_by(t.c.id).limit(BATCH)
            ).all()
            if not rows:
                break
            last = rows[-1][0]
            for rid, value in rows:
                if value and mask(value, limit) != value:
                    conn.execute(sa.update(t).where(t.c.id == rid).values({column: mask(value, limit)}))


def downgrade() -> None:
    pass  # masked text cannot be unmasked
