"""Counselors' replies to WeChat conversations: one customer-service message per reply.

A worker (a thread of each backend process, like the notices' one; HANDOFF_WORKER=0 turns it off) claims each
pending message atomically (UPDATE ... WHERE wechat_claimed_at IS NULL), so several backend processes never send
one twice, and sends it through the notices' WeChat API client (same access token handling, WECHAT_API_BASE).
Inside WeChat's 48-hour window only (the student just wrote, so it normally is); outside it, or after
MAX_ATTEMPTS refusals, the message is marked failed and the staff page shows it. A process that dies between
sending and recording leaves the message claimed: it is never sent twice (at most once).
"""
from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import threading
import uuid

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from .. import clock
from .. import models as M
from .. import notices as N
from ..db import SessionLocal, read_session

logger = logging.getLogger("backend.handoff")
MAX_ATTEMPTS = 5


def wechat_text(s: Session, m: M.HandoffMessage) -> str:
    if m.sender == "staff":
        name = s.scalar(select(M.HandoffSession.staff_name).where(M.HandoffSession.id == m.session_id)) or ""
        return f"【{name}老师】{m.text}"
    return m.text


class Delivery:
    def __init__(self, api: N.WechatApi | None = None, name: str | None = None) -> None:
        self.api = api or N.WechatApi()
        self.name = name or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"

    def claim(self, s: Session, mid: int) -> bool:
        res = s.execute(update(M.HandoffMessage).where(M.HandoffMessage.id == mid,
                                                       M.HandoffMessage.wechat_claimed_at.is_(None))
                        .values(wechat_claimed_at=clock.now(), wechat_claimed_by=self.name))
        s.commit()
        return res.rowcount == 1

    def deliver_pending(self, batch: int = 50) -> int:
        now = clock.now()
        with read_session() as r:
            ids = list(r.scalars(select(M.HandoffMessage.id).where(
                M.HandoffMessage.wechat_state == "pending", M.HandoffMessage.wechat_claimed_at.is_(None),
                or_(M.HandoffMessage.wechat_next_at.is_(None), M.HandoffMessage.wechat_next_at <= now))
                .order_by(M.HandoffMessage.id).limit(batch)))
        if not ids:
            return 0
        done = 0
        with SessionLocal() as s:
            for mid in ids:
                if self.claim(s, mid):
                    self._deliver(s, mid)
                    done += 1
        return done

    def _finish(self, s: Session, m: M.HandoffMessage, state: str, error: str | None = None) -> None:
        m.wechat_state, m.wechat_error = state, error
        s.commit()

    def _deliver(self, s: Session, mid: int) -> None:
        m = s.get(M.HandoffMessage, mid, populate_existing=True)
        h = s.get(M.HandoffSession, m.session_id)
        openid = h.conversation.split(":", 1)[1] if h.conversation.startswith("wechat:") else None
        if not openid:
            return self._finish(s, m, "failed", "not_wechat")
        if not self.api.configured:
            return self._finish(s, m, "failed", "wechat_not_configured")
        inbound = s.get(N.WechatInbound, openid)
        text = wechat_text(s, m)
        s.commit()  # no transaction held while WeChat is called
        if inbound is None or clock.now() - N._aware(inbound.at) >= N.WINDOW - N.WINDOW_MARGIN:
            return self._finish(s, m, "failed", "outside_window")
        code = self.api.send_text(openid, text)
        if code == 0:
            return self._finish(s, m, "sent")
        m.wechat_attempts += 1
        if m.wechat_attempts >= MAX_ATTEMPTS or code in N.OUT_OF_WINDOW or code in (43004, 40003):
            return self._finish(s, m, "failed", f"errcode {code}")
        m.wechat_claimed_at, m.wechat_claimed_by = None, None
        m.wechat_next_at = clock.now() + dt.timedelta(seconds=5 * 2 ** m.wechat_attempts)
        m.wechat_error = f"errcode {code}"
        s.commit()

    def run(self, stop: threading.Event) -> None:
        poll = N._num("HANDOFF_POLL_SECONDS", 1.0)
        while not stop.is_set():
            try:
                self.deliver_pending()
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
