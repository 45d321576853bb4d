"""Colleges, staff and students (the roster)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from backend.models.base import Base


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
