"""The handoff gate (issue 15 §2), shared by the REST and WeChat channels: before a student's message goes to
Rasa, ask the backend whether a person holds the conversation (POST /api/integration/handoff/inbound with the
integration key). While held, the backend keeps the message for the counselor and Rasa is not called: the bot
stays silent. The state is in the backend's database, so every Rasa process agrees and a restart loses nothing.

`check` returns None (let the bot answer) or {"held": True, "state": ..., "reply": text or None}. When the
backend cannot be reached within HANDOFF_GATE_TIMEOUT (default 2 s) the bot answers (a student is never left
without any answer; the counselor's page shows the conversation as it was). HANDOFF_GATE=0 turns the gate off.
"""
from __future__ import annotations

import asyncio
import logging
import os
import time
from typing import Any, Dict, Optional

import aiohttp

logger = logging.getLogger(__name__)


def _timeout() -> float:
    try:
        return max(0.2, float(os.environ.get("HANDOFF_GATE_TIMEOUT") or 2.0))
    except ValueError:
        return 2.0


class HandoffGate:
    def __init__(self, backend_url: Optional[str] = None, integration_key: Optional[str] = None) -> None:
        self.url = (backend_url or os.environ.get("BACKEND_URL") or "http://127.0.0.1:8000").rstrip("/") \
            + "/api/integration/handoff/inbound"
        self.key = integration_key or os.environ.get("INTEGRATION_KEY") or "demo-integration-key"
        self.enabled = (os.environ.get("HANDOFF_GATE") or "1").strip().lower() not in {"0", "false", "no", "off"}
        self._session: Optional[aiohttp.ClientSession] = None
        self._loop: Optional[asyncio.AbstractEventLoop] = None
        self._warned_at = 0.0

    def _http(self) -> aiohttp.ClientSession:
        loop = asyncio.get_running_loop()
        if self._session is None or self._session.closed or self._loop is not loop:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=_timeout()))
            self._loop = loop
        return self._session

    async def check(self, conversation: str, channel: str, text: str) -> Optional[Dict[str, Any]]:
        if not self.enabled:
            return None
        try:
            async with self._http().post(self.url, json={"conversation": conversation, "channel": channel,
                                                         "text": text[:1000]},
                                         headers={"X-Integration-Key": self.key}) as r:
                data = await r.json(content_type=None) if r.status == 200 else None
                if r.status != 200:
                    logger.warning("handoff gate: backend answered %s for %s", r.status, conversation)
        except (aiohttp.ClientError, asyncio.TimeoutError, ValueError):
            now = time.monotonic()
            if now - self._warned_at > 60:
                self._warned_at = now
                logger.warning("handoff gate: backend unreachable: the bot answers", exc_info=True)
            return None
        if isinstance(data, dict) and data.get("held"):
            reply = data.get("reply")
            return {"held": True, "state": data.get("state"), "reply": reply if isinstance(reply, str) else None}
        return None
