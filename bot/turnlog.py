"""Every turn, for the staff page of what students ask (issue 14 §3): a Rasa event broker.

`bot/endpoints.yml`:

    event_broker:
      type: bot.turnlog.TurnLogBroker
      url: http://127.0.0.1:8000/api/integration/turns  # default ${BACKEND_URL}/api/integration/turns
      flush_seconds: 1  # batch interval

Rasa streams each conversation's new events to the broker when the tracker is saved
(TrackerStore.stream_events). This broker puts a turn together (the student's message, then bot messages and
actions, up to the next action_listen) and posts turns in batches to the backend with the integration key
(INTEGRATION_KEY), off the student's turn: `publish` only appends to a queue. Sent per turn: time, channel,
conversation id, intent and confidence, the answer key (the response, e.g. utter_faq/login, or the custom
action), fallback or not, a request for a person or not, the student id for signed-in students
(metadata.user_id set by our channels from the verified token) and the message text, which is replaced by a
placeholder while a form is being filled (form answers are personal data; whether a form was open comes with
the user event from the tracker store, `form_open`, read from the conversation's own events, so it holds after
a restart of Rasa and on every server of a cluster); the backend masks numbers and e-mail addresses. Never the
token or other metadata. If the backend is unreachable, batches are retried for a while and then dropped (the
log is for staff, not for the student).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from typing import Any

import aiohttp
from rasa.core.brokers.broker import EventBroker
from rasa.utils.endpoints import EndpointConfig

from contracts.outcome import FALLBACK_ACTIONS, FALLBACK_INTENTS, FALLBACK_RESPONSES, HANDOFF_ACTIONS
from contracts.settings import rasa as rasa_settings

logger = logging.getLogger(__name__)

FORM_PLACEHOLDER = "（表单填写中的内容，不记录）"
SKIP_ACTIONS = {"action_listen", "action_session_start", "action_extract_slots", "action_unlikely_intent"}
MAX_OPEN = 20000  # conversations with a turn in progress
MAX_QUEUE = 20000  # turns waiting for the backend
MAX_BATCH = 200


def _default_url() -> str:
    return rasa_settings().backend_url + "/api/integration/turns"


class TurnLogBroker(EventBroker):
    def __init__(self, url: str | None = None, key: str | None = None, flush_seconds: float = 1.0) -> None:
        self.url = url or _default_url()
        self.key = key if key is not None else rasa_settings().integration_key
        self.flush_seconds = flush_seconds
        self.open: OrderedDict[str, dict[str, Any]] = OrderedDict()
        self.forms: OrderedDict[str, bool] = OrderedDict()
        self.queue: list[dict[str, Any]] = []
        self._task: asyncio.Task | None = None
        self._session: aiohttp.ClientSession | None = None
        self.sent = self.dropped = 0

    @classmethod
    async def from_endpoint_config(
        cls, broker_config: EndpointConfig, event_loop: asyncio.AbstractEventLoop | None = None
    ) -> TurnLogBroker:
        kw = broker_config.kwargs if broker_config else {}
        return cls(
            url=broker_config.url if broker_config else None,
            flush_seconds=float(kw.get("flush_seconds", 1.0)),
        )

    # --- assembling turns -------------------------------------------------------------------------------
    def publish(self, event: dict[str, Any]) -> None:
        try:
            self._on_event(event)
        except Exception:  # noqa: BLE001 - the log must never break a student's turn
            logger.exception("turn log: could not use event %s", event.get("event"))

    def _on_event(self, event: dict[str, Any]) -> None:
        sender, kind = str(event.get("sender_id") or ""), event.get("event")
        if kind == "active_loop":
            self.forms[sender] = bool(event.get("name"))
            self.forms.move_to_end(sender)
            while len(self.forms) > MAX_OPEN:
                self.forms.popitem(last=False)
        elif kind == "user":
            self._finish(sender)
            parse = event.get("parse_data") or {}
            intent = parse.get("intent") or {}
            meta = event.get("metadata") or {}
            student = meta.get("user_id") if meta.get("role") == "student" else None
            # a form open when this was typed: from the conversation's own events (bot/tracker_store.py), else
            # (another tracker store) what this process saw
            in_form = (
                event["form_open"]
                if isinstance(event.get("form_open"), bool)
                else self.forms.get(sender, False)
            )
            self.open[sender] = {
                "at": event.get("timestamp") or time.time(),
                "channel": str(meta.get("channel") or event.get("input_channel") or "")[:20],
                "conversation": sender[:80],
                "student_id": str(student)[:20] if student else None,
                "question": FORM_PLACEHOLDER if in_form else str(event.get("text") or "")[:1000],
                "intent": intent.get("name"),
                "confidence": intent.get("confidence"),
                "answer_key": None,
                "fallback": intent.get("name") in FALLBACK_INTENTS,
                "handoff": False,
            }
            while len(self.open) > MAX_OPEN:
                self.open.popitem(last=False)
        elif kind == "bot":
            turn = self.open.get(sender)
            key = (event.get("metadata") or {}).get("utter_action")
            if turn is not None and key and not turn["answer_key"]:
                turn["answer_key"] = key
            if turn is not None and key in FALLBACK_RESPONSES:
                turn["fallback"] = True
        elif kind == "action":
            name = event.get("name")
            turn = self.open.get(sender)
            if name == "action_listen":
                self._finish(sender)
            elif turn is not None and name and name not in SKIP_ACTIONS:
                if name in FALLBACK_ACTIONS:
                    turn["fallback"] = True
                if name in HANDOFF_ACTIONS:
                    turn["handoff"] = True
                if (
                    not turn["answer_key"]
                    and not name.startswith("utter_")
                    and not name.endswith("_form")
                    and not name.startswith("validate_")
                ):
                    turn["answer_key"] = name

    def _finish(self, sender: str) -> None:
        turn = self.open.pop(sender, None)
        if turn is None:
            return
        if turn["confidence"] is not None:
            turn["confidence"] = max(0.0, min(1.0, float(turn["confidence"])))
        if len(self.queue) >= MAX_QUEUE:
            self.dropped += 1
            return
        self.queue.append(turn)
        self._schedule()

    # --- sending ----------------------------------------------------------------------------------------
    def _schedule(self) -> None:
        if self._task is not None and not self._task.done():
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return  # no loop (e.g. a script): sent by the next turn that has one, or by close()
        self._task = loop.create_task(self._flush_later())

    async def _flush_later(self) -> None:
        await asyncio.sleep(self.flush_seconds)
        await self.flush()

    async def flush(self) -> None:
        tries = 0
        while self.queue:
            batch = self.queue[:MAX_BATCH]
            try:
                if self._session is None or self._session.closed:
                    self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5))
                async with self._session.post(
                    self.url, json={"turns": batch}, headers={"X-Integration-Key": self.key}
                ) as r:
                    if r.status >= 500:
                        raise RuntimeError(f"backend answered {r.status}")
                    if r.status != 200:  # a 4xx will not get better by retrying: drop the batch
                        logger.warning("turn log: backend refused %d turns (%s)", len(batch), r.status)
                        self.dropped += len(batch)
                    else:
                        self.sent += len(batch)
                del self.queue[: len(batch)]
                tries = 0
            except Exception as e:  # noqa: BLE001
                tries += 1
                if tries >= 5:
                    logger.warning("turn log: backend unreachable (%s); dropping %d turns", e, len(batch))
                    self.dropped += len(batch)
                    del self.queue[: len(batch)]
                    tries = 0
                else:
                    await asyncio.sleep(min(30.0, 2**tries))

    async def close(self) -> None:
        for sender in list(self.open):
            self._finish(sender)
        if self.queue:
            await self.flush()
        if self._session is not None:
            await self._session.close()
