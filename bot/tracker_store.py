"""In-process tracker store: Rasa's in-memory store without the JSON round trip.

Rasa 3.6's `InMemoryTrackerStore` keeps every conversation as JSON text: each turn serialises the whole
session (`json.dumps`) on save and parses it back on retrieve, resolving every event's class by walking
`Event`'s subclasses. Profiled under load (bench/findings.md) that was about a fifth of the Rasa server's CPU
per turn. This store keeps the tracker objects themselves and hands out new trackers replayed from the stored
event objects with the domain's slots (what the stock store does after parsing the JSON), so what a caller
does with a retrieved tracker never changes the stored one until it is saved, as with the stock store.

Same scope as the stock in-memory store: one process, lost on restart, only the current session is returned.
For several Rasa processes or persistence use Rasa's Redis or SQL store (bot/endpoints.yml).

Enabled in bot/endpoints.yml:

    tracker_store:
      type: bot.tracker_store.InProcessTrackerStore
"""
from __future__ import annotations

from typing import Any, Dict, Iterable, Optional, Text

from rasa.core.brokers.broker import EventBroker
from rasa.core.tracker_store import TrackerStore
from rasa.shared.core.constants import ACTION_SESSION_START_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted
from rasa.shared.core.trackers import DialogueStateTracker


def _last_session_start(tracker: DialogueStateTracker) -> int:
    """Index of the last `action_session_start` in the tracker's events, -1 if there is none."""
    events = tracker.events
    for i in range(len(events) - 1, -1, -1):
        e = events[i]
        if isinstance(e, ActionExecuted) and e.action_name == ACTION_SESSION_START_NAME:
            return i
    return -1


class InProcessTrackerStore(TrackerStore):
    """Keeps tracker objects in this process; retrieve returns an independent copy."""

    def __init__(self, domain: Domain, event_broker: Optional[EventBroker] = None,
                 **kwargs: Dict[Text, Any]) -> None:
        self.trackers: Dict[Text, DialogueStateTracker] = {}
        super().__init__(domain, event_broker, **kwargs)

    async def save(self, tracker: DialogueStateTracker) -> None:
        await self.stream_events(tracker)
        # The caller's object is stored as is: Rasa does not touch a tracker after saving it, and every
        # retrieve below returns a copy, so the stored object is never shared with a running turn.
        self.trackers[tracker.sender_id] = tracker

    async def keys(self) -> Iterable[Text]:
        return self.trackers.keys()

    async def exists(self, conversation_id: Text) -> bool:
        return conversation_id in self.trackers

    def _replay(self, stored: DialogueStateTracker) -> DialogueStateTracker:
        # what the stock store gets from its JSON: the events replayed onto the domain's slots
        return DialogueStateTracker.from_events(stored.sender_id, list(stored.events), self.domain.slots,
                                                self.max_event_history)

    async def retrieve(self, sender_id: Text) -> Optional[DialogueStateTracker]:
        """The last session of the conversation, as the stock in-memory store returns it."""
        stored = self.trackers.get(sender_id)
        if stored is None:
            return None
        start = _last_session_start(stored)
        if start <= 0:
            return self._replay(stored)
        # The stock store replays everything, then `get_trackers_for_conversation_sessions` replays the last
        # session again onto the slots the full replay ended with, which are the stored tracker's slots.
        return DialogueStateTracker.from_events(stored.sender_id, list(stored.events)[start:],
                                                stored.slots.values(), self.max_event_history,
                                                sender_source=stored.sender_source)

    async def retrieve_full_tracker(self, conversation_id: Text) -> Optional[DialogueStateTracker]:
        stored = self.trackers.get(conversation_id)
        return self._replay(stored) if stored is not None else None
