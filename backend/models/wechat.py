"""WeChat binding (codes, failed guesses, bindings) and the customer-service window's last inbound message."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    DateTime,
    ForeignKey,
    Integer,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column

from backend.models.base import Base


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


class WechatInbound(Base):
    """The last time an openid wrote to the account (WeChat's 48-hour customer-service window)."""

    __tablename__ = "wechat_inbound"
    openid: Mapped[str] = mapped_column(String(64), primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
