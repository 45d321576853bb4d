"""Sync to the national platform, the national confirmation, the student's status."""

from __future__ import annotations

import datetime as dt

from pydantic import (
    BaseModel,
)

from backend.schemas.base import BaseIn
from backend.schemas.mailing import EligibilityOut, MailingOut
from backend.schemas.records import SummaryOut
from contracts import vocabulary as V


class ConfirmIn(BaseIn):
    student_id: str
    confirmed_on: dt.date | None = None


class SyncOut(BaseModel):
    both_approved_on: str | None
    sync_date: str | None
    synced: bool
    estimated: bool


class NationalOut(BaseModel):
    confirmed: bool
    confirmed_on: str | None
    needs_reconfirm: bool


class ConfirmOut(NationalOut):
    student_id: str


class StudentBriefOut(BaseModel):
    id: str
    name: str
    college: str


class PendingChangeOut(BaseModel):
    id: int
    kind: V.ChangeKind
    kind_label: str
    state: V.RecordState
    state_label: str


class StatusMailingOut(EligibilityOut):
    request: MailingOut | None


class StatusOut(BaseModel):
    student: StudentBriefOut
    today: str
    destination: SummaryOut
    archive: SummaryOut
    sync: SyncOut
    national: NationalOut
    mailing: StatusMailingOut
    pending_changes: list[PendingChangeOut]
