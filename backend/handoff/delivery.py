"""Counselors' replies to WeChat conversations: one customer-service message per reply.

A worker (a thread of each backend process, like the notices' one; HANDOFF_WORKER=0 turns it off) claims each
pending message with one conditional UPDATE (unclaimed and due, or its lease expired), so of several backend
processes exactly one sends it, and records the result only while the claim is still its own. A worker that dies
between claiming and recording leaves a claim that expires after HANDOFF_LEASE_SECONDS (default 60): the message
then goes out from another (or the restarted) process - not lost. Sent through the notices' WeChat API client
(same access token handling, WECHAT_API_BASE), inside WeChat's 48-hour window only (the student just wrote, so it
normally is); outside it, on a permanent refusal or after MAX_ATTEMPTS the message is marked failed and the staff
page shows it. The one gap WeChat's API (no idempotency key) leaves: a crash after WeChat accepted the message and
before the result was recorded (milliseconds) sends it again after the lease - a copy rather than a loss.
"""
from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import threading
import uuid

from sqlalchemy import exists, or_, select, update
from sqlalchemy.orm import Session, aliased

from .. import clock
from .. import models as M
from .. import notices as N
from ..db import SessionLocal, read_session

logger = logging.getLogger("backend.handoff")
MAX_ATTEMPTS = 5
PERMANENT = set(getattr(N, "PERMANENT", {40003: "", 43004: ""})) | set(N.OUT_OF_WINDOW)
HM = M.HandoffMessage


def lease() -> dt.timedelta:
    return dt.timedelta(seconds=max(1.0, N._num("HANDOFF_LEASE_SECONDS", 60.0)))


def wechat_text(s: Session, m: M.HandoffMessage) -> str:
    if m.sender == "staff":
        name = s.scalar(select(M.HandoffSession.staff_name).where(M.HandoffSession.id == m.session_id)) or ""
        return f"【{name or '老师'}】{m.text}"
    return m.text


class Delivery:
    def __init__(self, api: N.WechatApi | None = None, name: str | None = None) -> None:
        self.api = api or N.WechatApi()
        self.name = (name or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}")[:60]
        self._claims = 0

    @staticmethod
    def _due(now: dt.datetime):
        """Pending, unclaimed and due (or its lease expired), and the conversation's earlier replies are done:
        replies reach the student in the order they were written, whichever process sends them."""
        fresh = HM.wechat_claimed_at.is_(None) & or_(HM.wechat_next_at.is_(None), HM.wechat_next_at <= now)
        earlier = aliased(HM)
        first = ~exists().where(earlier.session_id == HM.session_id, earlier.id < HM.id,
                                earlier.wechat_state == "pending")
        return (HM.wechat_state == "pending") & or_(fresh, HM.wechat_claimed_at < now - lease()) & first

    def claim(self, s: Session, mid: int) -> str | None:
        """Atomic: of the workers racing for the message exactly one UPDATE matches; its claim id or None."""
        self._claims += 1
        me = f"{self.name}#{self._claims}"
        now = clock.now()
        res = s.execute(update(HM).where(HM.id == mid, self._due(now))
                        .values(wechat_claimed_at=now, wechat_claimed_by=me, wechat_attempts=HM.wechat_attempts + 1)
                        .execution_options(synchronize_session=False))
        s.commit()
        return me if res.rowcount == 1 else None

    def deliver_pending(self, batch: int = 50, stop: threading.Event | None = None) -> int:
        with read_session() as r:
            ids = list(r.scalars(select(HM.id).where(self._due(clock.now())).order_by(HM.id).limit(batch)))
        done = 0
        if not ids:
            return 0
        with SessionLocal() as s:
            for mid in ids:
                if stop is not None and stop.is_set():
                    break
                me = self.claim(s, mid)
                if me:
                    self._deliver(s, mid, me)
                    done += 1
        return done

    def _record(self, s: Session, mid: int, me: str, **values) -> None:
        """The outcome, only while the claim is still ours (its lease was not taken over meanwhile)."""
        res = s.execute(update(HM).where(HM.id == mid, HM.wechat_claimed_by == me).values(**values)
                        .execution_options(synchronize_session=False))
        s.commit()
        if res.rowcount != 1:
            logger.warning("handoff: message %s outlived its lease (HANDOFF_LEASE_SECONDS)", mid)

    def _deliver(self, s: Session, mid: int, me: str) -> None:
        m = s.get(HM, mid, populate_existing=True)
        h = s.get(M.HandoffSession, m.session_id)
        openid = h.conversation.split(":", 1)[1] if h.conversation.startswith("wechat:") else None
        if m.wechat_attempts > MAX_ATTEMPTS:
            return self._record(s, mid, me, wechat_state="failed", wechat_error="gave up (unfinished attempts)")
        if not openid:
            return self._record(s, mid, me, wechat_state="failed", wechat_error="not_wechat")
        if not self.api.configured:
            return self._record(s, mid, me, wechat_state="failed", wechat_error="wechat_not_configured")
        inbound = s.get(N.WechatInbound, openid)
        text = wechat_text(s, m)
        attempts = m.wechat_attempts
        s.commit()  # no transaction held while WeChat is called
        if inbound is None or clock.now() - N._aware(inbound.at) >= N.WINDOW - N.WINDOW_MARGIN:
            return self._record(s, mid, me, wechat_state="failed", wechat_error="outside_window")
        code = self.api.send_text(openid, text)
        if code == 0:
            return self._record(s, mid, me, wechat_state="sent", wechat_error=None)
        if code in PERMANENT or attempts >= MAX_ATTEMPTS:
            return self._record(s, mid, me, wechat_state="failed", wechat_error=f"errcode {code}")
        self._record(s, mid, me, wechat_claimed_at=None, wechat_claimed_by=None, wechat_error=f"errcode {code}",
                     wechat_next_at=clock.now() + dt.timedelta(seconds=5 * 2 ** attempts))

    def run(self, stop: threading.Event) -> None:
        poll = N._num("HANDOFF_POLL_SECONDS", 1.0)
        while not stop.is_set():
            try:
                self.deliver_pending(stop=stop)
            except Exception:  # the database is restarting, ...: log and go on
                logger.exception("handoff: delivery round failed")
            stop.wait(poll)


_thread: tuple[threading.Thread, threading.Event] | None = None


def start_background() -> None:
    global _thread
    if os.environ.get("HANDOFF_WORKER", "1").strip().lower() in {"0", "false", "no", "off"} or _thread:
        return
    stop = threading.Event()
    t = threading.Thread(target=Delivery().run, args=(stop,), name="handoff-delivery", daemon=True)
    t.start()
    _thread = (t, stop)


def stop_background() -> None:
    global _thread
    if _thread is not None:
        _thread[1].set()
        _thread[0].join(timeout=10)
        _thread = None
