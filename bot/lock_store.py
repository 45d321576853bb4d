"""Rasa's RedisLockStore with atomic ticket operations (several Rasa servers sharing conversations).

Rasa 3.6's open-source `RedisLockStore` keeps a conversation's ticket lock as one JSON value and changes it by
read-modify-write (GET, change in Python, SET) with nothing in between to stop another server. Two servers
that get a message of the same conversation at the same moment can both read the same lock and both be issued
the same ticket number, and then both process the conversation at once (each on the tracker as it was before
the other's turn: one answer is lost or a form question is asked twice); a finishing turn can also write back
a lock without the ticket another server just added. Ticket numbers restart at 0 once the queue is empty or
has expired, so a turn that outlived its ticket can remove a later turn's ticket. (Rasa Pro's
`ConcurrentRedisLockStore` exists for this.)

This subclass keeps Rasa's lock format and waiting loop and changes only how the value is changed:
- every change of a lock runs in a Redis transaction (WATCH the key, read, MULTI/SET or DEL, EXEC; retried
  when another server changed the key in between), so no change is lost;
- ticket numbers come from a per-conversation counter changed in the same transaction as the queue, never
  reissued while the counter lives (it expires with the lock);
- lock keys expire (the ticket lifetime plus a minute) so a lock left by a killed server goes away by itself;
  a ticket of a killed server blocks the conversation at most TICKET_LOCK_LIFETIME seconds (Rasa's setting).

Enabled in bot/endpoints.cluster.yml:

    lock_store:
      type: bot.lock_store.AtomicRedisLockStore
      url: ${REDIS_HOST}
      port: ${REDIS_PORT}
      db: 1
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from typing import Any

from rasa.core.lock import Ticket, TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, LockError, RedisLockStore
from rasa.utils.endpoints import EndpointConfig

logger = logging.getLogger(__name__)

KEY_GRACE_SECONDS = 60


class AtomicRedisLockStore(RedisLockStore):
    """RedisLockStore whose lock changes are Redis transactions and whose ticket numbers are never reused."""

    def __init__(self, endpoint_config: EndpointConfig | None = None, **kwargs: Any) -> None:
        if endpoint_config is not None:  # created by Rasa from endpoints.yml (`type: bot.lock_store...`)
            kwargs = {**endpoint_config.kwargs, **kwargs}
            kwargs.setdefault("host", endpoint_config.url or "localhost")
        super().__init__(**kwargs)

    def _key(self, conversation_id: str) -> str:
        return self.key_prefix + conversation_id

    def _counter_key(self, conversation_id: str) -> str:
        return self.key_prefix + "counter:" + conversation_id

    def _change(
        self, conversation_id: str, change: Callable[[TicketLock | None], tuple[Any, TicketLock | None]]
    ) -> Any:
        """Apply `change(lock) -> (result, new lock or None to delete)` atomically; return the result."""
        key = self._key(conversation_id)

        def tx(pipe: Any) -> Any:
            raw = pipe.get(key)
            lock = TicketLock.from_dict(json.loads(raw)) if raw else None
            result, new = change(lock)
            pipe.multi()
            if new is None or not new.tickets:
                pipe.delete(key)
            else:
                ttl = max(t.expires for t in new.tickets) - time.time() + KEY_GRACE_SECONDS
                pipe.set(key, new.dumps(), ex=max(1, int(ttl)))
            return result

        return self.red.transaction(tx, key, value_from_callable=True)

    def issue_ticket(self, conversation_id: str, lock_lifetime: float = LOCK_LIFETIME) -> int:
        key, counter = self._key(conversation_id), self._counter_key(conversation_id)

        def tx(pipe: Any) -> int:
            # the number and the ticket in one transaction: tickets join the queue in number order
            raw, last = pipe.get(key), pipe.get(counter)
            lock = TicketLock.from_dict(json.loads(raw)) if raw else self.create_lock(conversation_id)
            lock.remove_expired_tickets()
            number = max(int(last or 0), lock.last_issued) + 1
            lock.tickets.append(Ticket(number, time.time() + lock_lifetime))
            ttl = int(lock_lifetime) + KEY_GRACE_SECONDS
            pipe.multi()
            pipe.set(counter, number, ex=ttl)
            pipe.set(key, lock.dumps(), ex=ttl)
            return number

        try:
            return self.red.transaction(tx, key, counter, value_from_callable=True)
        except Exception as e:  # what Rasa's store raises, so Rasa handles it the same way
            raise LockError(f"Error while acquiring lock. Error:\n{e}") from e

    def update_lock(self, conversation_id: str) -> None:
        def prune(lock: TicketLock | None) -> tuple[None, TicketLock | None]:
            if lock is not None:
                lock.remove_expired_tickets()
            return None, lock

        self._change(conversation_id, prune)

    def finish_serving(self, conversation_id: str, ticket_number: int) -> None:
        def remove(lock: TicketLock | None) -> tuple[None, TicketLock | None]:
            if lock is not None:
                lock.remove_ticket_for(ticket_number)
            return None, lock

        self._change(conversation_id, remove)

    def cleanup(self, conversation_id: str, ticket_number: int) -> None:
        """Remove the ticket; the lock goes with its last ticket (one transaction: see `_change`)."""
        self.finish_serving(conversation_id, ticket_number)
