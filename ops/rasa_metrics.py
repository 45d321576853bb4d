"""The Rasa server's Prometheus metrics (issue 23), installed by bot/startup.py before Rasa starts; served
with /health and /ready (the model is loaded) on the operations port (ops/exporter.py, METRICS_PORT).

- turns by channel, intent and outcome (contracts/outcome.py); turn latency (the processor's handling of a
  message, from the message to the saved tracker) and NLU latency histograms
- active conversations: distinct conversations with a turn in the last ACTIVE_WINDOW_S (this process)
- lock waits: seconds a turn waited for its conversation's lock (the cluster: another server held it)
Labels hold names from the model's domain and the channel's name only: never a sender id or a message's text.
"""

from __future__ import annotations

import contextvars
import functools
import time
import weakref
from collections import OrderedDict
from typing import Any

from prometheus_client import Counter, Histogram
from prometheus_client.core import GaugeMetricFamily

from contracts.outcome import turn_outcome

ACTIVE_WINDOW_S = 300.0
MAX_TRACKED = 100_000
TURN_BUCKETS = (0.05, 0.1, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0, 8.0, 15.0)
NLU_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
LOCK_BUCKETS = (0.001, 0.01, 0.1, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0)

TURNS = Counter(
    "zhineng_rasa_turns_total", "Turns by channel, intent and outcome", ["channel", "intent", "outcome"]
)
TURN_LATENCY = Histogram(
    "zhineng_rasa_turn_duration_seconds",
    "A turn, from the message to the saved tracker",
    ["channel"],
    buckets=TURN_BUCKETS,
)
NLU_LATENCY = Histogram(
    "zhineng_rasa_nlu_duration_seconds", "NLU (parse) latency of a message", buckets=NLU_BUCKETS
)
LOCK_WAIT = Histogram(
    "zhineng_rasa_lock_wait_seconds",
    "Seconds a turn waited for its conversation's lock",
    ["store"],
    buckets=LOCK_BUCKETS,
)

_saved: contextvars.ContextVar = contextvars.ContextVar("zhineng_saved_tracker", default=None)
_agents: weakref.WeakSet[Any] = weakref.WeakSet()
_active: OrderedDict[str, float] = OrderedDict()


def _label(value: Any, limit: int = 60) -> str:
    return str(value or "none")[:limit]


def record_turn(tracker: Any, seconds: float, intents: Any = None) -> None:
    """Count one turn of `tracker` (the events after its latest user message) and its latency. `intents`: the
    domain's intent names; any other name (a student can type "/whatever") is labelled "other"."""
    events = []
    for e in reversed(tracker.events):
        events.append(e)
        if type(e).__name__ == "UserUttered":
            break
    latest = tracker.latest_message
    channel = _label(getattr(latest, "input_channel", None), 20)
    intent, outcome = turn_outcome(e.as_dict() for e in reversed(events))
    if intents is not None and intent is not None and intent not in intents:
        intent = "other"
    TURNS.labels(channel, _label(intent), outcome).inc()
    TURN_LATENCY.labels(channel).observe(seconds)
    now = time.monotonic()
    _active[tracker.sender_id] = now
    _active.move_to_end(tracker.sender_id)
    while len(_active) > MAX_TRACKED:
        _active.popitem(last=False)


_intent_sets: weakref.WeakKeyDictionary[Any, frozenset] = weakref.WeakKeyDictionary()


def _intents(domain: Any) -> frozenset:
    """The domain's intent names (cached per domain object: a new model brings a new domain)."""
    try:
        found = _intent_sets.get(domain)
        if found is None:
            found = _intent_sets[domain] = frozenset(domain.intents)
        return found
    except TypeError:  # not weak-referenceable: no cache
        return frozenset(domain.intents)


class ActiveCollector:
    def describe(self):
        yield GaugeMetricFamily("zhineng_rasa_active_conversations", "")

    def collect(self):
        cutoff = time.monotonic() - ACTIVE_WINDOW_S
        while _active:
            key, at = next(iter(_active.items()))
            if at >= cutoff:
                break
            _active.pop(key, None)
        yield GaugeMetricFamily(
            "zhineng_rasa_active_conversations",
            f"Conversations with a turn in the last {ACTIVE_WINDOW_S:.0f} s (this server)",
            value=len(_active),
        )


def model_ready() -> tuple[bool, str]:
    for agent in list(_agents):
        if agent.is_ready():
            return True, f"model {agent.model_name} loaded"
    return False, "model not loaded yet"


def patch() -> dict[str, bool]:
    from rasa.core.agent import Agent
    from rasa.core.lock_store import LockStore
    from rasa.core.processor import MessageProcessor

    if getattr(MessageProcessor.handle_message, "_metrics", False):
        return {"metrics": True}
    handle, save, parse = (
        MessageProcessor.handle_message,
        MessageProcessor.save_tracker,
        MessageProcessor.parse_message,
    )
    acquire, agent_init = LockStore._acquire_lock, Agent.__init__

    @functools.wraps(handle)
    async def handle_message(self, message):
        box: list = []
        token = _saved.set(box)
        t0 = time.perf_counter()
        try:
            return await handle(self, message)
        finally:
            _saved.reset(token)
            if box:
                try:
                    record_turn(box[-1], time.perf_counter() - t0, _intents(self.domain))
                except Exception:  # noqa: BLE001 - metrics never break a student's turn
                    pass

    @functools.wraps(save)
    async def save_tracker(self, tracker):
        box = _saved.get()
        if box is not None:
            box.append(tracker)
        return await save(self, tracker)

    @functools.wraps(parse)
    async def parse_message(self, *args, **kwargs):
        t0 = time.perf_counter()
        try:
            return await parse(self, *args, **kwargs)
        finally:
            NLU_LATENCY.observe(time.perf_counter() - t0)

    @functools.wraps(acquire)
    async def _acquire_lock(self, *args, **kwargs):
        t0 = time.perf_counter()
        try:
            return await acquire(self, *args, **kwargs)
        finally:
            LOCK_WAIT.labels(type(self).__name__[:40]).observe(time.perf_counter() - t0)

    @functools.wraps(agent_init)
    def __init__(self, *args, **kwargs):
        agent_init(self, *args, **kwargs)
        _agents.add(self)

    handle_message._metrics = True  # type: ignore[attr-defined]
    MessageProcessor.handle_message = handle_message
    MessageProcessor.save_tracker = save_tracker
    MessageProcessor.parse_message = parse_message
    LockStore._acquire_lock = _acquire_lock
    Agent.__init__ = __init__
    return {"metrics": True}


def install() -> bool:
    """Patch Rasa for the metrics and serve the operations port (when METRICS_PORT is set)."""
    from ops import exporter

    patch()
    return exporter.start("rasa", model_ready, extra=(ActiveCollector(),)) is not None
