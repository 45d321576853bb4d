"""The reviewed records (毕业去向登记, 户档信息登记, change requests), mailing requests and the audit log."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    JSON,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, declared_attr, mapped_column, relationship

from backend.models.base import Base

if TYPE_CHECKING:
    from backend.models.people import Student


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
    # bumped by every UPDATE (SQLAlchemy's version counter: UPDATE ... WHERE version = <the version read>); a
    # review carries the version the reviewer saw
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
