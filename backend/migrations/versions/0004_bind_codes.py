"""WeChat binding codes: 8 characters of Crockford base32, unique; voided/used markers; failed guesses log

Existing codes (6 digits, valid for 10 minutes) are deleted: a student simply asks for a new one.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30 06:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("DELETE FROM wechat_bind_codes")
    with op.batch_alter_table("wechat_bind_codes", schema=None) as batch_op:
        batch_op.drop_index("ix_wechat_bind_codes_code")
        batch_op.alter_column(
            "code", existing_type=sa.String(length=6), type_=sa.String(length=8), existing_nullable=False
        )
        batch_op.add_column(sa.Column("created_at", sa.DateTime(timezone=True), nullable=False))
        batch_op.add_column(sa.Column("used_by", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("voided_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_unique_constraint("uq_wechat_bind_codes_code", ["code"])
        batch_op.create_index(batch_op.f("ix_wechat_bind_codes_student_id"), ["student_id"], unique=False)
    op.create_table(
        "wechat_bind_failures",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("openid", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("wechat_bind_failures", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_wechat_bind_failures_at"), ["at"], unique=False)
        batch_op.create_index(batch_op.f("ix_wechat_bind_failures_openid"), ["openid"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("wechat_bind_failures", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_wechat_bind_failures_openid"))
        batch_op.drop_index(batch_op.f("ix_wechat_bind_failures_at"))
    op.drop_table("wechat_bind_failures")
    op.execute("DELETE FROM wechat_bind_codes")
    with op.batch_alter_table("wechat_bind_codes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_wechat_bind_codes_student_id"))
        batch_op.drop_constraint("uq_wechat_bind_codes_code", type_="unique")
        batch_op.drop_column("voided_at")
        batch_op.drop_column("used_by")
        batch_op.drop_column("created_at")
        batch_op.alter_column(
            "code", existing_type=sa.String(length=8), type_=sa.String(length=6), existing_nullable=False
        )
        batch_op.create_index("ix_wechat_bind_codes_code", ["code"], unique=False)
