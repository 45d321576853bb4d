"""Identity, public reference endpoints, form validation and integrations."""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlencode

from fastapi import APIRouter, Query
from fastapi.responses import RedirectResponse
from sqlalchemy import select

from backend import models as M
from backend import workdays
from backend.core import clock
from backend.core.auth import NATIONAL_ACTOR, cas_provider, issue_action_token, issue_token
from backend.core.config import settings
from backend.core.deps import IntegrationKey, OptionalPrincipalDep, SessionDep
from backend.core.errors import APIError, invalid
from backend.schemas import (
    BindIn,
    BindOut,
    BoundOut,
    CategoriesOut,
    ConfirmIn,
    ConfirmOut,
    ContactsOut,
    DevLoginIn,
    HealthOut,
    NextWorkdayOut,
    OpenidIn,
    TokenOut,
    ValidationOut,
    WechatTokenOut,
)
from backend.services import status as status_service
from backend.services.common import SYSTEM, get_student, student_ctx
from backend.services.notices import inbox
from backend.services.wechat import codes as wechat
from backend.validators import FieldError, validate_archive, validate_destination, validate_profile
from contracts import vocabulary as V

router = APIRouter(prefix="/api")

GENERAL_CONTACT = {
    "name": "学生就业指导中心",
    "phone": "010-68913456",
    "email": "job@bit.edu.cn",
    "office_hours": "工作日 8:30-11:30，14:00-17:00",
    "office_location": "中关村校区 学生就业指导中心",
    "website": "http://job.bit.edu.cn",
}


def contact_view(c: M.College) -> dict:
    return {
        "college": c.name,
        "college_code": c.code,
        "name": c.officer_name,
        "phone": c.officer_phone,
        "email": c.officer_email,
        "office_hours": c.office_hours,
        "office_location": c.office_location,
    }


@router.get("/health", tags=["public"])
def health() -> HealthOut:
    return HealthOut(status="ok")


@router.get("/contacts", tags=["public"])
def contacts(s: SessionDep) -> ContactsOut:
    return ContactsOut.model_validate(
        {
            "general": GENERAL_CONTACT,
            "colleges": [contact_view(c) for c in s.scalars(select(M.College).order_by(M.College.code))],
        }
    )


@router.get("/calendar/next-workday", tags=["public"])
def next_workday(
    date: str | None = Query(default=None, description="YYYY-MM-DD; default today"),
) -> NextWorkdayOut:
    try:
        day = dt.date.fromisoformat(date) if date else clock.today()
        if not dt.date(2000, 1, 1) <= day <= dt.date(2100, 12, 31):
            raise ValueError(date)
    except ValueError:
        raise invalid(
            [
                FieldError(
                    "date", "date_format", "日期格式应为YYYY-MM-DD（2000至2100年之间），例如2026-10-01。"
                )
            ]
        ) from None
    nxt, est = workdays.next_workday_info(day)
    return NextWorkdayOut(
        date=day.isoformat(),
        is_workday=workdays.is_workday(day),
        next_workday=nxt.isoformat(),
        estimated=est,
        note="超出官方节假日数据范围，按周末和预估节假日推算，以学校通知为准。" if est else None,
    )


@router.get("/categories", tags=["public"])
def categories() -> CategoriesOut:
    return CategoriesOut.model_validate(
        {
            "destination_types": V.DESTINATION_TYPES,
            "unit_types": sorted(V.UNIT_TYPES),
            "archive_types": V.ARCHIVE_TYPES,
            "hukou_choices": V.HUKOU_CHOICES,
            "political_statuses": V.POLITICAL_STATUSES,
            "hardship_categories": V.HARDSHIP_CATEGORIES,
            "unit_natures": V.UNIT_NATURES,
            "industries": V.INDUSTRIES,
            "job_categories": V.JOB_CATEGORIES,
            "change_kinds": V.CHANGE_KINDS,
        }
    )


@router.post("/validation/{form}", tags=["public"])
def validate_form(form: str, body: dict, p: OptionalPrincipalDep, s: SessionDep) -> ValidationOut:
    """Validate a partial form without saving. With a student token, rules that need the student apply too."""
    ctx: dict = {}
    override = None
    if p and p.role == "student":
        st = get_student(s, p.id)
        ctx, override = student_ctx(st), st.credit_code_override
    if form == "profile":
        unknown = [
            FieldError(k, "unknown_field", f"个人信息中没有“{k}”这一项。")
            for k in body
            if k not in V.PERSONAL_FIELDS
        ]
        errs = unknown + validate_profile(
            {k: v for k, v in body.items() if k in V.PERSONAL_FIELDS}, ctx, True
        )
    elif form == "destination":
        errs = validate_destination(body, partial=True, override_code=override)
    elif form == "archive":
        errs = validate_archive(body, ctx, partial=True)
    else:
        raise APIError(404, "not_found", "表单应为 profile、destination 或 archive。")
    return ValidationOut.model_validate({"ok": not errs, "fields": [e.dict() for e in errs]})


# --- identity ----------------------------------------------------------------------------------------------
@router.post("/auth/dev-login", tags=["identity"])
def dev_login(body: DevLoginIn, s: SessionDep) -> TokenOut:
    if not settings.demo_mode:
        raise APIError(404, "demo_disabled", "演示登录未开启，请使用统一身份认证登录。")
    if bool(body.student_id) == bool(body.staff_id):
        raise invalid(
            [FieldError("student_id", "required", "请提供 student_id（学号）或 staff_id 其中之一。")]
        )
    if body.student_id:
        if not s.get(M.Student, body.student_id.strip()):
            raise APIError(404, "not_found", "没有这个学号的学生。")
        return TokenOut(access_token=issue_token(body.student_id.strip(), "student"), token_type="bearer")
    sf = s.get(M.Staff, (body.staff_id or "").strip())
    if not sf:
        raise APIError(404, "not_found", "没有这个工作人员账号。")
    return TokenOut(access_token=issue_token(sf.id, sf.role), token_type="bearer")


def _callback_url(next_: str) -> str:
    """The CAS `service` URL: from BACKEND_PUBLIC_URL only, never from the request's Host header (a ticket
    issued for another site's service must not validate here; issue 21 §7). Without it single sign-on is
    off."""
    if not settings.public_url:
        raise APIError(
            404, "sso_not_configured", "统一身份认证未配置完整（缺少本站地址 BACKEND_PUBLIC_URL）。"
        )
    return f"{settings.public_url}/api/auth/cas/callback?" + urlencode({"next": next_})


def _safe_next(next_: str | None) -> str:
    n = next_ or "/"
    if not n.startswith("/") or n.startswith("//") or "\\" in n:
        raise invalid([FieldError("next", "unsafe_redirect", "登录后跳转地址只能是本站的相对路径。")])
    return n


@router.get("/auth/cas/login", tags=["identity"])
def cas_login(next: str | None = None) -> RedirectResponse:  # noqa: A002
    cas = cas_provider()
    if cas is None:
        raise APIError(404, "sso_not_configured", "统一身份认证未配置（CAS_SERVER_URL）。")
    return RedirectResponse(cas.login_url(_callback_url(_safe_next(next))), status_code=302)


@router.get("/auth/cas/callback", tags=["identity"])
def cas_callback(
    s: SessionDep, ticket: str = Query(min_length=1), next: str | None = None
) -> RedirectResponse:  # noqa: A002
    cas = cas_provider()
    if cas is None:
        raise APIError(404, "sso_not_configured", "统一身份认证未配置（CAS_SERVER_URL）。")
    target = _safe_next(next)
    user = cas.validate(ticket, _callback_url(target))
    if s.get(M.Student, user):
        token = issue_token(user, "student")
    elif (sf := s.get(M.Staff, user)) is not None:
        token = issue_token(sf.id, sf.role)
    else:
        raise APIError(
            403,
            "forbidden",
            "统一身份认证通过，但您不在本届毕业生名单中。如有疑问请联系学院就业工作负责老师。",
        )
    return RedirectResponse(f"{target}#access_token={token}&token_type=bearer", status_code=302)


# --- integrations ------------------------------------------------------------------------------------------
@router.post("/integration/national/confirmations", tags=["integration"], dependencies=[IntegrationKey])
def national_confirmation(body: ConfirmIn, s: SessionDep) -> ConfirmOut:
    return ConfirmOut.model_validate(
        status_service.confirm_national(s, body.student_id, body.confirmed_on, NATIONAL_ACTOR)
    )


@router.post("/integration/wechat/bind", tags=["wechat"], dependencies=[IntegrationKey])
def wechat_bind(body: BindIn, s: SessionDep) -> BindOut:
    out = wechat.bind_wechat(s, body.openid, body.code)
    inbox.touch_inbound(s, body.openid)  # WeChat's 48-hour window for notices starts now
    s.commit()
    return BindOut.model_validate(out)


@router.post("/integration/wechat/token", tags=["wechat"], dependencies=[IntegrationKey])
def wechat_token(body: OpenidIn, s: SessionDep) -> WechatTokenOut:
    b = wechat.binding(s, body.openid)
    inbox.touch_inbound(s, body.openid)  # called for every message: WeChat's 48-hour window for notices
    s.commit()
    # a short-lived action token (aud "actions"): it goes into Rasa's tracker, so it must not stay usable
    return WechatTokenOut(
        access_token=issue_action_token(b.student_id, "student"),
        token_type="bearer",
        expires_in=settings.action_token_ttl_seconds,
        student_id=b.student_id,
    )


@router.delete("/integration/wechat/bind", tags=["wechat"], dependencies=[IntegrationKey])
def wechat_unbind(body: OpenidIn, s: SessionDep) -> BoundOut:
    b = wechat.binding(s, body.openid)
    return BoundOut.model_validate(wechat.unbind(s, SYSTEM, b))
