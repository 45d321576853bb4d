"""The knowledge base staff grow (issue 20 §2)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from backend.models.base import Base


class KnowledgeEntry(Base):
    """A question staff answer without a developer (national and city policy, other offices' business): a few
    wordings, the answer and its source, as it is answered now (a copy of its current version). Retired
    entries stay (history) and never answer."""

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
