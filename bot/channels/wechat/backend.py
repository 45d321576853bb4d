"""The backend's WeChat integration endpoints (`/api/integration/wechat/*`, `X-Integration-Key`), async."""

from __future__ import annotations

import logging
from typing import Any

from bot.channels.common import ACTIONS_AUDIENCE, verify_token
from bot.channels.wechat.api import HTTP, HTTP_ERRORS

logger = logging.getLogger(__name__)


class Backend:
    def __init__(self, http: HTTP, url: str, integration_key: str) -> None:
        self.http = http
        self.url = url.rstrip("/")
        self.integration_key = integration_key

    async def __call__(self, method: str, path: str, payload: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """Call an integration endpoint: (status, JSON object); (0, {}) when the backend cannot be reached."""
        try:
            async with self.http.session().request(
                method, self.url + path, json=payload, headers={"X-Integration-Key": self.integration_key}
            ) as r:
                try:
                    data = await r.json(content_type=None)
                except Exception:  # noqa: BLE001 - not JSON
                    data = {}
                return r.status, data if isinstance(data, dict) else {}
        except HTTP_ERRORS:
            logger.warning("wechat: backend %s %s unreachable", method, path)
            return 0, {}

    async def bind(self, openid: str, code: str) -> tuple[int, dict[str, Any]]:
        return await self("POST", "/api/integration/wechat/bind", {"openid": openid, "code": code})

    async def unbind(self, openid: str) -> int:
        return (await self("DELETE", "/api/integration/wechat/bind", {"openid": openid}))[0]

    async def set_notices(self, openid: str, enabled: bool) -> int:
        return (
            await self("POST", "/api/integration/wechat/notices", {"openid": openid, "enabled": enabled})
        )[0]

    async def student_token(self, openid: str) -> tuple[int, str | None, dict[str, Any] | None]:
        """(status, the bound student's short-lived action token, its verified claims); 404 when not bound."""
        status, data = await self("POST", "/api/integration/wechat/token", {"openid": openid})
        token = data.get("access_token") if status == 200 else None
        claims = verify_token(token, audience=ACTIONS_AUDIENCE) if token else None
        return status, (token if claims else None), claims
