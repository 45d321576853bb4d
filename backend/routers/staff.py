"""Staff endpoints: counselors see their own college, school staff see all."""
from __future__ import annotations

from fastapi import APIRouter, Depends, Path, Query
from sqlalchemy.orm import Session

from .. import services as S
from ..auth import Principal, current_staff
from ..db import get_session
from ..schemas import OverrideIn, ReviewIn, ShipIn

router = APIRouter(prefix="/api/staff", tags=["staff"])


@router.get("/records")
def records(kind: str = Query(description="destination | archive | change"), state: str | None = None,
            college: str | None = None, limit: int = Query(default=50, ge=1, le=500),
            offset: int = Query(default=0, ge=0, le=10**9), p: Principal = Depends(current_staff),
            s: Session = Depends(get_session)) -> dict:
    return S.list_records(s, p, kind, state, college, limit, offset)


@router.get("/records/{kind}/{rid}")
def record(kind: str, rid: int = Path(ge=1, le=2**31 - 1), *, p: Principal = Depends(current_staff),
           s: Session = Depends(get_session)) -> dict:
    return S.staff_record(s, p, kind, rid)


@router.post("/records/{kind}/{rid}/review")
def review(kind: str, rid: int = Path(ge=1, le=2**31 - 1), *, body: ReviewIn,
           p: Principal = Depends(current_staff),
           s: Session = Depends(get_session)) -> dict:
    return S.review(s, p, kind, rid, body.approve, body.reason, body.version)


@router.get("/mailing")
def mailing(state: str | None = None, limit: int = Query(default=50, ge=1, le=500),
            offset: int = Query(default=0, ge=0, le=10**9), p: Principal = Depends(current_staff),
            s: Session = Depends(get_session)) -> dict:
    return S.list_mailing(s, p, state, limit, offset)


@router.post("/mailing/{mid}/ship")
def ship(mid: int = Path(ge=1, le=2**31 - 1), *, body: ShipIn, p: Principal = Depends(current_staff),
         s: Session = Depends(get_session)) -> dict:
    return S.ship_mailing(s, p, mid, body.ems_no)


@router.post("/mailing/{mid}/deliver")
def deliver(mid: int = Path(ge=1, le=2**31 - 1), *, p: Principal = Depends(current_staff),
            s: Session = Depends(get_session)) -> dict:
    return S.deliver_mailing(s, p, mid)


@router.get("/audit")
def audit(student_id: str | None = None, limit: int = Query(default=200, ge=1, le=1000),
          offset: int = Query(default=0, ge=0, le=10**9), p: Principal = Depends(current_staff),
          s: Session = Depends(get_session)) -> dict:
    return S.audit_entries(s, p, student_id, limit, offset)


@router.post("/students/{student_id}/credit-code-override")
def credit_override(student_id: str = Path(max_length=20), *, body: OverrideIn,
                    p: Principal = Depends(current_staff),
                    s: Session = Depends(get_session)) -> dict:
    """School staff let an early pilot credit code that fails the checksum through, after checking it by hand."""
    return S.set_credit_override(s, p, student_id, body.credit_code)
