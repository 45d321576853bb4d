"""Fixtures for the custom-action tests: a REAL backend process (uvicorn, temp SQLite, demo seed, pinned today)
and helpers that run an action the way the action server does (Tracker.from_dict + CollectingDispatcher)."""

from __future__ import annotations

import asyncio
import functools
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from contracts import nlg
from system import ROOT, System, free_port  # noqa: F401 - ROOT, free_port: for the tests

TODAY = "2026-11-30"  # a Monday; the demo data is seeded relative to "today"


class Backend:
    """A backend process (the launcher library's, system/) on its own SQLite database and "today"."""

    def __init__(self, tmp: Path):
        self.today_file = tmp / "today.txt"
        self.today_file.write_text(TODAY)
        self.system = System(
            database_url=f"sqlite:///{tmp}/actions.db",
            log_dir=tmp / "log",
            env={
                "DEMO_MODE": "1",
                "TODAY_FILE": str(self.today_file),
                "TODAY": None,
                "AUTH_SECRET": "actions-test-secret",
                "INTEGRATION_KEY": "actions-test-key",
            },
        )
        self.url = self.system.backend_url
        self._tokens: dict[str, str] = {}

    def start(self) -> Backend:
        self.system.prepare_database(seed=True)
        self.system.start_backend(timeout=40)
        return self

    def stop(self) -> None:
        self.system.stop()

    def token(self, student_id: str) -> str:
        if student_id not in self._tokens:
            r = httpx.post(f"{self.url}/api/auth/dev-login", json={"student_id": student_id}, timeout=30)
            assert r.status_code == 200, r.text
            self._tokens[student_id] = r.json()["access_token"]
        return self._tokens[student_id]

    def staff_token(self, staff_id: str) -> str:
        r = httpx.post(f"{self.url}/api/auth/dev-login", json={"staff_id": staff_id}, timeout=30)
        assert r.status_code == 200, r.text
        return r.json()["access_token"]

    def get(self, path: str, student_id: str) -> Any:
        r = httpx.get(
            self.url + path, headers={"Authorization": f"Bearer {self.token(student_id)}"}, timeout=30
        )
        assert r.status_code == 200, r.text
        return r.json()


@pytest.fixture(scope="session")
def backend(tmp_path_factory):
    b = Backend(tmp_path_factory.mktemp("actions-backend")).start()
    yield b
    b.stop()


@pytest.fixture
def fresh_backend(tmp_path):
    """A private backend for tests that change data (mailing, forms)."""
    b = Backend(tmp_path).start()
    yield b
    b.stop()


@pytest.fixture(autouse=True)
def _backend_env(request, monkeypatch):
    """Point the actions at the backend the test uses (BACKEND_URL is read per call)."""
    for name in ("fresh_backend", "backend"):
        if name in request.fixturenames:
            monkeypatch.setenv("BACKEND_URL", request.getfixturevalue(name).url)
            break
    monkeypatch.setenv("BACKEND_TIMEOUT", "3")


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
    """What the student gets for one message of an action: a `response=` message filled from the domain the way
    Rasa does (contracts/nlg.generate is the port of Rasa's templated generator), its own buttons added."""
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
