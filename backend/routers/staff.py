"""Staff endpoints: counselors see their own college, school staff see all."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from backend.core.deps import SessionDep, StaffDep
from backend.schemas import (
    AuditPage,
    CreditOverrideOut,
    MailingOut,
    MailingPage,
    OverrideIn,
    RecordsPage,
    ReviewIn,
    ShipIn,
    StaffRecordOut,
)
from backend.services import mailing as mailing_service
from backend.services import review as review_service

router = APIRouter(prefix="/api/staff", tags=["staff"])

RecordId = Annotated[int, Path(ge=1, le=2**31 - 1)]
Limit = Annotated[int, Query(ge=1, le=500)]
Offset = Annotated[int, Query(ge=0, le=10**9)]


@router.get("/records")
def records(
    p: StaffDep,
    s: SessionDep,
    kind: Annotated[str, Query(description="destination | archive | change")],
    state: str | None = None,
    college: str | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> RecordsPage:
    return review_service.list_records(s, p, kind, state, college, limit, offset)


@router.get("/records/{kind}/{rid}")
def record(kind: str, rid: RecordId, p: StaffDep, s: SessionDep) -> StaffRecordOut:
    return review_service.staff_record(s, p, kind, rid)


@router.post("/records/{kind}/{rid}/review")
def review(kind: str, rid: RecordId, body: ReviewIn, p: StaffDep, s: SessionDep) -> StaffRecordOut:
    return review_service.review(s, p, kind, rid, body.approve, body.reason, body.version)


@router.get("/mailing")
def mailing(
    p: StaffDep, s: SessionDep, state: str | None = None, limit: Limit = 50, offset: Offset = 0
) -> MailingPage:
    return mailing_service.list_mailing(s, p, state, limit, offset)


@router.post("/mailing/{mid}/ship")
def ship(mid: RecordId, body: ShipIn, p: StaffDep, s: SessionDep) -> MailingOut:
    return mailing_service.ship_mailing(s, p, mid, body.ems_no)


@router.post("/mailing/{mid}/deliver")
def deliver(mid: RecordId, p: StaffDep, s: SessionDep) -> MailingOut:
    return mailing_service.deliver_mailing(s, p, mid)


@router.get("/audit")
def audit(
    p: StaffDep,
    s: SessionDep,
    student_id: str | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
    offset: Offset = 0,
) -> AuditPage:
    return review_service.audit_entries(s, p, student_id, limit, offset)


@router.post("/students/{student_id}/credit-code-override")
def credit_override(
    student_id: Annotated[str, Path(max_length=20)], body: OverrideIn, p: StaffDep, s: SessionDep
) -> CreditOverrideOut:
    """School staff let an early pilot credit code that fails the checksum through, after checking it by
    hand."""
    return review_service.set_credit_override(s, p, student_id, body.credit_code)
