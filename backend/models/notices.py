"""Notices when a student's case moves (issue 15 §1), their WeChat delivery state, a student's notice
setting, and the deadlines staff set."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from backend.models.base import Base


class Notice(Base):
    __tablename__ = "notices"
    __table_args__ = (UniqueConstraint("student_id", "event_key", name="uq_notices_student_event"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    student_id: Mapped[str] = mapped_column(ForeignKey("students.id"), index=True)
    event_key: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(30))
    title: Mapped[str] = mapped_column(String(100))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), index=True)
    read_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    # WeChat delivery: pending -> sent (via cs | template) | skipped (not bound, turned off, no template) |
    # failed
    wechat_state: Mapped[str] = mapped_column(String(20), default="pending", index=True)
    wechat_via: Mapped[str | None] = mapped_column(String(20), nullable=True)
    wechat_claimed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    wechat_claimed_by: Mapped[str | None] = mapped_column(String(80), nullable=True)
    wechat_attempts: Mapped[int] = mapped_column(Integer, default=0)
    wechat_next_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    wechat_error: Mapped[str | None] = mapped_column(String(200), nullable=True)


class NoticeSetting(Base):
    """A student's choice; no row = WeChat notices on."""

    __tablename__ = "notice_settings"
    student_id: Mapped[str] = mapped_column(ForeignKey("students.id"), primary_key=True)
    wechat_enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class Deadline(Base):
    """A date staff set (e.g. destination changes close on X) and the students it concerns."""

    __tablename__ = "notice_deadlines"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    title: Mapped[str] = mapped_column(String(100))
    due_on: Mapped[dt.date] = mapped_column(Date)
    audience: Mapped[str] = mapped_column(String(40))
    college_code: Mapped[str | None] = mapped_column(String(40), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str] = mapped_column(String(60))
