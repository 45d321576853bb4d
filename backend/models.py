"""ORM model (SQLAlchemy 2, typed)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, declared_attr, mapped_column, relationship

from backend.core.db import Base


class College(Base):
    __tablename__ = "colleges"
    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    officer_name: Mapped[str] = mapped_column(String(50))
    officer_phone: Mapped[str] = mapped_column(String(30))
    officer_email: Mapped[str] = mapped_column(String(100))
    office_hours: Mapped[str] = mapped_column(String(100))
    office_location: Mapped[str] = mapped_column(String(100), default="")


class Staff(Base):
    __tablename__ = "staff"
    id: Mapped[str] = mapped_column(String(60), primary_key=True)
    name: Mapped[str] = mapped_column(String(50))
    role: Mapped[str] = mapped_column(String(20))  # counselor | school
    college_code: Mapped[str | None] = mapped_column(ForeignKey("colleges.code"), nullable=True)


class Student(Base):
    __tablename__ = "students"
    id: Mapped[str] = mapped_column(String(20), primary_key=True)  # 学号
    # roster (read-only, provided by the school)
    name: Mapped[str] = mapped_column(String(50))
    exam_no: Mapped[str] = mapped_column(String(30), default="")
    gender: Mapped[str] = mapped_column(String(4))
    college_code: Mapped[str] = mapped_column(ForeignKey("colleges.code"), index=True)
    major: Mapped[str] = mapped_column(String(100))
    degree: Mapped[str] = mapped_column(String(30))
    level: Mapped[str] = mapped_column(String(20))
    graduation_date: Mapped[dt.date] = mapped_column(Date)
    ethnicity: Mapped[str] = mapped_column(String(20), default="")
    id_number: Mapped[str] = mapped_column(String(18))
    birth_date: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    schooling_years: Mapped[str] = mapped_column(String(10), default="")
    enrolled_on: Mapped[str] = mapped_column(String(10), default="")
    training_mode: Mapped[str] = mapped_column(String(20), default="")
    home_address: Mapped[str] = mapped_column(String(200), default="")
    # personal fields (个人信息完善, filled by the student)
    political_status: Mapped[str | None] = mapped_column(String(20), nullable=True)
    origin_place: Mapped[str | None] = mapped_column(String(100), nullable=True)
    hardship_category: Mapped[str | None] = mapped_column(String(20), nullable=True)
    mobile: Mapped[str | None] = mapped_column(String(20), nullable=True)
    email: Mapped[str | None] = mapped_column(String(100), nullable=True)
    wechat: Mapped[str | None] = mapped_column(String(40), nullable=True)
    counselor_name: Mapped[str | None] = mapped_column(String(50), nullable=True)
    class_name: Mapped[str | None] = mapped_column(String(50), nullable=True)
    emergency_contact_name: Mapped[str | None] = mapped_column(String(50), nullable=True)
    emergency_contact_phone: Mapped[str | None] = mapped_column(String(20), nullable=True)
    profile_updated_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    # personal data changed by an approved 个人信息完善 request (needs a new sync)
    personal_approved_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    # national platform
    national_confirmed_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    needs_reconfirm: Mapped[bool] = mapped_column(Boolean, default=False)
    # staff override for an early pilot credit code that fails the checksum
    credit_code_override: Mapped[str | None] = mapped_column(String(18), nullable=True)

    college: Mapped[College] = relationship(lazy="joined", innerjoin=True)


class _ReviewedRecord:
    state: Mapped[str] = mapped_column(String(20), default="not_started", index=True)
    rejection_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    submitted_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    college_reviewed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    college_reviewer: Mapped[str | None] = mapped_column(String(60), nullable=True)
    school_reviewed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    school_reviewer: Mapped[str | None] = mapped_column(String(60), nullable=True)
    # the date the current content was approved by the school (reset when a change request is applied)
    approved_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    updated_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    # bumped by every UPDATE (SQLAlchemy's version counter: UPDATE ... WHERE version = <the version read>); a review
    # carries the version the reviewer saw
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")

    @declared_attr.directive
    def __mapper_args__(cls) -> dict:
        return {"version_id_col": cls.version}


class Destination(_ReviewedRecord, Base):
    __tablename__ = "destinations"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    student_id: Mapped[str] = mapped_column(ForeignKey("students.id"), unique=True)
    destination_type: Mapped[str | None] = mapped_column(String(4), nullable=True)
    unit: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)

    student: Mapped[Student] = relationship(lazy="joined", innerjoin=True)


class Archive(_ReviewedRecord, Base):
    __tablename__ = "archives"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    student_id: Mapped[str] = mapped_column(ForeignKey("students.id"), unique=True)
    data: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)

    student: Mapped[Student] = relationship(lazy="joined", innerjoin=True)


class ChangeRequest(_ReviewedRecord, Base):
    __tablename__ = "change_requests"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    student_id: Mapped[str] = mapped_column(ForeignKey("students.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    changes: Mapped[dict[str, Any]] = mapped_column(JSON)
    before: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    # one open request per student and kind: "<student>:<kind>" while open, NULL once decided
    open_key: Mapped[str | None] = mapped_column(String(60), unique=True, nullable=True)

    student: Mapped[Student] = relationship(lazy="joined", innerjoin=True)


class MailingRequest(Base):
    __tablename__ = "mailing_requests"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    student_id: Mapped[str] = mapped_column(ForeignKey("students.id"), index=True)
    # exactly one active request per student: the student id while active, NULL if ever cancelled
    active_key: Mapped[str | None] = mapped_column(String(20), unique=True, nullable=True)
    idempotency_key: Mapped[str | None] = mapped_column(String(100), nullable=True)
    state: Mapped[str] = mapped_column(String(20), default="submitted")
    archive_snapshot: Mapped[dict[str, Any]] = mapped_column(JSON)
    ems_no: Mapped[str | None] = mapped_column(String(20), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    shipped_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    delivered_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    cancelled_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")

    student: Mapped[Student] = relationship(lazy="joined", innerjoin=True)
    __mapper_args__ = {"version_id_col": version}


class AuditLog(Base):
    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), index=True)
    actor_role: Mapped[str] = mapped_column(String(20))
    actor_id: Mapped[str] = mapped_column(String(60))
    student_id: Mapped[str | None] = mapped_column(String(20), index=True, nullable=True)
    entity: Mapped[str] = mapped_column(String(30))
    entity_id: Mapped[str] = mapped_column(String(40))
    action: Mapped[str] = mapped_column(String(40))
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)


class WechatBindCode(Base):
    __tablename__ = "wechat_bind_codes"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    # 8 characters of Crockford base32 (40 bits) without the hyphen; unique over every code ever issued
    code: Mapped[str] = mapped_column(String(8), unique=True)
    student_id: Mapped[str] = mapped_column(ForeignKey("students.id"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    used_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    used_by: Mapped[str | None] = mapped_column(String(64), nullable=True)  # the openid that used it
    voided_at: Mapped[dt.datetime | None] = mapped_column(
        DateTime(timezone=True), nullable=True
    )  # newer code


class WechatBindFailure(Base):
    """A failed binding guess (no such code); counted per openid and overall over a sliding window."""

    __tablename__ = "wechat_bind_failures"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    openid: Mapped[str] = mapped_column(String(64), index=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), index=True)


class WechatBinding(Base):
    __tablename__ = "wechat_bindings"
    openid: Mapped[str] = mapped_column(String(64), primary_key=True)
    student_id: Mapped[str] = mapped_column(ForeignKey("students.id"), unique=True)
    bound_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


__all__ = [
    "College",
    "Staff",
    "Student",
    "Destination",
    "Archive",
    "ChangeRequest",
    "MailingRequest",
    "AuditLog",
    "WechatBindCode",
    "WechatBindFailure",
    "WechatBinding",
]


# --- answers staff edit without retraining (issue 14): served to Rasa through the NLG endpoint ---------------
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


__all__ += ["Answer", "AnswerVersion"]


# --- what students ask and their feedback (issue 14 §3, §4) --------------------------------------------------
class TurnLog(Base):
    """One conversation turn, for staff: no tokens, the question text with numbers and e-mail addresses masked,
    not at all while a form is being filled; the student id only for signed-in students. Kept
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


__all__ += ["TurnLog", "Feedback"]


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


__all__ += ["TrainingExample"]


# --- a person in the chat (issue 15 §2): handoff sessions and their messages (backend/handoff/) -------------
class HandoffSession(Base):
    """A conversation a student asked a person for: chat (queue -> a counselor holds it -> closed) or ticket
    (a message left outside office hours, answered later). `open_key` is the conversation id while the bot must
    stay silent (waiting, active, ticket_draft), NULL otherwise: one such session per conversation (unique)."""

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
    """One message of a handoff session. Staff and system messages to a WeChat conversation carry their delivery
    state (claimed atomically by one worker: one customer-service message per reply)."""

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


__all__ += ["HandoffSession", "HandoffMessage"]


# --- the knowledge base staff grow (issue 20 §2) -------------------------------------------------------------
class KnowledgeEntry(Base):
    """A question staff answer without a developer (national and city policy, other offices' business): a few
    wordings, the answer and its source, as it is answered now (a copy of its current version). Retired entries
    stay (history) and never answer."""

    __tablename__ = "knowledge_entries"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    version: Mapped[int] = mapped_column(Integer)
    questions: Mapped[list[str]] = mapped_column(JSON)
    answer: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(200))
    retired: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    seed_key: Mapped[str | None] = mapped_column(
        String(60), unique=True, nullable=True
    )  # backend/data entries
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str] = mapped_column(String(60))
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    updated_by: Mapped[str] = mapped_column(String(60))


class KnowledgeVersion(Base):
    """Every version of a knowledge entry (create, edit, retire), never changed or deleted."""

    __tablename__ = "knowledge_versions"
    __table_args__ = (UniqueConstraint("entry_id", "version", name="uq_knowledge_versions_entry_version"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("knowledge_entries.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    questions: Mapped[list[str]] = mapped_column(JSON)
    answer: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(200))
    retired: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    author_role: Mapped[str] = mapped_column(String(20))  # school | seed
    author_id: Mapped[str] = mapped_column(String(60))
    note: Mapped[str] = mapped_column(String(200), default="")


__all__ += ["KnowledgeEntry", "KnowledgeVersion"]
