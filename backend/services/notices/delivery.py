"""Delivery of notices to WeChat by a worker loop on the shared outbox (services/wechat/outbox.py), as a
thread of each backend process (NOTICE_WORKER=0: none) or `python -m backend.services.notices`."""

from __future__ import annotations

import datetime as dt
import logging
import signal
import threading
import time
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend import models as M
from backend.core import clock
from backend.core.config import settings
from backend.models import Notice, WechatInbound
from backend.services.notice_events import cn_date
from backend.services.notices.inbox import wechat_setting
from backend.services.notices.schedule import sweep
from backend.services.wechat.client import OUT_OF_WINDOW, PERMANENT, WechatApi, in_window
from backend.services.wechat.outbox import Background, Outbox

logger = logging.getLogger("backend.notices")
MAX_ATTEMPTS = 6  # tries of one notice (transient failures, unfinished claims) before it is marked failed


def template_data(n: Notice) -> dict[str, Any]:
    """The template message's fields of a notice."""
    return {
        "first": {"value": n.title},
        "keyword1": {"value": n.title},
        "keyword2": {"value": cn_date(clock.aware(n.created_at).astimezone(clock.TZ).date())},
        "remark": {"value": n.body[:200]},
    }


def notice_text(n: Notice) -> str:
    return f"【{n.title}】{n.body}\n（发送“关闭通知”可不再在微信接收办理进度通知。）"


def backoff(attempts: int) -> dt.timedelta:
    """Wait before the next try after a transient failure: 2 x, 4 x, 8 x ... NOTICE_RETRY_SECONDS (15), i.e.
    30 s, 1, 2, 4 ... minutes, at most an hour."""
    return dt.timedelta(seconds=min(3600.0, settings.notice_retry_seconds * 2 ** max(1, attempts)))


class Worker(Outbox):
    """Delivery of notices through the WeChat outbox (services/wechat/outbox.py: claim with a lease, outcome
    recorded only by the claim's owner, back-off): sent (customer-service message in the window, else a
    template message) | skipped (not bound, turned off, not configured, no template) | failed (permanent
    WeChat error, or MAX_ATTEMPTS used up). The loop also runs `sweep` every NOTICE_SWEEP_SECONDS."""

    model = Notice
    what = "notice"
    # a claim older than NOTICE_LEASE_SECONDS (120) belongs to a worker that died (or hung) between claiming
    # and recording: another worker takes the notice over. Longer than one delivery can take (two WeChat calls
    # of at most 7 s each, twice with a token refresh).
    lease_seconds, poll_seconds = settings.notice_lease_seconds, settings.notice_poll_seconds
    lease_name = "NOTICE_LEASE_SECONDS"
    max_attempts = MAX_ATTEMPTS
    logger = logger

    def __init__(self, name: str | None = None, api: WechatApi | None = None) -> None:
        super().__init__(name)
        self.api = api or WechatApi()
        self._last_sweep = float("-inf")

    def _finish(
        self, s: Session, nid: int, me: str, state: str, via: str | None = None, error: str | None = None
    ) -> None:
        self.record(s, nid, me, wechat_state=state, wechat_via=via, wechat_error=error)

    def _retry(self, s: Session, nid: int, me: str, attempts: int, error: str) -> None:
        """A transient failure: back to pending, due again after the back-off; given up after MAX_ATTEMPTS."""
        if attempts >= MAX_ATTEMPTS:
            return self._finish(s, nid, me, "failed", error=f"{error}; gave up after {attempts} attempts")
        self.retry(s, nid, me, backoff(attempts), error)

    def deliver(self, s: Session, nid: int, me: str) -> None:
        n = s.get_one(Notice, nid, populate_existing=True)  # claimed by this worker just now
        if n.wechat_attempts > MAX_ATTEMPTS:  # earlier claims all died (or hung) without recording anything
            return self._finish(
                s, nid, me, "failed", error=f"gave up after {MAX_ATTEMPTS} unfinished attempts"
            )
        binding = s.scalar(select(M.WechatBinding).where(M.WechatBinding.student_id == n.student_id))
        if binding is None:
            return self._finish(s, nid, me, "skipped", error="not_bound")
        if not wechat_setting(s, n.student_id)["enabled"]:
            return self._finish(s, nid, me, "skipped", error="turned_off")
        if not self.api.configured:
            return self._finish(s, nid, me, "skipped", error="wechat_not_configured")
        inbound = s.get(WechatInbound, binding.openid)
        s.commit()  # no transaction (no SQLite write lock) while WeChat is called
        note = None
        if in_window(inbound):
            code = self.api.send_text(binding.openid, notice_text(n))
            if code == 0:
                return self._finish(s, nid, me, "sent", "cs")
            if code in PERMANENT:
                return self._finish(s, nid, me, "failed", error=f"errcode {code} {PERMANENT[code]}")
            if code not in OUT_OF_WINDOW:
                return self._retry(s, nid, me, n.wechat_attempts, f"errcode {code}")
            note = f"customer service errcode {code}"  # the window closed after all: a template message
        if not self.api.template_id:
            return self._finish(s, nid, me, "skipped", error=note or "outside_window_no_template")
        code = self.api.send_template(binding.openid, template_data(n))
        if code == 0:
            return self._finish(s, nid, me, "sent", "template", error=note)
        if code in PERMANENT:
            return self._finish(s, nid, me, "failed", error=f"template errcode {code} {PERMANENT[code]}")
        return self._retry(s, nid, me, n.wechat_attempts, f"template errcode {code}")

    def round(self, stop: threading.Event) -> bool:
        if time.monotonic() - self._last_sweep >= settings.notice_sweep_seconds:
            self._last_sweep = time.monotonic()
            sweep()
        return super().round(stop)


_background = Background("notices", settings.notice_worker, Worker)


def start_background() -> None:
    """Start the worker thread in this process unless NOTICE_WORKER=0."""
    _background.start()


def stop_background() -> None:
    _background.stop()


def main() -> None:
    """`python -m backend.services.notices`: one worker process (stops on SIGTERM/Ctrl-C)."""
    from contracts import logs

    logs.setup("notices")  # httpx logs every URL at INFO: the app secret and access tokens are masked
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    Worker().run(stop)
