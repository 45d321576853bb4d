"""Run a custom action the way the action server does (Tracker.from_dict + CollectingDispatcher), render its
messages the way Rasa does, and drive a form turn by turn (Chat)."""

from __future__ import annotations

import asyncio
import functools
import time
import uuid

import yaml
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from contracts import nlg
from system import ROOT


def make_tracker(
    text: str,
    intent: str,
    token: str | None = None,
    slots: dict | None = None,
    events: list | None = None,
    active_loop: str | None = None,
    sender: str | None = None,
    metadata: dict | None = None,
    latest_action: str = "action_listen",
    message_id: str | None = None,
    after: dict | None = None,
) -> Tracker:
    """A tracker as the Rasa 3.6 server sends it: metadata on latest_message AND on the user event."""
    meta = dict(metadata or {})
    if token is not None:
        meta["token"] = token
    mid = message_id or uuid.uuid4().hex
    parse = {
        "intent": {"name": intent, "confidence": 0.99},
        "entities": [],
        "text": text,
        "message_id": mid,
        "metadata": meta,
    }
    user_event = {
        "event": "user",
        "timestamp": time.time(),
        "text": text,
        "parse_data": parse,
        "input_channel": "rest",
        "message_id": mid,
        "metadata": meta,
    }
    evs = list(events or []) + [user_event]
    # slots extracted from this message (what action_extract_slots logs before the form validates them)
    if active_loop and latest_action == "action_listen":
        # Rasa 3.6 sends a form's validation action: ..., user, slots, the form's own action event, then the
        # slot candidates extracted from this message (checked against a real Rasa server)
        evs.append({"event": "action", "timestamp": time.time(), "name": active_loop})
        latest_action = active_loop
    for name, value in (after or {}).items():
        evs.append({"event": "slot", "timestamp": time.time(), "name": name, "value": value})
    return Tracker.from_dict(
        {
            "sender_id": sender or f"test-{uuid.uuid4().hex[:8]}",
            "slots": {**dict(slots or {}), **dict(after or {})},
            "latest_message": parse,
            "events": evs,
            "paused": False,
            "followup_action": None,
            "active_loop": {"name": active_loop} if active_loop else {},
            "latest_action_name": latest_action,
            "latest_action": {"action_name": latest_action},
            "latest_input_channel": "rest",
        }
    )


def run_action(action, tracker: Tracker, domain: dict | None = None) -> tuple[list[dict], list[dict]]:
    """Run one action; returns (messages, events)."""
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, tracker, domain or {}))
    return dispatcher.messages, events


# the keys of rasa_sdk's utter_message; every other key of a message is a variable of its response
MESSAGE_KEYS = {"text", "buttons", "elements", "custom", "template", "response", "image", "attachment"}


@functools.lru_cache(maxsize=1)
def domain_responses() -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for f in sorted((ROOT / "bot" / "domain").glob("*.yml")):
        out.update((yaml.safe_load(f.read_text(encoding="utf-8")) or {}).get("responses") or {})
    return out


def render(m: dict) -> dict:
    """What the student gets for one message of an action: a `response=` message filled from the domain the
    way Rasa does (contracts/nlg.generate is the port of Rasa's templated generator), its own buttons
    added."""
    if not m.get("response"):
        return m
    variations = domain_responses().get(m["response"])
    assert variations, f"the action sent {m['response']}, which no file in bot/domain defines"
    args = {k: v for k, v in m.items() if k not in MESSAGE_KEYS}
    out = nlg.generate(variations, "rest", {}, args)
    assert out is not None, m
    assert not nlg.placeholders(out.get("text") or ""), (
        f"unfilled variable in {m['response']}: {out.get('text')}"
    )
    out["buttons"] = list(out.get("buttons") or []) + list(m.get("buttons") or [])
    return out


def texts(messages: list[dict]) -> str:
    out = []
    for m in map(render, messages):
        if m.get("text"):
            out.append(m["text"])
        for b in m.get("buttons") or []:
            out.append(b.get("title", ""))
    return "\n".join(out)


class Chat:
    """Keeps the slots like Rasa does and runs the validation action for each turn."""

    def __init__(self, action, token: str | None, form):
        self.action, self.token, self.form = action, token, form
        self.slots: dict = {}
        self.last = ""

    def _apply(self, events):
        for e in events:
            if e.get("event") == "slot":
                self.slots[e["name"]] = e["value"]

    def start(self, intent="fill_profile") -> str:
        self.slots["requested_slot"] = None
        t = make_tracker("开始", intent, self.token, slots=self.slots, active_loop=self.form.name)
        msgs, ev = run_action(self.action, t)
        self._apply(ev)
        self.last = texts(msgs)
        return self.last

    def say(self, text: str, intent: str = "inform", value=None) -> str:
        req = self.slots.get("requested_slot")
        after = {}
        if intent not in ("stop_form", "correct_field", "handoff"):
            if req == self.form.confirm_slot:
                if intent in ("affirm", "deny"):
                    after = {req: intent == "affirm"}
            elif req:
                after = {req: text if value is None else value}
        t = make_tracker(text, intent, self.token, slots=self.slots, active_loop=self.form.name, after=after)
        msgs, ev = run_action(self.action, t)
        self._apply(ev)
        self.last = texts(msgs)
        return self.last

    @property
    def asking(self):
        return self.slots.get("requested_slot")
