"""In-process tracker store: Rasa's in-memory store without the JSON round trip.

Rasa 3.6's `InMemoryTrackerStore` keeps every conversation as JSON text: each turn serialises the whole
session (`json.dumps`) on save and parses it back on retrieve, resolving every event's class by walking
`Event`'s subclasses. Profiled under load (bench/findings.md) that was about a fifth of the Rasa server's CPU
per turn. This store keeps the tracker objects themselves and hands out new trackers replayed from the stored
event objects with the domain's slots (what the stock store does after parsing the JSON), so what a caller
does with a retrieved tracker never changes the stored one until it is saved, as with the stock store.

Objects take about 3x the memory of their JSON (127 vs 39 KiB for a 10-turn FAQ conversation,
bench/tracker_memory.py), so only the TRACKER_HOT_CONVERSATIONS (default 1000: ~90 MB more than the stock
store at most) most recently saved conversations are kept as objects; older ones are turned back into the
stock store's JSON and read back the stock way if their student returns.

Same scope as the stock in-memory store: one process, lost on restart, only the current session is returned.
For several Rasa processes or persistence use Rasa's Redis or SQL store (bot/endpoints.yml).

Enabled in bot/endpoints.yml:

    tracker_store:
      type: bot.tracker_store.InProcessTrackerStore
"""
from __future__ import annotations

import logging
import os
from collections import OrderedDict
from typing import Any, Dict, Iterable, Optional, Text

from rasa.core.brokers.broker import EventBroker
from rasa.core.tracker_store import SerializedTrackerAsText, TrackerStore
from rasa.shared.core.constants import ACTION_SESSION_START_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted
from rasa.shared.core.trackers import DialogueStateTracker, get_trackers_for_conversation_sessions

logger = logging.getLogger(__name__)


def _hot_limit(value: Any, default: int = 1000) -> int:
    try:
        n = int(value) if value not in (None, "") else default
    except (TypeError, ValueError):
        logger.warning("TRACKER_HOT_CONVERSATIONS=%r is not a number: using %d", value, default)
        return default
    return max(1, n)


def _last_session_start(tracker: DialogueStateTracker) -> int:
    """Index of the last `action_session_start` in the tracker's events, -1 if there is none."""
    events = tracker.events
    for i in range(len(events) - 1, -1, -1):
        e = events[i]
        if isinstance(e, ActionExecuted) and e.action_name == ACTION_SESSION_START_NAME:
            return i
    return -1


class InProcessTrackerStore(TrackerStore, SerializedTrackerAsText):
    """Recent conversations as tracker objects, older ones as JSON text; retrieve returns a new tracker."""

    def __init__(self, domain: Domain, event_broker: Optional[EventBroker] = None,
                 hot_conversations: Optional[int] = None, **kwargs: Dict[Text, Any]) -> None:
        # Objects take ~3x the memory of their JSON (bench/tracker_memory.py), so only the most recently
        # saved conversations stay objects; the others go back to the stock representation.
        self.hot: "OrderedDict[Text, DialogueStateTracker]" = OrderedDict()
        self.cold: Dict[Text, Text] = {}
        self.max_hot = _hot_limit(hot_conversations or os.environ.get("TRACKER_HOT_CONVERSATIONS"))
        super().__init__(domain, event_broker, **kwargs)

    async def save(self, tracker: DialogueStateTracker) -> None:
        await self.stream_events(tracker)
        sender_id = tracker.sender_id
        # The caller's object is stored as is: Rasa does not touch a tracker after saving it, and every
        # retrieve below returns a new tracker, so the stored object is never shared with a running turn.
        self.cold.pop(sender_id, None)
        self.hot[sender_id] = tracker
        self.hot.move_to_end(sender_id)
        while len(self.hot) > self.max_hot:
            old_id, old = self.hot.popitem(last=False)
            self.cold[old_id] = self.serialise_tracker(old)

    async def keys(self) -> Iterable[Text]:
        return list(self.hot.keys()) + list(self.cold.keys())

    async def exists(self, conversation_id: Text) -> bool:
        return conversation_id in self.hot or conversation_id in self.cold

    def _replay(self, stored: DialogueStateTracker) -> DialogueStateTracker:
        # what the stock store gets from its JSON: the events replayed onto the domain's slots
        return DialogueStateTracker.from_events(stored.sender_id, list(stored.events), self.domain.slots,
                                                self.max_event_history)

    async def retrieve(self, sender_id: Text) -> Optional[DialogueStateTracker]:
        """The last session of the conversation, as the stock in-memory store returns it."""
        stored = self.hot.get(sender_id)
        if stored is None:
            return self._retrieve_cold(sender_id, fetch_all_sessions=False)
        start = _last_session_start(stored)
        if start <= 0:
            return self._replay(stored)
        # The stock store replays everything, then `get_trackers_for_conversation_sessions` replays the last
        # session again onto the slots the full replay ended with, which are the stored tracker's slots.
        return DialogueStateTracker.from_events(stored.sender_id, list(stored.events)[start:],
                                                stored.slots.values(), self.max_event_history,
                                                sender_source=stored.sender_source)

    async def retrieve_full_tracker(self, conversation_id: Text) -> Optional[DialogueStateTracker]:
        stored = self.hot.get(conversation_id)
        if stored is None:
            return self._retrieve_cold(conversation_id, fetch_all_sessions=True)
        return self._replay(stored)

    def _retrieve_cold(self, sender_id: Text, fetch_all_sessions: bool) -> Optional[DialogueStateTracker]:
        """The stock in-memory store's retrieve, on a conversation kept as JSON."""
        text = self.cold.get(sender_id)
        if text is None:
            return None
        tracker = self.deserialise_tracker(sender_id, text)
        if tracker is None or fetch_all_sessions:
            return tracker
        sessions = get_trackers_for_conversation_sessions(tracker)
        return tracker if len(sessions) <= 1 else sessions[-1]
