"""bot/tracker_store.py against Rasa's own InMemoryTrackerStore, in the Rasa venv (Python 3.10); restart and
expiry.

Every check runs the same operations on both stores and compares what they hand back, so a difference in
semantics (a lost slot, a second session leaking in, a retrieved tracker that aliases the stored one) fails.
The store also runs under every e2e test (bot/endpoints.yml).
"""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from system import ROOT

SCRIPT = r"""
import asyncio, json, sys
from rasa.core.tracker_store import InMemoryTrackerStore, SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (ActionExecuted, BotUttered, SessionStarted, SlotSet, UserUttered,
                                     ActiveLoop)
from rasa.shared.core.trackers import EventVerbosity
from bot.tracker_store import InProcessTrackerStore

domain = Domain.from_directory("bot/domain")
TEXT_SLOT = next(s for s in domain.slots if s.type_name == "text").name  # a bool slot would coerce "x"
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
    slot = TEXT_SLOT
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

async def restarted(url):
    # a new process on the same database: nothing in memory, everything read back from SQL
    store = InProcessTrackerStore(domain, url=url)
    r = {"hot_before": sorted(store.hot)}
    r["last_session"] = state(await store.retrieve("student:1"))
    r["full"] = state(await store.retrieve_full_tracker("student:1"))
    r["exists"] = [await store.exists("student:1"), await store.exists("student:2")]
    r["keys"] = sorted(await store.keys())
    # the conversation goes on: the next save adds only the new turn (no duplicated rows)
    t = await store.retrieve("student:1")
    turn(t, "重启之后", "greet")
    await store.save(t)
    r["after_restart"] = state(await InProcessTrackerStore(domain, url=url).retrieve("student:1"))
    return r

async def expiry(url):
    import os, time
    os.environ["TRACKER_ANON_TTL_SECONDS"] = "1"
    store = InProcessTrackerStore(domain, url=url)
    for s in ("anon:old", "student:3"):
        t = await store.get_or_create_tracker(s)
        turn(t, "早先的一句", "greet")
        await store.save(t)
    time.sleep(1.5)
    t = await store.get_or_create_tracker("anon:new")
    turn(t, "新的一句", "greet")
    await store.save(t)
    await asyncio.sleep(1)  # the save started the periodic purge in the background
    fresh = InProcessTrackerStore(domain, url=url)
    return {"hot": sorted(store.hot), "keys": sorted(await fresh.keys())}

tmp = sys.argv[1]
stock = asyncio.run(scenario(InMemoryTrackerStore(domain)))
sql = asyncio.run(scenario(SQLTrackerStore(domain, host=f"sqlite:///{tmp}/stock.db")))
ours = asyncio.run(scenario(InProcessTrackerStore(domain, url=f"sqlite:///{tmp}/ours.db")))
small = asyncio.run(scenario(InProcessTrackerStore(domain, hot_conversations=1, url=f"sqlite:///{tmp}/small.db")))
again = asyncio.run(restarted(f"sqlite:///{tmp}/ours.db"))
expired = asyncio.run(expiry(f"sqlite:///{tmp}/expiry.db"))
print(json.dumps({"stock": stock, "sql": sql, "ours": ours, "small": small, "restarted": again, "expiry": expired},
                 ensure_ascii=False, default=str))
"""  # noqa: E501 (a line of the script run in the Rasa venv)


def _run(tmp) -> dict:
    env = dict(os.environ, PYTHONPATH=str(ROOT), RASA_TELEMETRY_ENABLED="false")
    p = subprocess.run(
        [str(ROOT / ".venv-rasa" / "bin" / "python"), "-c", SCRIPT, str(tmp)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert p.returncode == 0, p.stderr[-3000:]
    return json.loads(p.stdout.strip().splitlines()[-1])


def _events(state: dict) -> list:
    return [(e["event"], e.get("name"), e.get("text"), e.get("value")) for e in state["events"]]


@pytest.fixture(scope="module")
def results(tmp_path_factory) -> dict:
    return _run(tmp_path_factory.mktemp("trackers"))


def _same(a: dict, b: dict, key: str) -> None:
    assert _events(a) == _events(b), key
    assert a["slots"] == b["slots"], key
    assert a["latest_message"]["text"] == b["latest_message"]["text"], key


def test_in_process_store_behaves_like_rasas_stores(results):
    """Conversations in memory ("ours") answer as Rasa's in-memory store; evicted ones ("small": one in
    memory, so student:1 is read back from the database) and full histories as Rasa's SQL store."""
    stock, sql, ours, small = results["stock"], results["sql"], results["ours"], results["small"]
    for key in ("first", "unsaved", "last_session"):
        _same(ours[key], stock[key], key)
        _same(small[key], sql[key], key)
    _same(ours["full"], sql["full"], "full")
    _same(small["full"], sql["full"], "full")
    # the checks above compare like with like; these say what "like" is
    for r in (ours, small):
        assert r["unsaved"]["latest_message"]["text"] == "继续"  # the unsaved turn did not leak in
        assert [e[2] for e in _events(r["last_session"]) if e[0] == "user"] == ["第二次"]
        assert [e[2] for e in _events(r["full"]) if e[0] == "user"] == ["你好", "继续", "第二次"]
        assert any(v == "x" for v in r["first"]["slots"].values())
        assert r["missing"] is None
        assert r["exists"] == [True, False]
        assert r["keys"] == ["student:1", "student:9"]
    assert stock["missing"] is None and stock["exists"] == [True, False]
    # which tier held the conversations at the end (student:9 was saved last)
    assert ours["hot"] == ["student:1", "student:9"]
    assert small["hot"] == ["student:9"]


def test_conversations_survive_a_new_store_on_the_same_database(results):
    """What a restarted Rasa sees: the last session and the full tracker as they were, from SQL."""
    again = results["restarted"]
    assert again["hot_before"] == []
    for key in ("last_session", "full"):
        _same(again[key], results["sql"][key], key)
    assert again["exists"] == [True, False]
    assert again["keys"] == ["student:1", "student:9"]
    users = [e[2] for e in _events(again["after_restart"]) if e[0] == "user"]
    assert users == ["第二次", "重启之后"]  # one new row per new event, none written twice


def test_expired_anonymous_conversations_are_purged(results):
    """Idle longer than TRACKER_ANON_TTL_SECONDS: gone from memory and database; students are kept."""
    r = results["expiry"]
    assert r["hot"] == ["anon:new", "student:3"]
    assert r["keys"] == ["anon:new", "student:3"]


PG_SCRIPT = r"""
import asyncio, json, sys, uuid
import sqlalchemy as sa
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SlotSet, UserUttered
from bot.tracker_store import InProcessTrackerStore

domain = Domain.from_directory("bot/domain")
TEXT_SLOT = next(s for s in domain.slots if s.type_name == "text").name
url = sys.argv[1]
sender = f"student:pg-{uuid.uuid4().hex[:8]}"

async def main():
    store = InProcessTrackerStore(domain, url=url)
    t = await store.get_or_create_tracker(sender)
    t.update(UserUttered("你好", {"name": "greet", "confidence": 0.9}))
    t.update(SlotSet(TEXT_SLOT, "x"))
    t.update(ActionExecuted("utter_greet"))
    t.update(BotUttered("你好"))
    await store.save(t)
    again = await InProcessTrackerStore(domain, url=url).retrieve(sender)  # a restarted process
    with store.sql.engine.begin() as conn:
        n = conn.execute(sa.text("SELECT count(*) FROM events WHERE sender_id = :s"), {"s": sender}).scalar()
        conn.execute(sa.text("DELETE FROM events WHERE sender_id = :s"), {"s": sender})
    return {"events": [e.type_name for e in again.events], "slot": again.get_slot(TEXT_SLOT),
            "rows": n, "dialect": store.sql.engine.dialect.name}

print(json.dumps(asyncio.run(main())))
"""


@pytest.mark.skipif(not os.environ.get("TEST_POSTGRES_URL"), reason="TEST_POSTGRES_URL not set")
def test_conversations_in_postgresql_survive_a_new_store():
    """The PostgreSQL configuration: the project's database (the backend's psycopg 3 URL) holds the events."""
    env = dict(os.environ, PYTHONPATH=str(ROOT), RASA_TELEMETRY_ENABLED="false")
    p = subprocess.run(
        [str(ROOT / ".venv-rasa" / "bin" / "python"), "-c", PG_SCRIPT, os.environ["TEST_POSTGRES_URL"]],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert p.returncode == 0, p.stderr[-3000:]
    r = json.loads(p.stdout.strip().splitlines()[-1])
    assert r["dialect"] == "postgresql"
    assert r["events"] == ["action", "user", "slot", "action", "bot"] and r["slot"] == "x"
    assert r["rows"] == 5
