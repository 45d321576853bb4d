"""The backend's one WeChat HTTP client: the official account's access token (cached until shortly before it
expires, refreshed once when WeChat says it is invalid), customer-service and template messages, WeChat's
error codes by name, and the 48-hour customer-service window.

Used by the notices' delivery (services/notices/delivery.py) and the counselors' replies
(services/handoff/delivery.py). httpx rather than wechatpy's client: wechatpy is a dependency of the Rasa
environment only (the WeChat channel, requirements/rasa.txt), not of the backend's; the backend needs two
POSTs and a token, and httpx gives it the timeouts and the WECHAT_API_BASE a test points at its fake WeChat.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from enum import IntEnum
from typing import Any

import httpx

from backend import models as M
from backend.core import clock
from backend.core.config import settings

logger = logging.getLogger("backend.notices")


class ErrCode(IntEnum):
    """WeChat's `errcode`s the backend acts on (UNREACHABLE: no answer from WeChat at all)."""

    UNREACHABLE = -1
    OK = 0
    INVALID_CREDENTIAL = 40001  # the access token is invalid or expired
    INVALID_OPENID = 40003
    INVALID_ACCESS_TOKEN = 40014
    INVALID_TEMPLATE_ID = 40037
    ACCESS_TOKEN_EXPIRED = 42001
    UNSUBSCRIBED = 43004
    USER_REFUSED = 43101
    OUT_OF_TIME_LIMIT = 45015  # the customer-service window closed
    CS_MESSAGE_LIMIT = 45047  # too many customer-service messages since the user last wrote
    TEMPLATE_DATA_INVALID = 47003
    API_UNAUTHORIZED = 48001


WINDOW = dt.timedelta(hours=48)
WINDOW_MARGIN = dt.timedelta(minutes=10)  # clocks differ a little: better a template than a refused message
OUT_OF_WINDOW = {ErrCode.OUT_OF_TIME_LIMIT, ErrCode.CS_MESSAGE_LIMIT}
TOKEN_EXPIRED = {ErrCode.INVALID_CREDENTIAL, ErrCode.INVALID_ACCESS_TOKEN, ErrCode.ACCESS_TOKEN_EXPIRED}
# WeChat's answers that no retry can change: record them and stop (anything else is retried with back-off)
PERMANENT: dict[int, str] = {
    ErrCode.INVALID_OPENID: "invalid_openid",
    ErrCode.UNSUBSCRIBED: "unsubscribed",
    ErrCode.USER_REFUSED: "user_refused",
    ErrCode.INVALID_TEMPLATE_ID: "invalid_template_id",
    ErrCode.TEMPLATE_DATA_INVALID: "template_data_invalid",
    ErrCode.API_UNAUTHORIZED: "api_unauthorized",
}


def in_window(inbound: M.WechatInbound | None) -> bool:
    """Inside WeChat's 48-hour customer-service window of the openid's last message (with a margin)."""
    return inbound is not None and clock.now() - clock.aware(inbound.at) < WINDOW - WINDOW_MARGIN


class WechatApi:
    """The two send APIs (customer-service and template messages) with an access token of the account."""

    def __init__(self) -> None:
        self.base = settings.wechat_api_base.rstrip("/")
        self.appid, self.secret = settings.wechat_appid, settings.wechat_appsecret
        self.template_id = settings.wechat_notice_template_id
        self.page_url = settings.wechat_notice_url
        self.http = httpx.Client(timeout=httpx.Timeout(5.0, connect=2.0), trust_env=False)
        self._token: tuple[str, float] | None = None

    @property
    def configured(self) -> bool:
        return bool(self.appid and self.secret)

    def token(self, refresh: bool = False) -> str | None:
        if not refresh and self._token and self._token[1] > time.monotonic():
            return self._token[0]
        try:
            data = self.http.get(
                self.base + "/cgi-bin/token",
                params={"grant_type": "client_credential", "appid": self.appid, "secret": self.secret},
            ).json()
        except (httpx.HTTPError, ValueError):
            return None
        tok = data.get("access_token") if isinstance(data, dict) else None
        if not tok:
            logger.warning("notices: no WeChat access token: %s", data)
            return None
        self._token = (tok, time.monotonic() + max(60, int(data.get("expires_in") or 7200) - 300))
        return tok

    def _post(self, path: str, body: dict) -> int:
        """WeChat's errcode (0 = sent); -1 when WeChat could not be reached."""
        for attempt in range(2):
            tok = self.token(refresh=attempt > 0)
            if not tok:
                return ErrCode.UNREACHABLE.value
            try:
                data = self.http.post(self.base + path, params={"access_token": tok}, json=body).json()
            except (httpx.HTTPError, ValueError):
                return ErrCode.UNREACHABLE.value
            code = int(data.get("errcode", 0)) if isinstance(data, dict) else ErrCode.UNREACHABLE.value
            if code in TOKEN_EXPIRED and attempt == 0:
                continue
            return code
        return ErrCode.UNREACHABLE.value

    def send_text(self, openid: str, text: str) -> int:
        return self._post(
            "/cgi-bin/message/custom/send", {"touser": openid, "msgtype": "text", "text": {"content": text}}
        )

    def send_template(self, openid: str, data: dict[str, Any]) -> int:
        """A template message (WECHAT_NOTICE_TEMPLATE_ID) with its fields (`{"first": {"value": ...}, ...}`);
        the page WECHAT_NOTICE_URL when set."""
        body: dict[str, Any] = {"touser": openid, "template_id": self.template_id, "data": data}
        if self.page_url:
            body["url"] = self.page_url
        return self._post("/cgi-bin/message/template/send", body)
