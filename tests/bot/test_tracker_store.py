"""bot/tracker_store.py against Rasa's own InMemoryTrackerStore, in the Rasa venv (Python 3.10).

Every check runs the same operations on both stores and compares what they hand back, so a difference in
semantics (a lost slot, a second session leaking in, a retrieved tracker that aliases the stored one) fails.
The store also runs under every e2e test (bot/endpoints.yml).
"""
from __future__ import annotations

import json
import os
import subprocess

import pytest

from scripts.system import ROOT

SCRIPT = r"""
import asyncio, json
from rasa.core.tracker_store import InMemoryTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (ActionExecuted, BotUttered, SessionStarted, SlotSet, UserUttered,
                                     ActiveLoop)
from rasa.shared.core.trackers import EventVerbosity
from bot.tracker_store import InProcessTrackerStore

domain = Domain.from_directory("bot/domain")
out = {}

def state(t):
    return None if t is None else t.current_state(EventVerbosity.ALL)

def turn(t, text, intent, slot=None):
    t.update(UserUttered(text, {"name": intent, "confidence": 0.9}))
    if slot:
        t.update(SlotSet(*slot))
    t.update(ActionExecuted("utter_greet"))
    t.update(BotUttered("你好"))
    t.update(ActionExecuted("action_listen"))

def new_session(t):
    t.update(ActionExecuted("action_session_start"))
    t.update(SessionStarted())
    t.update(ActionExecuted("action_listen"))

async def other(store):
    # another student's turn in between: with hot_conversations=1 it pushes student:1 to the JSON tier
    t = await store.get_or_create_tracker("student:9")
    turn(t, "别人的一句", "greet")
    await store.save(t)

async def scenario(store):
    r = {}
    t = await store.get_or_create_tracker("student:1")
    new_session(t)
    turn(t, "你好", "greet")
    slot = next(iter(domain.slots)).name
    turn(t, "继续", "affirm", (slot, "x"))
    await store.save(t)
    await other(store)
    got = await store.retrieve("student:1")
    r["first"] = state(got)
    # a caller changing what it retrieved must not change the store until it saves
    turn(got, "不保存的一句", "deny")
    r["unsaved"] = state(await store.retrieve("student:1"))
    # a second session: retrieve gives only the last one, the full tracker has both
    t = await store.retrieve("student:1")
    new_session(t)
    turn(t, "第二次", "greet")
    await store.save(t)
    await other(store)
    r["last_session"] = state(await store.retrieve("student:1"))
    r["full"] = state(await store.retrieve_full_tracker("student:1"))
    r["missing"] = state(await store.retrieve("student:2"))
    r["exists"] = [await store.exists("student:1"), await store.exists("student:2")]
    r["keys"] = sorted(await store.keys())
    r["hot"] = sorted(getattr(store, "hot", {}))
    return r

stock = asyncio.run(scenario(InMemoryTrackerStore(domain)))
ours = asyncio.run(scenario(InProcessTrackerStore(domain)))
small = asyncio.run(scenario(InProcessTrackerStore(domain, hot_conversations=1)))
print(json.dumps({"stock": stock, "ours": ours, "small": small}, ensure_ascii=False, default=str))
"""


def _run() -> dict:
    env = dict(os.environ, PYTHONPATH=str(ROOT), RASA_TELEMETRY_ENABLED="false")
    p = subprocess.run([str(ROOT / ".venv-rasa" / "bin" / "python"), "-c", SCRIPT], cwd=ROOT, env=env,
                       capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr[-3000:]
    return json.loads(p.stdout.strip().splitlines()[-1])


def _events(state: dict) -> list:
    return [(e["event"], e.get("name"), e.get("text"), e.get("value")) for e in state["events"]]


@pytest.fixture(scope="module")
def results() -> dict:
    return _run()


@pytest.mark.parametrize("variant", ["ours", "small"])
def test_in_process_store_behaves_like_rasas_in_memory_store(results, variant):
    """"ours": every conversation kept as objects; "small": one, so student:1 is read back from JSON."""
    stock, ours = results["stock"], results[variant]
    for key in ("first", "unsaved", "last_session", "full"):
        assert _events(ours[key]) == _events(stock[key]), key
        assert ours[key]["slots"] == stock[key]["slots"], key
        assert ours[key]["latest_message"]["text"] == stock[key]["latest_message"]["text"], key
    # the checks above compare like with like; these say what "like" is
    assert ours["unsaved"]["latest_message"]["text"] == "继续"          # the unsaved turn did not leak in
    assert [e[2] for e in _events(ours["last_session"]) if e[0] == "user"] == ["第二次"]
    assert [e[2] for e in _events(ours["full"]) if e[0] == "user"] == ["你好", "继续", "第二次"]
    assert any(v == "x" for v in ours["first"]["slots"].values())
    assert ours["missing"] is None and stock["missing"] is None
    assert ours["exists"] == stock["exists"] == [True, False]
    assert ours["keys"] == stock["keys"] == ["student:1", "student:9"]
    # which tier held the conversations at the end (student:9 was saved last)
    assert ours["hot"] == (["student:1", "student:9"] if variant == "ours" else ["student:9"])
