"""Answers from the backend (staff edit them without retraining), the domain's text when it cannot answer
(issue 14 §1).

`bot/endpoints.yml`:

    nlg:
      type: bot.nlg.BackendNLG
      url: http://127.0.0.1:8000/api/nlg   # optional: default ${BACKEND_URL}/api/nlg, else 127.0.0.1:8000
      timeout: 0.5                         # seconds per call to the backend
      retry_after: 5                       # seconds of domain-only answers after a failed call
      poll_seconds: 0.5                    # how often the copy of the answers is checked (0: no copy)

How an answer is made, first that applies:
1. From this process's copy of the backend's answers: a task polls `GET {url}/responses?since=<revision>`
   every `poll_seconds`, off the students' turns (`changed: false` while nothing changed; all answers when
   something did). The copy is rendered by Rasa's own TemplatedNaturalLanguageGenerator (variations,
   conditions, channels, `{variables}` from the slots and from the arguments of a custom action's
   `utter_message(response=..., **args)`, as Rasa does; FilledNLG only fixes Rasa's unfilled template for a
   value containing "0["), plus the `依据：` source line. An edit reaches students within
   `poll_seconds`, i.e. on their next turn, with no backend call on the turn (a call per turn cost up to 18 ms
   p50 on a busy 2-core machine: bench/nlg_cost.py). A response the backend does not have: the domain's.
2. When there is no fresh copy (the backend is down or not reached yet): Rasa's NLG request (`response`, `id`,
   `arguments`, `channel`, a slim tracker with the slots; no events, no metadata, so no token) posted to
   `url`, with `timeout`, over one kept-alive session.
3. The domain's text (Rasa's TemplatedNaturalLanguageGenerator, which this class extends) on any failure of
   2., then for `retry_after` seconds without asking. So with the backend down, students get the domain's text
   once the poll has noticed (within `poll_seconds`), as the issue asks.

Why not Rasa's stock callback NLG (`nlg: url:`): it waits up to 5 minutes for the endpoint, has no fallback (a
down endpoint means no answer at all), opens a new HTTP session per call and posts the whole tracker (every
event, the action token in the metadata) on every response. This class subclasses the templated generator so
that Rasa's Agent hands it the model's domain responses when a model is loaded (Agent.load_model only updates
a TemplatedNaturalLanguageGenerator). Rasa 3.6 loads it as `cls(endpoint_config=..., domain=...)`.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Any

import aiohttp
from rasa.core.nlg.callback import CallbackNaturalLanguageGenerator
from rasa.core.nlg.generator import ResponseVariationFilter
from rasa.core.nlg.response import TemplatedNaturalLanguageGenerator
from rasa.shared.core.domain import Domain
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig

# Rasa's {variable} filling, without its "0[" flaw (plain Python, no deps)
from contracts import nlg as filling
from contracts.settings import rasa as rasa_settings

logger = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 0.5
DEFAULT_RETRY_AFTER = 5.0
DEFAULT_POLL = 0.5


def _default_url() -> str:
    return rasa_settings().backend_url + "/api/nlg"


class FilledNLG(TemplatedNaturalLanguageGenerator):
    """Rasa's templated generator whose {variables} are filled by contracts.nlg.interpolate: a value with "0["
    in it (an address "A栋10[2]号" typed into a form, inside {lines}) is filled in, where Rasa returns the raw
    template. Everything else as Rasa: slots and the arguments of utter_message(response=..., **arguments)."""

    def _fill_response(
        self, response: dict[str, Any], filled_slots: dict[str, Any] | None = None, **kwargs: Any
    ) -> dict[str, Any]:
        values = self._response_variables(filled_slots, kwargs)
        if values:
            for key in filling.KEYS_TO_INTERPOLATE:
                if key in response:
                    response[key] = filling.interpolate(response[key], values)
        return response


class BackendNLG(FilledNLG):
    """The backend's answer for every response; the domain's when the backend cannot give one."""

    def __init__(self, endpoint_config: EndpointConfig | None = None, domain: Domain | None = None) -> None:
        super().__init__((domain or Domain.empty()).responses)
        cfg = endpoint_config or EndpointConfig()
        self.url = cfg.url or _default_url()
        # the backend's NLG routes need the integration key (issue 21 §9): `headers:` of the endpoint config
        # (Rasa's EndpointConfig; e.g. X-Integration-Key: ${INTEGRATION_KEY}) or else INTEGRATION_KEY
        self.headers = dict(cfg.headers or {})
        if not any(k.lower() == "x-integration-key" for k in self.headers):
            self.headers["X-Integration-Key"] = rasa_settings().integration_key
        self.timeout = float(cfg.kwargs.get("timeout", DEFAULT_TIMEOUT))
        self.retry_after = float(cfg.kwargs.get("retry_after", DEFAULT_RETRY_AFTER))
        self._session: aiohttp.ClientSession | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._down_until = 0.0
        self.poll_seconds = float(cfg.kwargs.get("poll_seconds", DEFAULT_POLL))
        self.responses_url = cfg.kwargs.get("responses_url") or self.url.rstrip("/") + "/responses"
        self.copy: FilledNLG | None = None  # the backend's answers, when fresh
        self.sources: dict[str, str] = {}
        self.source_prefix = "依据："
        self.revision: int | None = None
        self.synced_at = float("-inf")
        self._poller: asyncio.Task | None = None
        self.stats = {"copy": 0, "backend": 0, "domain": 0, "failures": 0}

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

    # --- the copy of the backend's answers ----------------------------------------------------------------
    def _start_poller(self) -> None:
        if self.poll_seconds <= 0:
            return
        loop = asyncio.get_running_loop()
        if self._poller is None or self._poller.done() or self._poller.get_loop() is not loop:
            self._poller = loop.create_task(self._poll())

    async def _poll(self) -> None:
        while True:
            try:
                await self.sync()
            except asyncio.CancelledError:
                raise
            except Exception as e:  # noqa: BLE001 - no copy until the backend answers again
                if self.copy is not None:
                    logger.warning(
                        "NLG: the backend's answers are unreachable (%s: %s); answering without them",
                        type(e).__name__,
                        e,
                    )
                self.copy, self.revision = None, None
            await asyncio.sleep(self.poll_seconds)

    async def sync(self) -> None:
        params = {"since": str(self.revision)} if self.revision is not None and self.copy is not None else {}
        async with self._client().get(self.responses_url, params=params, headers=self.headers) as resp:
            if resp.status != 200:
                raise RuntimeError(f"answers endpoint answered {resp.status}")
            data = await resp.json(content_type=None)
        if data.get("changed"):
            self.copy = FilledNLG(dict(data.get("responses") or {}))
            self.sources = dict(data.get("sources") or {})
            self.source_prefix = str(data.get("source_prefix") or self.source_prefix)
        self.revision = int(data["revision"])
        self.synced_at = time.monotonic()

    def _fresh_copy(self) -> FilledNLG | None:
        stale_after = max(2.0, 4 * self.poll_seconds)
        return self.copy if time.monotonic() - self.synced_at <= stale_after else None

    async def _from_copy(
        self,
        copy: FilledNLG,
        utter_action: str,
        tracker: DialogueStateTracker,
        output_channel: str,
        kwargs: dict[str, Any],
    ) -> dict[str, Any] | None:
        message = await copy.generate(utter_action, tracker, output_channel, **kwargs)
        if message is None:
            return None
        source = self.sources.get(utter_action)
        if source and message.get("text"):
            message["text"] = f"{message['text']}\n{self.source_prefix}{source}"
        return message

    # --- one call per response (no fresh copy) -------------------------------------------------------------
    def request_body(
        self, utter_action: str, tracker: DialogueStateTracker, output_channel: str, arguments: dict[str, Any]
    ) -> dict[str, Any]:
        """Rasa's NLG request (rasa.core.nlg.callback.nlg_request_format) with a slim tracker."""
        latest = tracker.latest_message
        intent = (latest.intent or {}) if latest else {}
        return {
            "response": utter_action,
            "id": ResponseVariationFilter(self.responses).get_response_variation_id(
                utter_action, tracker, output_channel
            )
            if utter_action in self.responses
            else None,
            "arguments": arguments,
            "tracker": {
                "sender_id": tracker.sender_id,
                "slots": tracker.current_slot_values(),
                "latest_message": {
                    "intent": {"name": intent.get("name"), "confidence": intent.get("confidence")}
                },
            },
            "channel": {"name": output_channel},
        }

    async def _remote(self, body: dict[str, Any]) -> dict[str, Any] | None:
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

    async def generate(
        self, utter_action: str, tracker: DialogueStateTracker, output_channel: str, **kwargs: Any
    ) -> dict[str, Any] | None:
        kwargs.pop("domain_responses", None)
        self._start_poller()
        copy = self._fresh_copy()
        if copy is not None:
            if utter_action in copy.responses:
                message = await self._from_copy(copy, utter_action, tracker, output_channel, kwargs)
                if message is not None:
                    self.stats["copy"] += 1
                    return message
            self.stats["domain"] += 1
            return await super().generate(utter_action, tracker, output_channel, **kwargs)
        if time.monotonic() >= self._down_until:
            try:
                message = await self._remote(self.request_body(utter_action, tracker, output_channel, kwargs))
                if message is not None:
                    self.stats["backend"] += 1
                    return message
            except Exception as e:  # noqa: BLE001 - any failure: the student still gets the domain's text
                self.stats["failures"] += 1
                self._down_until = time.monotonic() + self.retry_after
                logger.warning(
                    "NLG endpoint %s failed for %s (%s: %s); answering from the domain for %.0f s",
                    self.url,
                    utter_action,
                    type(e).__name__,
                    e,
                    self.retry_after,
                )
        self.stats["domain"] += 1
        return await super().generate(utter_action, tracker, output_channel, **kwargs)
