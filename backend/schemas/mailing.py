"""档案邮寄申请: bodies and answers."""

from __future__ import annotations

from typing import Any

from pydantic import (
    AliasChoices,
    BaseModel,
    Field,
    computed_field,
)

from backend.schemas.base import BaseIn, Page, Stamp, _Out
from backend.schemas.records import ArchiveDetailsOut
from contracts import vocabulary as V


class ShipIn(BaseIn):
    ems_no: str = Field(examples=["1151234567890"])


class MailingOut(_Out):
    id: int
    student_id: str
    state: V.MailingState
    ems_no: str | None = None
    created_at: Stamp = None
    shipped_at: Stamp = None
    delivered_at: Stamp = None
    cancelled_at: Stamp = None
    version: int
    archive: dict[str, Any] = Field(
        validation_alias=AliasChoices("archive", "archive_snapshot"),
        description="the archive details as submitted (ArchiveDetailsOut)",
    )

    @computed_field
    def state_label(self) -> str:
        return V.MAILING_STATE_LABELS[self.state]


class MailingPage(Page):
    items: list[MailingOut]


class EligibilityOut(BaseModel):
    eligible: bool
    eligible_from: str | None = Field(
        description="YYYY-MM-DD: one working day after the national confirmation"
    )
    reason: V.MailingReason | None
    reason_message: str
    estimated: bool = Field(description="the date rests on estimated holidays")


class MyMailingOut(BaseModel):
    request: MailingOut | None
    eligibility: EligibilityOut
    archive: ArchiveDetailsOut | None


class MailingCreatedOut(BaseModel):
    already_submitted: bool
    request: MailingOut
