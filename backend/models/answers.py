"""Answers staff edit, the turns students asked, their feedback, training examples (issue 14)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from backend.models.base import Base


# --- answers staff edit without retraining (issue 14): served to Rasa through the NLG endpoint --------------
class Answer(Base):
    """One Rasa response (utter_*, utter_faq/<topic>) as it is answered now: a copy of its current version."""

    __tablename__ = "answers"
    key: Mapped[str] = mapped_column(String(120), primary_key=True)
    version: Mapped[int] = mapped_column(Integer)
    variations: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    # where the answer comes from (section of the school's procedure document), shown under it; may be empty
    source: Mapped[str | None] = mapped_column(String(200), nullable=True)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    updated_by: Mapped[str] = mapped_column(String(60))  # staff id, or "domain" for the text from bot/domain


class AnswerVersion(Base):
    """Every version of an answer, never changed or deleted (history, rollback)."""

    __tablename__ = "answer_versions"
    __table_args__ = (UniqueConstraint("answer_key", "version", name="uq_answer_versions_key_version"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    answer_key: Mapped[str] = mapped_column(ForeignKey("answers.key"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    variations: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    source: Mapped[str | None] = mapped_column(String(200), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    author_role: Mapped[str] = mapped_column(String(20))  # school | domain
    author_id: Mapped[str] = mapped_column(String(60))
    note: Mapped[str] = mapped_column(String(200), default="")


# --- what students ask and their feedback (issue 14 §3, §4) -------------------------------------------------
class TurnLog(Base):
    """One conversation turn, for staff: no tokens, the question text with numbers and e-mail addresses
    masked, not at all while a form is being filled; the student id only for signed-in students. Kept
    TURN_LOG_RETENTION_DAYS (default 180) days."""

    __tablename__ = "turn_log"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), index=True)
    channel: Mapped[str] = mapped_column(String(20))
    conversation: Mapped[str] = mapped_column(String(80))
    student_id: Mapped[str | None] = mapped_column(String(20), index=True, nullable=True)
    question: Mapped[str] = mapped_column(Text)
    intent: Mapped[str | None] = mapped_column(String(80), nullable=True)
    confidence: Mapped[float | None] = mapped_column(Float, nullable=True)
    answer_key: Mapped[str | None] = mapped_column(String(120), nullable=True)  # response or action answering
    fallback: Mapped[bool] = mapped_column(Boolean, default=False)
    handoff: Mapped[bool] = mapped_column(Boolean, default=False)


class Feedback(Base):
    """👍/👎 under an answer; one per answer shown (a second click changes it)."""

    __tablename__ = "feedback"
    __table_args__ = (
        UniqueConstraint("channel", "conversation", "message_id", name="uq_feedback_message"),
        Index("ix_feedback_client_at", "client_hash", "at"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), index=True)
    channel: Mapped[str] = mapped_column(String(20))
    conversation: Mapped[str] = mapped_column(String(80))
    message_id: Mapped[str] = mapped_column(String(64))
    student_id: Mapped[str | None] = mapped_column(String(20), index=True, nullable=True)
    question: Mapped[str] = mapped_column(Text)
    answer: Mapped[str] = mapped_column(Text)
    answer_key: Mapped[str | None] = mapped_column(String(120), nullable=True)
    rating: Mapped[str] = mapped_column(String(4))  # up | down
    reason: Mapped[str | None] = mapped_column(String(20), nullable=True)
    comment: Mapped[str | None] = mapped_column(String(500), nullable=True)
    # keyed hash of the sender's address (backend/clients.py): anonymous limits per address, and an anonymous
    # row is changed only from the address that made it
    client_hash: Mapped[str | None] = mapped_column(String(32), nullable=True)


class TrainingExample(Base):
    """A student's question staff attached to an FAQ answer, for the next training run (issue 14 §5)."""

    __tablename__ = "training_examples"
    __table_args__ = (
        UniqueConstraint("question", "answer_key", name="uq_training_examples_question_answer"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str] = mapped_column(String(60))
    question: Mapped[str] = mapped_column(String(200))
    answer_key: Mapped[str] = mapped_column(ForeignKey("answers.key"), index=True)
    exported_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
