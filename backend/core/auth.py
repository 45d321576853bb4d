"""Identity: JWT bearer tokens, pluggable identity providers (demo dev-login, university CAS SSO)."""

from __future__ import annotations

import hmac
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from typing import Protocol

import httpx
from fastapi import Depends, Header
from sqlalchemy.orm import Session

from backend import models as M
from backend.core.config import settings
from backend.core.db import get_session
from backend.core.errors import APIError, forbidden
from contracts import tokens
from contracts import vocabulary as V


@dataclass
class Principal:
    role: str  # student | counselor | school
    id: str
    name: str
    college_code: str | None


NATIONAL_ACTOR = Principal("integration", "national-platform", "国家平台", None)


ACTIONS_AUDIENCE = tokens.ACTIONS_AUDIENCE
SERVICE_KEY_HEADER = "X-Actions-Service-Key"


def issue_token(sub: str, role: str, ttl_minutes: int | None = None) -> str:
    """A web token (no `aud`): what the browser holds after sign-in."""
    minutes = ttl_minutes or settings.token_ttl_minutes
    return tokens.mint(sub, role, settings.auth_secret, minutes * 60)


def issue_action_token(sub: str, role: str) -> str:
    """A short-lived token for the action server (`aud`="actions", at most 5 minutes).

    It may end up in Rasa's conversation events; it is accepted only with the action server's service key.
    """
    return tokens.mint_action_token(sub, role, settings.auth_secret, settings.action_token_ttl_seconds)


def _decode(token: str, service: bool = False) -> dict:
    """Web tokens (no `aud`) for everyone; action tokens (`aud`="actions") only when `service` (key
    checked)."""
    try:
        audience = ACTIONS_AUDIENCE if tokens.has_audience(token) else None
        if audience and not service:
            raise APIError(401, "not_authenticated", "登录凭证无效，请重新登录。")
        return tokens.decode(token, settings.auth_secret, audience, require=("sub", "role", "exp"))
    except tokens.ExpiredToken:
        raise APIError(401, "token_expired", "登录已过期，请重新登录。") from None
    except tokens.InvalidToken:
        raise APIError(401, "not_authenticated", "登录凭证无效，请重新登录。") from None


def service_key_ok(key: str | None) -> bool:
    """Whether `key` is the action server's service key (constant time). Raises 401 for a wrong one."""
    if key is None:
        return False
    if not key or not hmac.compare_digest(key.encode(), settings.actions_service_key.encode()):
        raise APIError(401, "service_key_invalid", "服务密钥无效。")
    return True


def principal_from_token(token: str, session: Session, service: bool = False) -> Principal:
    claims = _decode(token, service)
    role, sub = claims.get("role"), str(claims.get("sub"))
    if role == "student":
        st = session.get(M.Student, sub)
        if st:
            return Principal("student", st.id, st.name, st.college_code)
    elif role in V.STAFF_ROLES:
        sf = session.get(M.Staff, sub)
        if sf and sf.role == role:
            return Principal(role, sf.id, sf.name, sf.college_code)
    raise APIError(401, "not_authenticated", "登录凭证对应的账号不存在，请重新登录。")


def _bearer(authorization: str | None) -> str | None:
    if not authorization:
        return None
    scheme, _, token = authorization.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def current_principal(
    authorization: str | None = Header(default=None),
    x_actions_service_key: str | None = Header(default=None, include_in_schema=False),
    session: Session = Depends(get_session),
) -> Principal:
    token = _bearer(authorization)
    if not token:
        raise APIError(401, "not_authenticated", "请先登录（统一身份认证）。")
    return principal_from_token(token, session, service_key_ok(x_actions_service_key))


def optional_principal(
    authorization: str | None = Header(default=None),
    x_actions_service_key: str | None = Header(default=None, include_in_schema=False),
    session: Session = Depends(get_session),
) -> Principal | None:
    token = _bearer(authorization)
    return principal_from_token(token, session, service_key_ok(x_actions_service_key)) if token else None


def current_student(p: Principal = Depends(current_principal)) -> Principal:
    if p.role != "student":
        raise forbidden("此功能仅供毕业生本人使用。")
    return p


def current_staff(p: Principal = Depends(current_principal)) -> Principal:
    if p.role not in V.STAFF_ROLES:
        raise forbidden("此功能仅供学院或学校就业工作老师使用。")
    return p


def integration_key(x_integration_key: str | None = Header(default=None)) -> None:
    if not x_integration_key or not hmac.compare_digest(
        x_integration_key.encode(), settings.integration_key.encode()
    ):
        raise APIError(401, "not_authenticated", "集成密钥无效。")


def integration_or_service_key(
    x_integration_key: str | None = Header(default=None),
    x_actions_service_key: str | None = Header(default=None),
) -> None:
    """The channels' integration key (Rasa's NLG) or the action server's service key (an action reading the
    current wording of an answer)."""
    if x_actions_service_key is not None and service_key_ok(x_actions_service_key):
        return
    integration_key(x_integration_key)


# --- identity providers ------------------------------------------------------------------------
class IdentityProvider(Protocol):
    name: str

    def login_url(self, service_url: str) -> str: ...

    def validate(self, ticket: str, service_url: str) -> str:
        """Return the authenticated user id (学号 or staff id)."""
        ...


class CasProvider:
    """University unified SSO (统一身份认证), CAS 2/3 serviceValidate."""

    name = "cas"

    def __init__(self, server_url: str, timeout: float = 5.0) -> None:
        self.server_url, self.timeout = server_url.rstrip("/"), timeout

    def login_url(self, service_url: str) -> str:
        return f"{self.server_url}/login?" + httpx.QueryParams({"service": service_url}).__str__()

    def validate(self, ticket: str, service_url: str) -> str:
        try:
            r = httpx.get(
                f"{self.server_url}/p3/serviceValidate",
                params={"ticket": ticket, "service": service_url},
                timeout=self.timeout,
            )
        except httpx.HTTPError as e:
            raise APIError(502, "sso_unavailable", "统一身份认证服务暂时无法访问，请稍后再试。") from e
        if r.status_code != 200:
            raise APIError(502, "sso_unavailable", "统一身份认证服务返回错误，请稍后再试。")
        try:
            root = ET.fromstring(r.text)
        except ET.ParseError as e:
            raise APIError(502, "sso_unavailable", "统一身份认证服务返回的内容无法解析。") from e
        ns = {"cas": "http://www.yale.edu/tp/cas"}
        user = root.find("cas:authenticationSuccess/cas:user", ns)
        name = (user.text or "").strip() if user is not None else ""
        if not name:
            raise APIError(401, "sso_ticket_invalid", "统一身份认证票据无效或已使用，请重新登录。")
        return name


def cas_provider() -> CasProvider | None:
    return CasProvider(settings.cas_server_url) if settings.cas_server_url else None
