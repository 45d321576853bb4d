"""Answers from the backend's NLG endpoint, the domain's text when it cannot answer (issue 14 §1).

`bot/endpoints.yml`:

    nlg:
      type: bot.nlg.BackendNLG
      url: http://127.0.0.1:8000/api/nlg   # optional: default ${BACKEND_URL}/api/nlg, else 127.0.0.1:8000
      timeout: 0.5                         # seconds per call
      retry_after: 5                       # seconds of domain-only answers after a failed call

Why not Rasa's stock callback NLG (`nlg: url:`): it waits up to 5 minutes for the endpoint, has no fallback (a
down endpoint means no answer at all), opens a new HTTP session per call, and posts the whole tracker (every event
of the conversation, the action token in the metadata) on every response. This class posts Rasa's request format
(`response`, `id`, `arguments`, `channel`) with a slim tracker (sender, slots, latest intent: no events, no
metadata), over one kept-alive session, and answers from the domain (Rasa's TemplatedNaturalLanguageGenerator,
which it extends) on any failure: timeout, connection refused, a 4xx/5xx, an invalid body. A 404 (a response the
backend does not have) is not a failure. It subclasses the templated generator so that Rasa's Agent hands it the
model's domain responses when a model is loaded (Agent.load_model only updates TemplatedNaturalLanguageGenerator).
Loaded by Rasa 3.6's `_load_from_module_name_in_endpoint_config` as `cls(endpoint_config=..., domain=...)`.
"""
from __future__ import annotations

import asyncio
import json
import logging
import os
import time
from typing import Any, Dict, Optional, Text

import aiohttp
from rasa.core.nlg.callback import CallbackNaturalLanguageGenerator
from rasa.core.nlg.generator import ResponseVariationFilter
from rasa.core.nlg.response import TemplatedNaturalLanguageGenerator
from rasa.shared.core.domain import Domain
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig

logger = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 0.5
DEFAULT_RETRY_AFTER = 5.0


def _default_url() -> str:
    return (os.environ.get("BACKEND_URL") or "http://127.0.0.1:8000").rstrip("/") + "/api/nlg"


class BackendNLG(TemplatedNaturalLanguageGenerator):
    """The backend's answer for every response; the domain's when the backend cannot give one."""

    def __init__(self, endpoint_config: Optional[EndpointConfig] = None, domain: Optional[Domain] = None) -> None:
        super().__init__((domain or Domain.empty()).responses)
        cfg = endpoint_config or EndpointConfig()
        self.url = cfg.url or _default_url()
        self.headers = dict(cfg.headers or {})
        self.timeout = float(cfg.kwargs.get("timeout", DEFAULT_TIMEOUT))
        self.retry_after = float(cfg.kwargs.get("retry_after", DEFAULT_RETRY_AFTER))
        self._session: Optional[aiohttp.ClientSession] = None
        self._loop: Optional[asyncio.AbstractEventLoop] = None
        self._down_until = 0.0
        self.stats = {"backend": 0, "domain": 0, "failures": 0}

    def _client(self) -> aiohttp.ClientSession:
        loop = asyncio.get_running_loop()
        if self._session is None or self._session.closed or self._loop is not loop:
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=self.timeout),
                connector=aiohttp.TCPConnector(limit=64, keepalive_timeout=30),
                json_serialize=lambda o: json.dumps(o, ensure_ascii=False, default=str),
            )
            self._loop = loop
        return self._session

    def request_body(self, utter_action: Text, tracker: DialogueStateTracker, output_channel: Text,
                     arguments: Dict[Text, Any]) -> Dict[Text, Any]:
        """Rasa's NLG request (rasa.core.nlg.callback.nlg_request_format) with a slim tracker."""
        latest = tracker.latest_message
        intent = (latest.intent or {}) if latest else {}
        return {
            "response": utter_action,
            "id": ResponseVariationFilter(self.responses).get_response_variation_id(
                utter_action, tracker, output_channel) if utter_action in self.responses else None,
            "arguments": arguments,
            "tracker": {
                "sender_id": tracker.sender_id,
                "slots": tracker.current_slot_values(),
                "latest_message": {"intent": {"name": intent.get("name"), "confidence": intent.get("confidence")}},
            },
            "channel": {"name": output_channel},
        }

    async def _remote(self, body: Dict[Text, Any]) -> Optional[Dict[Text, Any]]:
        async with self._client().post(self.url, json=body, headers=self.headers) as resp:
            if resp.status == 404:
                return None  # the backend does not have this response: the domain's, no failure
            if resp.status != 200:
                raise RuntimeError(f"NLG endpoint answered {resp.status}")
            message = await resp.json(content_type=None)
        if not isinstance(message, dict) or not message:
            raise RuntimeError("NLG endpoint returned no message")
        CallbackNaturalLanguageGenerator.validate_response(message)
        return message

    async def generate(self, utter_action: Text, tracker: DialogueStateTracker, output_channel: Text,
                       **kwargs: Any) -> Optional[Dict[Text, Any]]:
        kwargs.pop("domain_responses", None)
        if time.monotonic() >= self._down_until:
            try:
                message = await self._remote(self.request_body(utter_action, tracker, output_channel, kwargs))
                if message is not None:
                    self.stats["backend"] += 1
                    return message
            except Exception as e:  # noqa: BLE001 - any failure: the student still gets the domain's text
                self.stats["failures"] += 1
                self._down_until = time.monotonic() + self.retry_after
                logger.warning("NLG endpoint %s failed for %s (%s: %s); answering from the domain for %.0f s",
                               self.url, utter_action, type(e).__name__, e, self.retry_after)
        self.stats["domain"] += 1
        return await super().generate(utter_action, tracker, output_channel, **kwargs)
