"""Public answers: contacts, health, working days, categories, form validation."""

from __future__ import annotations

from typing import Any

from pydantic import (
    BaseModel,
)


class ContactOut(BaseModel):
    college: str
    college_code: str
    name: str
    phone: str
    email: str
    office_hours: str
    office_location: str


class GeneralContactOut(BaseModel):
    name: str
    phone: str
    email: str
    office_hours: str
    office_location: str
    website: str


class ContactsOut(BaseModel):
    general: GeneralContactOut
    colleges: list[ContactOut]


class HealthOut(BaseModel):
    status: str


class NextWorkdayOut(BaseModel):
    date: str
    is_workday: bool
    next_workday: str
    estimated: bool
    note: str | None


class CategoriesOut(BaseModel):
    destination_types: dict[str, str]
    unit_types: list[str]
    archive_types: dict[str, dict[str, Any]]
    hukou_choices: dict[str, str]
    political_statuses: list[str]
    hardship_categories: list[str]
    unit_natures: list[str]
    industries: list[str]
    job_categories: list[str]
    change_kinds: dict[str, str]


class FieldErrorOut(BaseModel):
    field: str
    code: str
    message: str


class ValidationOut(BaseModel):
    ok: bool
    fields: list[FieldErrorOut]
