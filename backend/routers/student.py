"""Student endpoints: the student comes from the token only."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header
from fastapi.responses import JSONResponse

from backend import models as M
from backend.core.deps import PrincipalDep, SessionDep, StudentDep
from backend.core.errors import APIError
from backend.routers.public import contact_view
from backend.schemas import (
    ArchiveIn,
    ArchiveOut,
    BindCodeOut,
    BoundOut,
    ChangeIn,
    ChangeOut,
    ChangesOut,
    ContactOut,
    DestinationIn,
    DestinationOut,
    MailingCreatedOut,
    MailingOut,
    MeOut,
    MyMailingOut,
    ProfileIn,
    ProfileOut,
    StatusOut,
)
from backend.services import changes, mailing, records
from backend.services import status as status_service
from backend.services.common import get_student
from backend.services.records import ARCHIVE, DESTINATION
from backend.services.wechat import codes as wechat

router = APIRouter(prefix="/api", tags=["student"])


@router.get("/me", tags=["identity"])
def me(p: PrincipalDep, s: SessionDep) -> MeOut:
    college = s.get(M.College, p.college_code) if p.college_code else None
    return MeOut(role=p.role, id=p.id, name=p.name, college=college.name if college else None)


@router.get("/me/profile")
def get_profile(p: StudentDep, s: SessionDep) -> ProfileOut:
    return records.profile_view(get_student(s, p.id))


@router.put("/me/profile")
def put_profile(body: ProfileIn, p: StudentDep, s: SessionDep) -> ProfileOut:
    return records.put_profile(s, p, body.model_dump(exclude_unset=True))  # left-out fields keep their value


@router.get("/me/destination")
def get_destination(p: StudentDep, s: SessionDep) -> DestinationOut:
    return DestinationOut.of(records.get_destination(s, p.id))


@router.put("/me/destination")
def put_destination(body: DestinationIn, p: StudentDep, s: SessionDep) -> DestinationOut:
    return records.save_record(s, p, DESTINATION, body.model_dump(exclude_unset=True))


@router.post("/me/destination/submit")
def submit_destination(p: StudentDep, s: SessionDep) -> DestinationOut:
    return records.submit_record(s, p, DESTINATION)


@router.get("/me/archive")
def get_archive(p: StudentDep, s: SessionDep) -> ArchiveOut:
    return ArchiveOut.of(records.get_archive(s, p.id))


@router.put("/me/archive")
def put_archive(body: ArchiveIn, p: StudentDep, s: SessionDep) -> ArchiveOut:
    return records.save_record(s, p, ARCHIVE, body.model_dump(exclude_unset=True))


@router.post("/me/archive/submit")
def submit_archive(p: StudentDep, s: SessionDep) -> ArchiveOut:
    return records.submit_record(s, p, ARCHIVE)


@router.get("/me/status")
def status(p: StudentDep, s: SessionDep) -> StatusOut:
    return status_service.status(s, get_student(s, p.id))


@router.get("/me/mailing")
def get_mailing(p: StudentDep, s: SessionDep) -> MyMailingOut:
    return mailing.my_mailing(s, get_student(s, p.id))


@router.post(
    "/me/mailing",
    status_code=201,
    response_model=MailingCreatedOut,
    responses={
        200: {"model": MailingCreatedOut, "description": "already submitted (repeat or race)"},
        409: {"description": "not_eligible"},
    },
)
def post_mailing(
    p: StudentDep, s: SessionDep, idempotency_key: Annotated[str | None, Header(max_length=100)] = None
) -> JSONResponse:
    code, body = mailing.create_mailing(s, p, idempotency_key)
    return JSONResponse(body.model_dump(mode="json"), status_code=code)


@router.post("/me/mailing/cancel")
def cancel_mailing(p: StudentDep, s: SessionDep) -> MailingOut:
    return mailing.cancel_mailing(s, p)


@router.get("/me/change-requests")
def list_changes(p: StudentDep, s: SessionDep) -> ChangesOut:
    return changes.my_changes(s, p.id)


@router.post("/me/change-requests", status_code=201)
def post_change(body: ChangeIn, p: StudentDep, s: SessionDep) -> ChangeOut:
    return changes.create_change(s, p, body.kind, body.changes)


@router.get("/me/contact")
def my_contact(p: StudentDep, s: SessionDep) -> ContactOut:
    return ContactOut.model_validate(contact_view(get_student(s, p.id).college))


@router.post("/me/wechat/bind-code", tags=["wechat"])
def bind_code(p: StudentDep, s: SessionDep) -> BindCodeOut:
    return BindCodeOut.model_validate(wechat.new_bind_code(s, p))


@router.get("/me/wechat", tags=["wechat"])
def wechat_state(p: StudentDep, s: SessionDep) -> BoundOut:
    return BoundOut(bound=wechat.binding_of_student(s, p.id) is not None)


@router.delete("/me/wechat", tags=["wechat"])
def wechat_unbind(p: StudentDep, s: SessionDep) -> BoundOut:
    b = wechat.binding_of_student(s, p.id)
    if b is None:
        raise APIError(404, "not_bound", "您尚未绑定微信。")
    return BoundOut.model_validate(wechat.unbind(s, p, b))
