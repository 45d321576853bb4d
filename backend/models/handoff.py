"""A person in the chat (issue 15 §2): handoff sessions and their messages (services/handoff/)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from backend.models.base import Base


class HandoffSession(Base):
    """A conversation a student asked a person for: chat (queue -> a counselor holds it -> closed) or ticket
    (a message left outside office hours, answered later). `open_key` is the conversation id while the bot
    must stay silent (waiting, active, ticket_draft), NULL otherwise: one such session per conversation
    (unique)."""

    __tablename__ = "handoff_sessions"
    __table_args__ = (Index("ix_handoff_sessions_client_created", "client_hash", "created_at"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    conversation: Mapped[str] = mapped_column(
        String(80), index=True
    )  # anon:<sender> | student:<id> | wechat:<openid>
    channel: Mapped[str] = mapped_column(String(20))  # web | wechat
    kind: Mapped[str] = mapped_column(String(10))  # chat | ticket
    state: Mapped[str] = mapped_column(String(20), index=True)
    open_key: Mapped[str | None] = mapped_column(String(80), unique=True, nullable=True)
    student_id: Mapped[str | None] = mapped_column(ForeignKey("students.id"), index=True, nullable=True)
    college_code: Mapped[str | None] = mapped_column(
        String(40), index=True, nullable=True
    )  # NULL: career center
    secret_hash: Mapped[str | None] = mapped_column(
        String(64), unique=True, nullable=True
    )  # anonymous widget
    staff_id: Mapped[str | None] = mapped_column(String(60), nullable=True)
    staff_name: Mapped[str | None] = mapped_column(String(50), nullable=True)
    transcript: Mapped[list[dict[str, Any]]] = mapped_column(
        JSON, default=list
    )  # the chat before the request
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), index=True)
    taken_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    closed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    closed_by: Mapped[str | None] = mapped_column(String(60), nullable=True)
    # keyed hash of the anonymous web visitor's address (forwarded by the chat channel): limits per address
    client_hash: Mapped[str | None] = mapped_column(String(32), nullable=True)


class HandoffMessage(Base):
    """One message of a handoff session. Staff and system messages to a WeChat conversation carry their
    delivery state (claimed atomically by one worker: one customer-service message per reply)."""

    __tablename__ = "handoff_messages"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("handoff_sessions.id"), index=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    sender: Mapped[str] = mapped_column(String(10))  # student | staff | system | bot (answers while queued)
    staff_id: Mapped[str | None] = mapped_column(String(60), nullable=True)
    text: Mapped[str] = mapped_column(Text)
    wechat_state: Mapped[str] = mapped_column(
        String(20), default="none", index=True
    )  # none|pending|sent|failed
    wechat_claimed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    wechat_claimed_by: Mapped[str | None] = mapped_column(String(80), nullable=True)
    wechat_attempts: Mapped[int] = mapped_column(Integer, default=0)
    wechat_next_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    wechat_error: Mapped[str | None] = mapped_column(String(200), nullable=True)
