"""WeChat Official Account HTTP API (wechatpy's client layer, async): the access token and the
customer-service message API, with aiohttp and timeouts so the event loop never blocks. wechatpy's own client
is synchronous (requests), so only its error codes are used here."""

from __future__ import annotations

import asyncio
import logging
import time

import aiohttp
from wechatpy.constants import WeChatErrorCode

from bot.channels.common import ChannelState

logger = logging.getLogger(__name__)

# the access token is invalid or expired: fetch a new one and try once more
TOKEN_ERRORS = (
    WeChatErrorCode.INVALID_CREDENTIAL.value,
    WeChatErrorCode.INVALID_ACCESS_TOKEN.value,
    WeChatErrorCode.EXPIRED_ACCESS_TOKEN.value,
)
HTTP_ERRORS = (aiohttp.ClientError, asyncio.TimeoutError, OSError, ValueError)


class WeChatAPI:
    """Customer-service messages of one Official Account; `configured` is False without AppID and secret."""

    def __init__(
        self, http: HTTP, appid: str, appsecret: str, api_base: str, shared_token: ChannelState
    ) -> None:
        self.http = http
        self.appid = appid
        self.appsecret = appsecret
        self.api_base = api_base.rstrip("/")
        self.shared_token = shared_token  # channel state: the account's token, shared by every Rasa server
        self._token: tuple[str, float] | None = None
        self._lock: asyncio.Lock | None = None

    @property
    def configured(self) -> bool:
        return bool(self.appid and self.appsecret)

    async def access_token(self, refresh: bool = False) -> str | None:
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            if not refresh and self._token and self._token[1] > time.monotonic():
                return self._token[0]
            # another Rasa server's token: a new one would void it (WeChat keeps one token per account)
            shared = self.shared_token.get(self.appid)
            if shared and shared != (self._token or ("",))[0] and not refresh:
                self._token = (shared, time.monotonic() + 60)
                return shared
            try:
                async with self.http.session().get(
                    self.api_base + "/cgi-bin/token",
                    params={"grant_type": "client_credential", "appid": self.appid, "secret": self.appsecret},
                ) as r:
                    data = await r.json(content_type=None)
            except HTTP_ERRORS:
                logger.warning("wechat: access token request failed")
                return None
            tok = data.get("access_token") if isinstance(data, dict) else None
            if not tok:
                logger.warning("wechat: no access token: %s", data)
                return None
            ttl = max(60, int(data.get("expires_in") or 7200) - 300)
            self._token = (tok, time.monotonic() + ttl)
            self.shared_token.set(self.appid, tok, ttl)
            return tok

    async def send_text(self, openid: str, text: str) -> bool:
        """Send one text through the customer-service API (refreshing an invalid access token once)."""
        if not self.configured:
            return False  # not configured (the demo): the answer waits for a retry instead
        for attempt in range(2):
            tok = await self.access_token(refresh=attempt > 0)
            if not tok:
                return False
            try:
                async with self.http.session().post(
                    self.api_base + "/cgi-bin/message/custom/send",
                    params={"access_token": tok},
                    json={"touser": openid, "msgtype": "text", "text": {"content": text}},
                ) as r:
                    data = await r.json(content_type=None)
            except HTTP_ERRORS:
                logger.warning("wechat: customer-service send failed")
                return False
            code = (
                data.get("errcode", WeChatErrorCode.SUCCESS.value)
                if isinstance(data, dict)
                else WeChatErrorCode.SYSTEM_ERROR.value
            )
            if code == WeChatErrorCode.SUCCESS.value:
                return True
            if code in TOKEN_ERRORS and attempt == 0:
                continue
            logger.warning("wechat: customer-service send refused: %s", data)
            return False
        return False

    async def send_all(self, openid: str, chunks: list[str], delay: float = 0.0) -> None:
        """Send texts in order, stopping at the first failure."""
        if delay:
            await asyncio.sleep(delay)
        for chunk in chunks:
            if not await self.send_text(openid, chunk):
                break


class HTTP:
    """The channel's one aiohttp session (WeChat API and backend), created lazily inside the event loop."""

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self._session: aiohttp.ClientSession | None = None

    def session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=self.timeout, connect=2)
            )
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
