"""Counselors' replies to WeChat conversations: one customer-service message per reply.

A worker (a thread of each backend process, like the notices' one; HANDOFF_WORKER=0 turns it off) delivers the
pending messages through the shared WeChat outbox (services/wechat/outbox.py): each message is claimed with
one conditional UPDATE (unclaimed and due, or its lease expired), so of several backend processes exactly one
sends it, and the result is recorded only while the claim is still its own. A worker that dies between
claiming and recording leaves a claim that expires after HANDOFF_LEASE_SECONDS (default 60): the message then
goes out from another (or the restarted) process - not lost. Replies of one conversation go out in the order
they were written. Sent through the backend's one WeChat client (services/wechat/client.py), inside WeChat's
48-hour window only (the student just wrote, so it normally is); outside it, on a permanent refusal or after
MAX_ATTEMPTS the message is marked failed and the staff page shows it. The one gap WeChat's API (no
idempotency key) leaves: a crash after WeChat accepted the message and before the result was recorded
(milliseconds) sends it again after the lease - a copy rather than a loss.

The queue's sweep (a second thread of each backend process; HANDOFF_SWEEP=0 turns it off,
HANDOFF_SWEEP_SECONDS its period, default 30) times out conversations nobody took within HANDOFF_WAIT_MINUTES
even when the student says nothing more (`backend.services.handoff.sweep`). A thread of its own rather than a
step of the delivery loop: the timeout must happen whether or not this process delivers WeChat messages
(HANDOFF_WORKER=0 where WeChat is not set up).
"""

from __future__ import annotations

import datetime as dt
import logging
import threading

from sqlalchemy import exists, select
from sqlalchemy.orm import Session, aliased

from backend import models as M
from backend.core.config import settings
from backend.core.db import SessionLocal
from backend.services.handoff.timeout import sweep
from backend.services.wechat.client import OUT_OF_WINDOW, PERMANENT, WechatApi, in_window
from backend.services.wechat.outbox import Background, Outbox

logger = logging.getLogger("backend.handoff")
MAX_ATTEMPTS = 5
GIVE_UP = set(PERMANENT) | OUT_OF_WINDOW  # no retry changes these
HM = M.HandoffMessage


def wechat_text(s: Session, m: M.HandoffMessage) -> str:
    if m.sender == "staff":
        name = s.scalar(select(M.HandoffSession.staff_name).where(M.HandoffSession.id == m.session_id)) or ""
        return f"【{name or '老师'}】{m.text}"
    return m.text


class Delivery(Outbox):
    model = HM
    what = "handoff message"
    lease_seconds, poll_seconds = settings.handoff_lease_seconds, settings.handoff_poll_seconds
    lease_name = "HANDOFF_LEASE_SECONDS"
    max_attempts = MAX_ATTEMPTS
    logger = logger

    def __init__(self, api: WechatApi | None = None, name: str | None = None) -> None:
        super().__init__(name)
        self.api = api or WechatApi()

    def due(self, now: dt.datetime):
        """The outbox's due rows whose conversation's earlier replies are done: replies reach the student in
        the order they were written, whichever process sends them."""
        earlier = aliased(HM)
        first = ~exists().where(
            earlier.session_id == HM.session_id, earlier.id < HM.id, earlier.wechat_state == "pending"
        )
        return super().due(now) & first

    def deliver(self, s: Session, mid: int, me: str) -> None:
        m = s.get_one(HM, mid, populate_existing=True)  # claimed by this worker just now
        h = s.get_one(M.HandoffSession, m.session_id)
        openid = h.conversation.split(":", 1)[1] if h.conversation.startswith("wechat:") else None
        if m.wechat_attempts > MAX_ATTEMPTS:
            self.record(s, mid, me, wechat_state="failed", wechat_error="gave up (unfinished attempts)")
            return
        if not openid:
            self.record(s, mid, me, wechat_state="failed", wechat_error="not_wechat")
            return
        if not self.api.configured:
            self.record(s, mid, me, wechat_state="failed", wechat_error="wechat_not_configured")
            return
        inbound = s.get(M.WechatInbound, openid)
        text = wechat_text(s, m)
        attempts = m.wechat_attempts
        s.commit()  # no transaction held while WeChat is called
        if not in_window(inbound):
            self.record(s, mid, me, wechat_state="failed", wechat_error="outside_window")
            return
        code = self.api.send_text(openid, text)
        if code == 0:
            self.record(s, mid, me, wechat_state="sent", wechat_error=None)
            return
        if code in GIVE_UP or attempts >= MAX_ATTEMPTS:
            self.record(s, mid, me, wechat_state="failed", wechat_error=f"errcode {code}")
            return
        self.retry(s, mid, me, dt.timedelta(seconds=5 * 2**attempts), f"errcode {code}")


_background = Background("handoff-delivery", settings.handoff_worker, Delivery)


def start_background() -> None:
    """Start the delivery thread in this process unless HANDOFF_WORKER=0."""
    _background.start()


def stop_background() -> None:
    _background.stop()


class Sweeper:
    """Every HANDOFF_SWEEP_SECONDS: the queued conversations past the wait limit become tickets or are
    closed."""

    def run(self, stop: threading.Event) -> None:
        every = max(0.2, settings.handoff_sweep_seconds)
        while not stop.is_set():
            try:
                with SessionLocal() as s:
                    n = sweep(s)
                if n:
                    logger.info("handoff sweep: %d queued conversation(s) timed out", n)
            except Exception:  # the database is restarting, ...: log and try again next round
                logger.exception("handoff sweep failed")
            stop.wait(every)


_sweeper = Background("handoff-sweep", settings.handoff_sweep, Sweeper)


def start_sweep() -> None:
    """Start the queue's timeout sweep in this process unless HANDOFF_SWEEP=0."""
    _sweeper.start()


def stop_sweep() -> None:
    _sweeper.stop()
