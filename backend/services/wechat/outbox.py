"""One outbox for WeChat sends: rows of a table are delivered by workers with a lease per row.

Used by the notices (services/notices/delivery.py) and the counselors' replies
(services/handoff/delivery.py). A table takes part with the columns wechat_state ("pending" until
delivered), wechat_claimed_at, wechat_claimed_by, wechat_attempts, wechat_next_at and wechat_error. Each row
is a small state machine:
pending (unclaimed, due at wechat_next_at) -> claimed (wechat_claimed_at/by: a lease) -> a final state, or
back to pending with a later wechat_next_at after a transient failure (`retry`).
- A claim is taken with one conditional UPDATE (unclaimed and due, or its lease expired), so of several
  workers (threads of several backend processes, or `python -m backend.services.notices`) exactly one gets the
  row.
- A worker records the outcome only while its claim is still the current one (`record`).
- A worker that dies between claiming and recording leaves a claim that expires after the lease; the row is
  then delivered by another (or the restarted) worker - not lost. The one case WeChat's APIs (no idempotency
  key) leave open: a crash after WeChat accepted a message and before the result was recorded (milliseconds)
  sends it again after the lease - a copy rather than a loss.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from backend import metrics
from backend.core import clock
from backend.core.db import SessionLocal, read_session, rowcount


def worker_name() -> str:
    """host:pid:random - unique per worker, readable in wechat_claimed_by."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"[:60]


class Outbox:
    """The claim/lease/record/retry cycle over `model`'s rows; subclasses deliver one row (`deliver`)."""

    model: Any = None  # the mapped class with the wechat_* columns
    what = "row"  # in log lines: "<what> <id> outlived its lease"
    lease_seconds, poll_seconds = 60.0, 1.0  # subclasses: their settings (NOTICE_LEASE_SECONDS, ...)
    lease_name = "OUTBOX_LEASE_SECONDS"  # the setting named in the log when a claim outlived its lease
    max_attempts = 5
    batch = 50
    logger = logging.getLogger("backend.outbox")

    def __init__(self, name: str | None = None) -> None:
        self.name = (name or worker_name())[:60]
        self._claims = 0

    # --- the lease ------------------------------------------------------------------------------------------
    def lease(self) -> dt.timedelta:
        return dt.timedelta(seconds=max(1.0, self.lease_seconds))

    def due(self, now: dt.datetime):
        """Pending and unclaimed and due (wechat_next_at passed), or claimed longer ago than the lease."""
        T = self.model
        fresh = T.wechat_claimed_at.is_(None) & or_(T.wechat_next_at.is_(None), T.wechat_next_at <= now)
        return (T.wechat_state == "pending") & or_(fresh, T.wechat_claimed_at < now - self.lease())

    def claim(self, s: Session, row_id: int) -> str | None:
        """Atomic: of the workers racing for the row exactly one UPDATE matches; its claim id or None."""
        T = self.model
        self._claims += 1
        me = f"{self.name}#{self._claims}"
        now = clock.now()
        res = s.execute(
            update(T)
            .where(T.id == row_id, self.due(now))
            .values(wechat_claimed_at=now, wechat_claimed_by=me, wechat_attempts=T.wechat_attempts + 1)
            .execution_options(synchronize_session=False)
        )
        s.commit()
        return me if rowcount(res) == 1 else None

    def record(self, s: Session, row_id: int, me: str, **values: Any) -> bool:
        """Write the outcome only while the claim is still ours (its lease was not taken over meanwhile)."""
        T = self.model
        res = s.execute(
            update(T)
            .where(T.id == row_id, T.wechat_claimed_by == me)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        s.commit()
        if rowcount(res) == 1 and values.get("wechat_error") and values.get("wechat_state") != "skipped":
            metrics.wechat_error(T.__tablename__, values["wechat_error"])
        if rowcount(res) != 1:
            self.logger.warning(
                "%s %s outlived its lease (%s); another worker took it", self.what, row_id, self.lease_name
            )
        return rowcount(res) == 1

    def retry(self, s: Session, row_id: int, me: str, wait: dt.timedelta, error: str) -> bool:
        """A transient failure: back to pending (claim released), due again after `wait`."""
        return self.record(
            s,
            row_id,
            me,
            wechat_claimed_at=None,
            wechat_claimed_by=None,
            wechat_error=error,
            wechat_next_at=clock.now() + wait,
        )

    # --- the loop -------------------------------------------------------------------------------------------
    def deliver(self, s: Session, row_id: int, me: str) -> None:
        raise NotImplementedError

    def deliver_pending(self, batch: int | None = None, stop: threading.Event | None = None) -> int:
        """Deliver what is due (stale claims included); how many rows this worker handled."""
        T = self.model
        with read_session() as r:
            ids = list(
                r.scalars(select(T.id).where(self.due(clock.now())).order_by(T.id).limit(batch or self.batch))
            )
        if not ids:
            return 0
        done = 0
        with SessionLocal() as s:
            for row_id in ids:
                if stop is not None and stop.is_set():
                    break
                me = self.claim(s, row_id)
                if me:
                    self.deliver(s, row_id, me)
                    done += 1
        return done

    def round(self, stop: threading.Event) -> bool:
        """One round of the loop; True when more is waiting (a full batch: no pause before the next)."""
        return self.deliver_pending(self.batch, stop=stop) >= self.batch

    def run(self, stop: threading.Event) -> None:
        poll = self.poll_seconds
        while not stop.is_set():
            busy = False
            try:
                busy = self.round(stop)
            except Exception:  # the database is restarting, ...: log and go on
                self.logger.exception("%s: worker round failed", self.what)
            if not busy:
                stop.wait(poll)


class Background:
    """A worker loop as a daemon thread of this process (started and stopped with the app); `on` false (its
    setting, e.g. NOTICE_WORKER=0) turns it off."""

    def __init__(self, name: str, on: bool, factory: Callable[[], Any]) -> None:
        self.name, self.on, self.factory = name, on, factory
        self._thread: tuple[threading.Thread, threading.Event] | None = None

    def start(self) -> None:
        if not self.on or self._thread:
            return
        stop = threading.Event()
        t = threading.Thread(target=self.factory().run, args=(stop,), name=self.name, daemon=True)
        t.start()
        self._thread = (t, stop)

    def stop(self) -> None:
        if self._thread is not None:
            t, stop = self._thread
            stop.set()
            t.join(timeout=10)
            self._thread = None
