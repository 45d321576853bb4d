"""Tracker store: recent conversations as objects in memory, every conversation in Rasa's SQL store.

Two tiers:

- hot: the TRACKER_HOT_CONVERSATIONS (default 1000) most recently used conversations as tracker objects.
  Per process: with several Rasa servers (bot/endpoints.cluster.yml) another server may have handled the last
  turn, so the cluster sets TRACKER_HOT_CONVERSATIONS=0 (off: every turn reads the shared database).
  Rasa 3.6's stock stores turn every conversation into JSON and back on every turn (each event's class found
  by walking `Event`'s subclasses): about a fifth of the Rasa server's CPU per turn (bench/findings.md). A hit
  hands out a new tracker replayed from the stored event objects (what the stock store does after parsing),
  so what a caller does with a retrieved tracker never changes the stored one until it is saved.
- durable: Rasa's own `SQLTrackerStore` (table `events`, one row per event) at TRACKER_DB_URL (default: the
  SQLite file var/tracker.db; system/processes.py passes the project database's URL for PostgreSQL). Every
  save writes the turn's new events before the reply goes out (write-through: a few rows in one transaction,
  about 0.3 ms on SQLite); a conversation not in memory (after a restart, or evicted) is read from SQL the
  stock way. So a restart of Rasa loses nothing, and a half-filled form goes on where it stopped.
  `bot/perf.py` gives SQLite a connection pool, WAL and synchronous=NORMAL (a power cut can lose the last
  turns, never corrupt).

Anonymous conversations (`anon:<sender>`: the client picks the sender, so there is no bound on their number)
expire TRACKER_ANON_TTL_SECONDS (default: the domain's session expiry, 30 min) after their last event: a purge
at most every TRACKER_PURGE_INTERVAL_SECONDS (default min(TTL/2, 300 s)) drops them from memory and deletes
their rows. Signed-in conversations (`student:<id>`) are kept: one per student.

If the database cannot be written, the turn is still answered from memory (logged as an error) and the next
save of that conversation writes everything the database is missing.

Enabled in bot/endpoints.yml:

    tracker_store:
      type: bot.tracker_store.InProcessTrackerStore
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections import OrderedDict
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from rasa.core.brokers.broker import EventBroker
from rasa.core.tracker_store import SerializedTrackerAsText, SQLTrackerStore, TrackerStore
from rasa.shared.core.constants import ACTION_SESSION_START_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, ActiveLoop, Event, Restarted, SessionStarted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker, TrackerEventDiffEngine
from rasa.shared.nlu.constants import INTENT_NAME_KEY

from contracts.env import number
from contracts.settings import rasa as rasa_settings

logger = logging.getLogger(__name__)

DEFAULT_DB = Path(__file__).resolve().parent.parent / "var" / "tracker.db"
ANON_PREFIX = "anon:"
NOTHING_SAVED = object()  # marker: the database holds no event of this conversation
MAX_PENDING = 10000
# published with each user event (bot/turnlog.py): a form (active loop) was open when the student typed it,
# read from the conversation's own events, so it holds after a restart and on any server of a cluster (issue
# 21 §3)
FORM_OPEN_KEY = "form_open"


def _hot_limit(value: Any, default: int = 1000) -> int:
    """0 turns the hot tier off: every retrieve reads the database (several Rasa servers, docs/scaling.md)."""
    return int(number(value, default, 0, name="TRACKER_HOT_CONVERSATIONS"))


def db_url(raw: str | None = None) -> str:
    """TRACKER_DB_URL as SQLAlchemy 1.4 (Rasa's) understands it; default the SQLite file var/tracker.db."""
    url = (raw if raw is not None else rasa_settings().tracker_db_url).strip()
    if not url:
        DEFAULT_DB.parent.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{DEFAULT_DB}"
    # the back end's psycopg 3 URLs: Rasa's SQLAlchemy 1.4 has psycopg2 (requirements/rasa.txt)
    for prefix in ("postgresql+psycopg://", "postgres://"):
        if url.startswith(prefix):
            url = "postgresql+psycopg2://" + url[len(prefix) :]
    if url.startswith("sqlite:///"):
        Path(url[len("sqlite:///") :]).parent.mkdir(parents=True, exist_ok=True)
    return url


def _last_session_start(events: Any) -> int:
    """Index of the last `action_session_start` in the events, -1 if there is none."""
    for i in range(len(events) - 1, -1, -1):
        e = events[i]
        if isinstance(e, ActionExecuted) and e.action_name == ACTION_SESSION_START_NAME:
            return i
    return -1


def _last_timestamp(tracker: DialogueStateTracker) -> float:
    events = tracker.events
    return events[-1].timestamp if events else 0.0


def typed_in_form(tracker: DialogueStateTracker) -> set:
    """ids of the tracker's user events typed while a form (active loop) was open: the loop set by the events
    before each message (a new session or a restart closes it)."""
    out, loop = set(), None
    for event in tracker.events:
        if isinstance(event, ActiveLoop):
            loop = event.name
        elif isinstance(event, (SessionStarted, Restarted)):
            loop = None
        elif isinstance(event, UserUttered) and loop:
            out.add(id(event))
    return out


class InProcessTrackerStore(TrackerStore, SerializedTrackerAsText):
    """Hot conversations as tracker objects in front of Rasa's SQLTrackerStore (write-through)."""

    def __init__(
        self,
        domain: Domain,
        event_broker: EventBroker | None = None,
        hot_conversations: int | None = None,
        url: str | None = None,
        **kwargs: dict[str, Any],
    ) -> None:
        from bot import perf

        perf.apply()  # WAL, pool and synchronous=NORMAL for SQLite (idempotent; also applied by bot.channels)
        # sender id -> (stored tracker, the last of its events known to be in the database, or None)
        self.hot: OrderedDict[str, tuple[DialogueStateTracker, Event | None]] = OrderedDict()
        self.max_hot = _hot_limit(hot_conversations or rasa_settings().tracker_hot_conversations)
        # read from the database but not saved yet: sender id -> its last event in the database (or
        # NOTHING_SAVED)
        self._pending: OrderedDict[str, Any] = OrderedDict()
        self.sql = SQLTrackerStore(domain=domain, host=db_url(url))
        self.table = SQLTrackerStore.SQLEvent.__table__
        # the purge runs in a thread (it may delete many rows); saves are short and run inline
        self._purger = ThreadPoolExecutor(max_workers=1, thread_name_prefix="tracker-purge")
        self._purge_at = 0.0
        self._purging = False
        super().__init__(domain, event_broker, **kwargs)
        logger.info(
            "tracker store: %d conversations in memory, durable in %r",
            self.max_hot,
            self.sql.engine.url.render_as_string(hide_password=True),
        )

    # Rasa sets the domain when it loads a model: both tiers replay events onto its slots.
    @property
    def domain(self) -> Domain:
        return self._domain

    @domain.setter
    def domain(self, domain: Domain | None) -> None:
        self._domain = domain or Domain.empty()
        if getattr(self, "sql", None) is not None:
            self.sql.domain = self._domain

    # --- save -------------------------------------------------------------------------------------------
    async def save(self, tracker: DialogueStateTracker) -> None:
        sender_id = tracker.sender_id
        entry = self.hot.get(sender_id)
        new_events = self._unsaved(tracker, entry[1] if entry else self._pending.pop(sender_id, None))
        # The event broker (bot/turnlog.py) gets the events this save writes. The stock stream_events diffs
        # against retrieve(), which for a new conversation is built from the very object Rasa went on filling
        # after create_tracker saved it: the first turn was never streamed.
        if self.event_broker is not None:
            streamed = new_events
            if streamed is None:  # the stock diff against what retrieve() gives
                streamed = TrackerEventDiffEngine.event_difference(await self.retrieve(sender_id), tracker)
            self._publish(streamed, tracker)
        # Written inline, in one transaction: a few rows, ~0.3 ms on SQLite (WAL, synchronous=NORMAL); a
        # worker thread cost more in latency (its wake-up on a busy machine) than it saved the event loop.
        last: Any = tracker.events[-1] if tracker.events else NOTHING_SAVED
        try:
            self._write(tracker, new_events)
        except Exception:  # noqa: BLE001 - the student still gets the answer; the next save catches up
            logger.error(
                "tracker store: could not write conversation %s to the database; kept in memory, "
                "the next save writes what is missing",
                sender_id,
                exc_info=True,
            )
            last = None
        # The caller's object is stored as is: Rasa does not touch a tracker after saving it, and every
        # retrieve returns a new tracker, so the stored object is never shared with a running turn.
        self.hot[sender_id] = (tracker, last)
        self.hot.move_to_end(sender_id)
        while len(self.hot) > self.max_hot:
            self.hot.popitem(last=False)  # already in the database
        self._maybe_purge(asyncio.get_running_loop())

    def _publish(self, events: list[Event], tracker: DialogueStateTracker) -> None:
        """Each event to the broker as the stock store sends it; a user event also says whether a form was
        open when it was typed (FORM_OPEN_KEY)."""
        in_form = typed_in_form(tracker) if any(isinstance(e, UserUttered) for e in events) else set()
        for event in events:
            body = {"sender_id": tracker.sender_id}
            body.update(event.as_dict())
            if isinstance(event, UserUttered):
                body[FORM_OPEN_KEY] = id(event) in in_form
            self.event_broker.publish(body)

    @staticmethod
    def _unsaved(tracker: DialogueStateTracker, last_saved: Any) -> list[Event] | None:
        """The tracker's events after `last_saved` (found by identity), or None: ask the database."""
        if last_saved is None:
            return None
        events = tracker.events
        if last_saved is NOTHING_SAVED:
            return list(events)
        for i in range(len(events) - 1, -1, -1):
            if events[i] is last_saved:
                return list(events)[i + 1 :]
        return None

    def _write(self, tracker: DialogueStateTracker, new_events: list[Event] | None) -> None:
        """Insert the new events in one transaction (the stock store's rows)."""
        if new_events is None:  # not known from memory: the stock store's count of the last session
            with self.sql.session_scope() as session:
                new_events = list(self.sql._additional_events(session, tracker))
        if not new_events:
            return
        rows = []
        for event in new_events:
            data = event.as_dict()
            rows.append(
                {
                    "sender_id": tracker.sender_id,
                    "type_name": event.type_name,
                    "timestamp": data.get("timestamp"),
                    "intent_name": (data.get("parse_data") or {}).get("intent", {}).get(INTENT_NAME_KEY),
                    "action_name": data.get("name"),
                    "data": json.dumps(data),
                }
            )
        with self.sql.engine.begin() as conn:
            conn.execute(self.table.insert(), rows)

    # --- read -------------------------------------------------------------------------------------------
    async def keys(self) -> Iterable[str]:
        stored = await self.sql.keys()
        return list(dict.fromkeys(list(stored) + list(self.hot.keys())))

    async def exists(self, conversation_id: str) -> bool:
        return conversation_id in self.hot or self._in_db(conversation_id)

    def _in_db(self, sender_id: str) -> bool:
        """One indexed lookup (the stock miss runs the ORM's last-session query: ~5x the time)."""
        import sqlalchemy as sa

        t = self.table
        with self.sql.engine.connect() as conn:
            return (
                conn.execute(sa.select(t.c.id).where(t.c.sender_id == sender_id).limit(1)).first() is not None
            )

    def _remember(self, sender_id: str, last: Any) -> None:
        self._pending[sender_id] = last
        self._pending.move_to_end(sender_id)
        while len(self._pending) > MAX_PENDING:
            self._pending.popitem(last=False)

    def _replay(self, stored: DialogueStateTracker) -> DialogueStateTracker:
        # what the stock store gets from its JSON: the events replayed onto the domain's slots
        return DialogueStateTracker.from_events(
            stored.sender_id, list(stored.events), self.domain.slots, self.max_event_history
        )

    async def retrieve(self, sender_id: str) -> DialogueStateTracker | None:
        """The last session of the conversation, as the stock stores return it."""
        entry = self.hot.get(sender_id)
        if entry is None:  # a new conversation, or one from before a restart or evicted from memory
            if not self._in_db(sender_id):
                self._remember(sender_id, NOTHING_SAVED)
                return None
            tracker = await self.sql.retrieve(sender_id)
            if tracker is not None:  # the next save finds what is new by identity, no count query
                self._remember(sender_id, tracker.events[-1] if tracker.events else NOTHING_SAVED)
            return tracker
        stored = entry[0]
        start = _last_session_start(stored.events)
        if start <= 0:
            return self._replay(stored)
        # The stock store replays everything, then `get_trackers_for_conversation_sessions` replays the last
        # session again onto the slots the full replay ended with, which are the stored tracker's slots.
        return DialogueStateTracker.from_events(
            stored.sender_id,
            list(stored.events)[start:],
            stored.slots.values(),
            self.max_event_history,
            sender_source=stored.sender_source,
        )

    async def retrieve_full_tracker(self, conversation_id: str) -> DialogueStateTracker | None:
        """Every session: the database has them all (memory has the sessions saved since it was loaded)."""
        full = await self.sql.retrieve_full_tracker(conversation_id)
        if full is None and conversation_id in self.hot:
            return self._replay(self.hot[conversation_id][0])
        return full

    # --- expiry of anonymous conversations ---------------------------------------------------------------
    def anon_ttl(self) -> float:
        minutes = self.domain.session_config.session_expiration_time if self.domain else 0
        default = minutes * 60 if minutes and minutes > 0 else 1800
        raw = rasa_settings().tracker_anon_ttl_seconds
        return number(raw, default, 1, name="TRACKER_ANON_TTL_SECONDS")

    def purge_interval(self) -> float:
        raw = rasa_settings().tracker_purge_interval_seconds
        return number(raw, min(self.anon_ttl() / 2, 300), 0.5, name="TRACKER_PURGE_INTERVAL_SECONDS")

    def _maybe_purge(self, loop: asyncio.AbstractEventLoop) -> None:
        now = time.monotonic()
        if self._purging or now < self._purge_at:
            return
        self._purge_at = now + self.purge_interval()
        self._purging = True
        loop.create_task(self.purge_expired())

    async def purge_expired(self) -> int:
        """Drop anonymous conversations idle for longer than the TTL from memory and the database."""
        try:
            cutoff = time.time() - self.anon_ttl()
            for sender_id in [
                s
                for s, (t, _) in self.hot.items()
                if s.startswith(ANON_PREFIX) and _last_timestamp(t) < cutoff
            ]:
                del self.hot[sender_id]
            loop = asyncio.get_running_loop()
            n = await loop.run_in_executor(self._purger, self._delete_expired, cutoff)
            if n:
                logger.info("tracker store: deleted %d expired anonymous conversation(s)", n)
            return n
        except Exception:  # noqa: BLE001 - retried at the next interval
            logger.error("tracker store: purge of expired anonymous conversations failed", exc_info=True)
            return 0
        finally:
            self._purging = False

    def _delete_expired(self, cutoff: float) -> int:
        import sqlalchemy as sa

        t = self.table
        # a range on the indexed sender_id instead of LIKE (case-insensitive in SQLite: no index)
        anon = sa.and_(t.c.sender_id >= ANON_PREFIX, t.c.sender_id < ANON_PREFIX[:-1] + chr(ord(":") + 1))
        idle = (
            sa.select(t.c.sender_id)
            .where(anon)
            .group_by(t.c.sender_id)
            .having(sa.func.max(t.c.timestamp) < cutoff)
        )
        with self.sql.engine.connect() as conn:
            senders = [r[0] for r in conn.execute(idle)]
        n = 0
        for i in range(0, len(senders), 200):  # short transactions: saves wait for the write lock meanwhile
            chunk = senders[i : i + 200]
            active = sa.select(t.c.sender_id).where(t.c.sender_id.in_(chunk), t.c.timestamp >= cutoff)
            with self.sql.engine.begin() as conn:  # a conversation active again since the select is kept
                n += conn.execute(
                    t.delete().where(t.c.sender_id.in_(chunk), t.c.sender_id.not_in(active))
                ).rowcount
        return len(senders) if n else 0
