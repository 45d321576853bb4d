"""Memory per conversation: Rasa's in-memory tracker store (JSON text) vs bot/tracker_store.py (objects).

Runs in the Rasa venv. Saves N synthetic 10-turn FAQ conversations (parse data with intent ranking and
response selection, a token in the metadata, as the REST channel produces them) into each store and reports
the traced Python memory per conversation. The in-process store keeps TRACKER_HOT_CONVERSATIONS (default
1000) conversations as objects and the rest as JSON; `--hot 1` shows the JSON tier.

    PYTHONPATH=. .venv-rasa/bin/python bench/tracker_memory.py [--conversations 300]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import tracemalloc

from rasa.core.tracker_store import InMemoryTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SessionStarted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.channels.common import conversation_id
from bot.tracker_store import InProcessTrackerStore

PARSE = {
    "intent": {"name": "faq", "confidence": 0.9},
    "entities": [],
    "text": "档案能寄到家里吗",
    "intent_ranking": [{"name": f"intent_{i}", "confidence": 0.01} for i in range(10)],
    "response_selector": {
        "all_retrieval_intents": ["faq"],
        "default": {
            "response": {
                "responses": [{"text": "不可以。" * 30}],
                "confidence": 0.9,
                "intent_response_key": "faq/archive_home",
                "utter_action": "utter_faq/archive_home",
            },
            "ranking": [{"confidence": 0.1, "intent_response_key": f"faq/topic_{i}"} for i in range(10)],
        },
    },
}


def conversation(domain: Domain, sender: str, turns: int = 10) -> DialogueStateTracker:
    t = DialogueStateTracker(sender, domain.slots)
    for e in (
        ActionExecuted("action_listen"),
        ActionExecuted("action_session_start"),
        SessionStarted(),
        ActionExecuted("action_listen"),
    ):
        t.update(e)
    for i in range(turns):
        parse = json.loads(json.dumps(PARSE))  # each turn's parse data is its own, as in a real run
        t.update(
            UserUttered(
                PARSE["text"], parse["intent"], metadata={"token": "t" * 200 + str(i)}, parse_data=parse
            )
        )
        t.update(ActionExecuted("utter_faq"))
        t.update(BotUttered("不可以。" * 30 + str(i), {"utter_action": "utter_faq/archive_home"}))
        t.update(ActionExecuted("action_listen"))
    return t


def measure(store, domain: Domain, n: int) -> float:
    async def fill():
        for i in range(n):
            await store.save(conversation(domain, conversation_id({"role": "student", "sub": str(i)})))

    gc.collect()
    tracemalloc.start()
    asyncio.run(fill())
    gc.collect()
    current, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return current / n / 1024


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--conversations", type=int, default=300)
    a = ap.parse_args()
    domain = Domain.from_directory("bot/domain")
    for name, store in (
        ("Rasa InMemoryTrackerStore (JSON)", InMemoryTrackerStore(domain)),
        ("InProcessTrackerStore, all hot (objects)", InProcessTrackerStore(domain)),
        ("InProcessTrackerStore, --hot 1 (JSON tier)", InProcessTrackerStore(domain, hot_conversations=1)),
    ):
        print(f"{name:45s} {measure(store, domain, a.conversations):7.1f} KiB per 10-turn conversation")


if __name__ == "__main__":
    main()
