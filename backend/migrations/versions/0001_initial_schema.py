"""initial schema: roster, staff, colleges, the two records, change requests, mailing, audit, WeChat binding

Revision ID: 0001
Revises:
Create Date: 2026-11-29 10:23:38.829626
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_role", sa.String(length=20), nullable=False),
        sa.Column("actor_id", sa.String(length=60), nullable=False),
        sa.Column("student_id", sa.String(length=20), nullable=True),
        sa.Column("entity", sa.String(length=30), nullable=False),
        sa.Column("entity_id", sa.String(length=40), nullable=False),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("before", sa.JSON(), nullable=True),
        sa.Column("after", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_log_at"), ["at"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_log_student_id"), ["student_id"], unique=False)

    op.create_table(
        "colleges",
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("officer_name", sa.String(length=50), nullable=False),
        sa.Column("officer_phone", sa.String(length=30), nullable=False),
        sa.Column("officer_email", sa.String(length=100), nullable=False),
        sa.Column("office_hours", sa.String(length=100), nullable=False),
        sa.Column("office_location", sa.String(length=100), nullable=False),
        sa.PrimaryKeyConstraint("code"),
        sa.UniqueConstraint("name"),
    )
    op.create_table(
        "staff",
        sa.Column("id", sa.String(length=60), nullable=False),
        sa.Column("name", sa.String(length=50), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("college_code", sa.String(length=40), nullable=True),
        sa.ForeignKeyConstraint(
            ["college_code"],
            ["colleges.code"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "students",
        sa.Column("id", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=50), nullable=False),
        sa.Column("exam_no", sa.String(length=30), nullable=False),
        sa.Column("gender", sa.String(length=4), nullable=False),
        sa.Column("college_code", sa.String(length=40), nullable=False),
        sa.Column("major", sa.String(length=100), nullable=False),
        sa.Column("degree", sa.String(length=30), nullable=False),
        sa.Column("level", sa.String(length=20), nullable=False),
        sa.Column("graduation_date", sa.Date(), nullable=False),
        sa.Column("ethnicity", sa.String(length=20), nullable=False),
        sa.Column("id_number", sa.String(length=18), nullable=False),
        sa.Column("birth_date", sa.Date(), nullable=True),
        sa.Column("schooling_years", sa.String(length=10), nullable=False),
        sa.Column("enrolled_on", sa.String(length=10), nullable=False),
        sa.Column("training_mode", sa.String(length=20), nullable=False),
        sa.Column("home_address", sa.String(length=200), nullable=False),
        sa.Column("political_status", sa.String(length=20), nullable=True),
        sa.Column("origin_place", sa.String(length=100), nullable=True),
        sa.Column("hardship_category", sa.String(length=20), nullable=True),
        sa.Column("mobile", sa.String(length=20), nullable=True),
        sa.Column("email", sa.String(length=100), nullable=True),
        sa.Column("wechat", sa.String(length=40), nullable=True),
        sa.Column("counselor_name", sa.String(length=50), nullable=True),
        sa.Column("class_name", sa.String(length=50), nullable=True),
        sa.Column("emergency_contact_name", sa.String(length=50), nullable=True),
        sa.Column("emergency_contact_phone", sa.String(length=20), nullable=True),
        sa.Column("profile_updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("personal_approved_on", sa.Date(), nullable=True),
        sa.Column("national_confirmed_on", sa.Date(), nullable=True),
        sa.Column("needs_reconfirm", sa.Boolean(), nullable=False),
        sa.Column("credit_code_override", sa.String(length=18), nullable=True),
        sa.ForeignKeyConstraint(
            ["college_code"],
            ["colleges.code"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("students", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_students_college_code"), ["college_code"], unique=False)

    op.create_table(
        "archives",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("student_id", sa.String(length=20), nullable=False),
        sa.Column("data", sa.JSON(), nullable=True),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("rejection_reason", sa.Text(), nullable=True),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("college_reviewed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("college_reviewer", sa.String(length=60), nullable=True),
        sa.Column("school_reviewed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("school_reviewer", sa.String(length=60), nullable=True),
        sa.Column("approved_on", sa.Date(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["student_id"],
            ["students.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("student_id"),
    )
    with op.batch_alter_table("archives", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_archives_state"), ["state"], unique=False)

    op.create_table(
        "change_requests",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("student_id", sa.String(length=20), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("changes", sa.JSON(), nullable=False),
        sa.Column("before", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("open_key", sa.String(length=60), nullable=True),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("rejection_reason", sa.Text(), nullable=True),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("college_reviewed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("college_reviewer", sa.String(length=60), nullable=True),
        sa.Column("school_reviewed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("school_reviewer", sa.String(length=60), nullable=True),
        sa.Column("approved_on", sa.Date(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["student_id"],
            ["students.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("open_key"),
    )
    with op.batch_alter_table("change_requests", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_change_requests_state"), ["state"], unique=False)
        batch_op.create_index(batch_op.f("ix_change_requests_student_id"), ["student_id"], unique=False)

    op.create_table(
        "destinations",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("student_id", sa.String(length=20), nullable=False),
        sa.Column("destination_type", sa.String(length=4), nullable=True),
        sa.Column("unit", sa.JSON(), nullable=True),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("rejection_reason", sa.Text(), nullable=True),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("college_reviewed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("college_reviewer", sa.String(length=60), nullable=True),
        sa.Column("school_reviewed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("school_reviewer", sa.String(length=60), nullable=True),
        sa.Column("approved_on", sa.Date(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["student_id"],
            ["students.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("student_id"),
    )
    with op.batch_alter_table("destinations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_destinations_state"), ["state"], unique=False)

    op.create_table(
        "mailing_requests",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("student_id", sa.String(length=20), nullable=False),
        sa.Column("active_key", sa.String(length=20), nullable=True),
        sa.Column("idempotency_key", sa.String(length=100), nullable=True),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("archive_snapshot", sa.JSON(), nullable=False),
        sa.Column("ems_no", sa.String(length=20), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("shipped_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["student_id"],
            ["students.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("active_key"),
    )
    with op.batch_alter_table("mailing_requests", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_mailing_requests_student_id"), ["student_id"], unique=False)

    op.create_table(
        "wechat_bind_codes",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("code", sa.String(length=6), nullable=False),
        sa.Column("student_id", sa.String(length=20), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["student_id"],
            ["students.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("wechat_bind_codes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_wechat_bind_codes_code"), ["code"], unique=False)

    op.create_table(
        "wechat_bindings",
        sa.Column("openid", sa.String(length=64), nullable=False),
        sa.Column("student_id", sa.String(length=20), nullable=False),
        sa.Column("bound_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["student_id"],
            ["students.id"],
        ),
        sa.PrimaryKeyConstraint("openid"),
        sa.UniqueConstraint("student_id"),
    )


def downgrade() -> None:
    op.drop_table("wechat_bindings")
    with op.batch_alter_table("wechat_bind_codes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_wechat_bind_codes_code"))

    op.drop_table("wechat_bind_codes")
    with op.batch_alter_table("mailing_requests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_mailing_requests_student_id"))

    op.drop_table("mailing_requests")
    with op.batch_alter_table("destinations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_destinations_state"))

    op.drop_table("destinations")
    with op.batch_alter_table("change_requests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_change_requests_student_id"))
        batch_op.drop_index(batch_op.f("ix_change_requests_state"))

    op.drop_table("change_requests")
    with op.batch_alter_table("archives", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_archives_state"))

    op.drop_table("archives")
    with op.batch_alter_table("students", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_students_college_code"))

    op.drop_table("students")
    op.drop_table("staff")
    op.drop_table("colleges")
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_log_student_id"))
        batch_op.drop_index(batch_op.f("ix_audit_log_at"))

    op.drop_table("audit_log")
