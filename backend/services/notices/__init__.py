"""Notices when a student's case moves (issue 15 §1), and their delivery to WeChat.

- One notice per (student, event key): a database unique constraint, so two processes (or a retried request)
  writing the same event leave one row. Notices caused by a state change (review decision, national
  confirmation, archive shipped/delivered) are written in the same transaction as the change (`add`).
- Events the calendar causes (synced to the national platform, the day mailing becomes possible) are found by
  `sweep`, run by the worker every NOTICE_SWEEP_SECONDS (60); their keys carry the date, so each is noticed
  once.
- Deadline reminders: staff set a date and an audience; the students it concerns get a notice at once and,
  3 days before the date, a reminder if it still concerns them.
- The widget shows unread notices first at the next visit and marks them read (routers/notices.py).
- Delivery to WeChat (bound students who did not turn WeChat notices off): a worker loop claims each notice
  atomically with a lease (one conditional UPDATE: unclaimed and due, or claimed longer ago than
  NOTICE_LEASE_SECONDS), so several workers never send one twice and a worker that died between claim and send
  leaves nothing behind: its notice goes out once after the lease (`Worker`, on the shared outbox
  backend/wechat_outbox.py). Transient failures (WeChat unreachable, quota, system busy) are retried with
  back-off; permanent ones (unsubscribed 43004, invalid openid, ...) are recorded as failed. Inside the 48-hour window after the student's last message to the
  account: a customer-service message; outside it, or when WeChat says the window closed (45015, 45047), a
  template message with WECHAT_NOTICE_TEMPLATE_ID (none set: WeChat is skipped, the widget still has it).
  The loop runs as a thread in each backend process (NOTICE_WORKER=0 turns it off) or as
  `python -m backend.services.notices`.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import signal
import threading
import time
from typing import Any

import httpx
from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from backend import models as M
from backend import vocabulary as V
from backend.core import clock
from backend.core.db import SessionLocal, read_session
from backend.models import Deadline, Notice, NoticeSetting, WechatInbound
from backend.wechat_outbox import Background, Outbox

logger = logging.getLogger("backend.notices")


def _env(name: str, default: str = "") -> str:
    return os.environ.get(name, default).strip()


def _num(name: str, default: float) -> float:
    try:
        return float(_env(name) or default)
    except ValueError:
        return default


# --- tables ------------------------------------------------------------------------------------------------
# the tables live in backend/models/notices.py (WechatInbound: backend/models/wechat.py)


# --- writing notices ---------------------------------------------------------------------------------------
def _insert(s: Session):
    name = s.get_bind().dialect.name
    return (postgresql.insert if name == "postgresql" else sqlite.insert)(Notice)


def add(s: Session, student_id: str, event_key: str, kind: str, title: str, body: str) -> bool:
    """Write a notice in the caller's transaction; False when this event was noticed already."""
    stmt = _insert(s).values(
        student_id=student_id,
        event_key=event_key[:120],
        kind=kind,
        title=title[:100],
        body=body,
        created_at=clock.now(),
        wechat_state="pending",
        wechat_attempts=0,
    )
    res = s.execute(stmt.on_conflict_do_nothing(index_elements=["student_id", "event_key"]))
    return bool(res.rowcount)


def cn_date(d: dt.date | str | None) -> str:
    if not d:
        return ""
    if isinstance(d, str):
        d = dt.date.fromisoformat(d)
    return f"{d.year}年{d.month}月{d.day}日"


def on_review(s: Session, kind: str, rec: Any) -> None:
    """A counselor's or the school's decision on a record or change request (called before the commit)."""
    name = V.CHANGE_KINDS.get(rec.kind, "变更申请") if kind == "change" else V.RECORD_NAMES.get(kind, kind)
    state = rec.state
    who = "学院" if state.startswith("college") else "学校"
    if state.endswith("approved"):
        title = f"{name}：{who}审核通过"
        body = (
            f"你的{name}已通过{who}审核，等待学校审核。"
            if who == "学院"
            else f"你的{name}已通过学校审核。" + ("修改已生效。" if kind == "change" else "")
        )
    else:
        title = f"{name}：{who}审核未通过"
        body = (
            f"你的{name}未通过{who}审核，原因：{rec.rejection_reason or '未注明'}。"
            f"请按原因在学校平台修改后再次提交。"
        )
    add(s, rec.student_id, f"review:{kind}:{rec.id}:{rec.version}:{state}", "review", title, body)


def on_national_confirmed(s: Session, st: M.Student, eligible_from: str | None) -> None:
    extra = f"确认一个工作日后（{cn_date(eligible_from)}起）可以申请档案邮寄。" if eligible_from else ""
    add(
        s,
        st.id,
        f"national:{st.national_confirmed_on}",
        "national",
        "国家平台确认已记录",
        f"已记录你于{cn_date(st.national_confirmed_on)}在国家平台确认毕业去向。{extra}",
    )


def on_shipped(s: Session, m: M.MailingRequest) -> None:
    add(
        s,
        m.student_id,
        f"mailing:{m.id}:shipped",
        "shipped",
        "档案已寄出",
        f"你的档案已寄出，EMS单号 {m.ems_no}，可在中国邮政EMS官网查询物流。",
    )


def on_delivered(s: Session, m: M.MailingRequest) -> None:
    add(
        s,
        m.student_id,
        f"mailing:{m.id}:delivered",
        "delivered",
        "档案已送达",
        f"你的档案已送达（EMS单号 {m.ems_no}）。如有疑问请联系学院就业工作负责老师。",
    )


# --- events the calendar causes ----------------------------------------------------------------------------
def due_computed(s: Session) -> list[tuple[str, str, str, str, str]]:
    """(student, event key, kind, title, body) of every sync that happened and every first day mailing is
    possible, as of today."""
    from backend import services as S  # services imports this module

    out = []
    both = (
        select(M.Student)
        .join(M.Destination, M.Destination.student_id == M.Student.id)
        .join(M.Archive, M.Archive.student_id == M.Student.id)
        .where(M.Destination.state == "school_approved", M.Archive.state == "school_approved")
    )
    for st in s.scalars(both):
        sync = S.sync_info(st, S.get_destination(s, st.id), S.get_archive(s, st.id))
        if sync["synced"]:
            out.append(
                (
                    st.id,
                    f"sync:{sync['sync_date']}",
                    "synced",
                    "已同步到国家平台",
                    f"你的毕业去向和户档信息已于{cn_date(sync['sync_date'])}同步到国家平台。"
                    "请登录国家平台确认毕业去向信息（信息有误请在学校平台修改）。",
                )
            )
        el = S.eligibility(s, st)
        if el["eligible"] and el["eligible_from"]:
            out.append(
                (
                    st.id,
                    f"mailing_open:{el['eligible_from']}",
                    "mailing_open",
                    "可以申请档案邮寄了",
                    f"从{cn_date(el['eligible_from'])}起你可以申请档案邮寄了：在“智能咨询”里说“申请档案邮寄”，"
                    "或在学校平台“档案邮寄申请”里提交。",
                )
            )
    today = clock.today()
    soon = select(Deadline).where(Deadline.due_on >= today, Deadline.due_on <= today + REMIND_BEFORE)
    for d in s.scalars(soon):
        # who it concerns now: a student who finished in the meantime is not reminded
        for sid in concerned(s, d.audience, d.college_code):
            out.append(
                (
                    sid,
                    f"deadline:{d.id}:soon",
                    "deadline",
                    f"即将截止：{d.title}"[:100],
                    f"{d.title}将于{cn_date(d.due_on)}截止，请尽快完成。",
                )
            )
    return out


def sweep() -> int:
    """Write the computed notices not written yet (read first: no write transaction when nothing is new)."""
    with read_session() as r:
        due = due_computed(r)
        have = set(
            r.execute(
                select(Notice.student_id, Notice.event_key).where(
                    Notice.kind.in_(["synced", "mailing_open", "deadline"])
                )
            ).all()
        )
    new = [d for d in due if (d[0], d[1]) not in have]
    if not new:
        return 0
    with SessionLocal() as s:
        made = sum(add(s, *d) for d in new)  # another worker may have written some: the constraint keeps one
        s.commit()
    return made


# --- deadline reminders --------------------------------------------------------------------------------------
REMIND_BEFORE = dt.timedelta(days=3)  # a second reminder this many days before the deadline
AUDIENCES = {
    "destination_open": "毕业去向登记未完成学校审核的学生",
    "archive_open": "户档信息登记未完成学校审核的学生",
    "mailing_not_requested": "还没有申请档案邮寄的学生",
    "all": "全部学生",
}


def concerned(s: Session, audience: str, college_code: str | None) -> list[str]:
    q = select(M.Student.id)
    if college_code:
        q = q.where(M.Student.college_code == college_code)
    if audience == "destination_open":
        done = select(M.Destination.student_id).where(M.Destination.state == "school_approved")
        q = q.where(M.Student.id.not_in(done))
    elif audience == "archive_open":
        done = select(M.Archive.student_id).where(M.Archive.state == "school_approved")
        q = q.where(M.Student.id.not_in(done))
    elif audience == "mailing_not_requested":
        asked = select(M.MailingRequest.student_id).where(M.MailingRequest.active_key.is_not(None))
        q = q.where(M.Student.id.not_in(asked))
    return list(s.scalars(q.order_by(M.Student.id)))


def add_deadline(
    s: Session, actor_id: str, title: str, due_on: dt.date, audience: str, college_code: str | None
) -> dict:
    d = Deadline(
        title=title,
        due_on=due_on,
        audience=audience,
        college_code=college_code,
        created_at=clock.now(),
        created_by=actor_id,
    )
    s.add(d)
    s.flush()
    ids = concerned(s, audience, college_code)
    for sid in ids:
        add(
            s,
            sid,
            f"deadline:{d.id}",
            "deadline",
            f"截止提醒：{title}"[:100],
            f"{title}，截止日期：{cn_date(due_on)}。请在截止日期前完成。",
        )
    return {
        "id": d.id,
        "title": title,
        "due_on": due_on.isoformat(),
        "audience": audience,
        "college_code": college_code,
        "students": len(ids),
    }


# --- what the student sees ---------------------------------------------------------------------------------
def view(n: Notice) -> dict:
    return {
        "id": n.id,
        "kind": n.kind,
        "title": n.title,
        "body": n.body,
        "created_at": n.created_at.isoformat() if n.created_at else None,
        "read": n.read_at is not None,
    }


def list_for(s: Session, student_id: str, limit: int = 20) -> dict:
    rows = list(
        s.scalars(
            select(Notice)
            .where(Notice.student_id == student_id)
            .order_by(Notice.read_at.is_not(None), Notice.created_at.desc(), Notice.id.desc())
            .limit(limit)
        )
    )
    unread = (
        s.scalar(select(Notice.id).where(Notice.student_id == student_id, Notice.read_at.is_(None)).limit(1))
        is not None
    )
    return {"notices": [view(n) for n in rows], "has_unread": unread, "wechat": wechat_setting(s, student_id)}


def mark_read(s: Session, student_id: str, ids: list[int]) -> int:
    """Only the student's own notices (the id comes from the token, never from the body)."""
    res = s.execute(
        update(Notice)
        .where(Notice.student_id == student_id, Notice.id.in_(ids), Notice.read_at.is_(None))
        .values(read_at=clock.now())
    )
    s.commit()
    return res.rowcount or 0


def wechat_setting(s: Session, student_id: str) -> dict:
    row = s.get(NoticeSetting, student_id)
    bound = (
        s.scalar(select(M.WechatBinding.openid).where(M.WechatBinding.student_id == student_id)) is not None
    )
    return {"enabled": True if row is None else row.wechat_enabled, "bound": bound}


def set_wechat(s: Session, student_id: str, enabled: bool) -> dict:
    row = s.get(NoticeSetting, student_id, with_for_update=True)
    if row is None:
        s.add(NoticeSetting(student_id=student_id, wechat_enabled=enabled, updated_at=clock.now()))
    else:
        row.wechat_enabled, row.updated_at = enabled, clock.now()
    s.flush()
    return wechat_setting(s, student_id)


def touch_inbound(s: Session, openid: str) -> None:
    """Record that the openid just wrote to the account (called by the WeChat integration routes)."""
    now = clock.now()
    row = s.get(WechatInbound, openid)
    if row is None:
        s.add(WechatInbound(openid=openid, at=now))
    else:
        row.at = now


# --- delivery to WeChat ------------------------------------------------------------------------------------
WINDOW = dt.timedelta(hours=48)
WINDOW_MARGIN = dt.timedelta(minutes=10)  # clocks differ a little: better a template than a refused message
OUT_OF_WINDOW = {45015, 45047}  # response out of time limit / too many customer-service messages
TOKEN_EXPIRED = {40001, 40014, 42001}
MAX_ATTEMPTS = 6  # tries of one notice (transient failures, unfinished claims) before it is marked failed


def _aware(v: dt.datetime) -> dt.datetime:
    """SQLite hands back the wall time clock.now() wrote, without its zone (Asia/Shanghai)."""
    return v if v.tzinfo else v.replace(tzinfo=clock.TZ)


def in_window(inbound: WechatInbound | None) -> bool:
    """Inside WeChat's 48-hour customer-service window of the openid's last message (with a margin)."""
    return inbound is not None and clock.now() - _aware(inbound.at) < WINDOW - WINDOW_MARGIN


class WechatApi:
    """The two send APIs (customer-service and template messages) with an access token of the account."""

    def __init__(self) -> None:
        self.base = (_env("WECHAT_API_BASE") or "https://api.weixin.qq.com").rstrip("/")
        self.appid, self.secret = _env("WECHAT_APPID"), _env("WECHAT_APPSECRET")
        self.template_id = _env("WECHAT_NOTICE_TEMPLATE_ID")
        self.page_url = _env("WECHAT_NOTICE_URL")
        self.http = httpx.Client(timeout=httpx.Timeout(5.0, connect=2.0), trust_env=False)
        self._token: tuple[str, float] | None = None

    @property
    def configured(self) -> bool:
        return bool(self.appid and self.secret)

    def token(self, refresh: bool = False) -> str | None:
        if not refresh and self._token and self._token[1] > time.monotonic():
            return self._token[0]
        try:
            data = self.http.get(
                self.base + "/cgi-bin/token",
                params={"grant_type": "client_credential", "appid": self.appid, "secret": self.secret},
            ).json()
        except (httpx.HTTPError, ValueError):
            return None
        tok = data.get("access_token") if isinstance(data, dict) else None
        if not tok:
            logger.warning("notices: no WeChat access token: %s", data)
            return None
        self._token = (tok, time.monotonic() + max(60, int(data.get("expires_in") or 7200) - 300))
        return tok

    def _post(self, path: str, body: dict) -> int:
        """WeChat's errcode (0 = sent); -1 when WeChat could not be reached."""
        for attempt in range(2):
            tok = self.token(refresh=attempt > 0)
            if not tok:
                return -1
            try:
                data = self.http.post(self.base + path, params={"access_token": tok}, json=body).json()
            except (httpx.HTTPError, ValueError):
                return -1
            code = int(data.get("errcode", 0)) if isinstance(data, dict) else -1
            if code in TOKEN_EXPIRED and attempt == 0:
                continue
            return code
        return -1

    def send_text(self, openid: str, text: str) -> int:
        return self._post(
            "/cgi-bin/message/custom/send", {"touser": openid, "msgtype": "text", "text": {"content": text}}
        )

    def send_template(self, openid: str, n: Notice) -> int:
        body: dict[str, Any] = {
            "touser": openid,
            "template_id": self.template_id,
            "data": {
                "first": {"value": n.title},
                "keyword1": {"value": n.title},
                "keyword2": {"value": cn_date(_aware(n.created_at).astimezone(clock.TZ).date())},
                "remark": {"value": n.body[:200]},
            },
        }
        if self.page_url:
            body["url"] = self.page_url
        return self._post("/cgi-bin/message/template/send", body)


def notice_text(n: Notice) -> str:
    return f"【{n.title}】{n.body}\n（发送“关闭通知”可不再在微信接收办理进度通知。）"


# WeChat's answers that no retry can change: record them and stop (anything else is retried with back-off)
PERMANENT = {
    40003: "invalid_openid",
    43004: "unsubscribed",
    43101: "user_refused",
    40037: "invalid_template_id",
    47003: "template_data_invalid",
    48001: "api_unauthorized",
}


def backoff(attempts: int) -> dt.timedelta:
    """Wait before the next try after a transient failure: 2 x, 4 x, 8 x ... NOTICE_RETRY_SECONDS (15), i.e.
    30 s, 1, 2, 4 ... minutes, at most an hour."""
    return dt.timedelta(seconds=min(3600.0, _num("NOTICE_RETRY_SECONDS", 15.0) * 2 ** max(1, attempts)))


class Worker(Outbox):
    """Delivery of notices through the WeChat outbox (backend/wechat_outbox.py: claim with a lease, outcome
    recorded only by the claim's owner, back-off): sent (customer-service message in the window, else a
    template message) | skipped (not bound, turned off, not configured, no template) | failed (permanent
    WeChat error, or MAX_ATTEMPTS used up). The loop also runs `sweep` every NOTICE_SWEEP_SECONDS."""

    model = Notice
    what = "notice"
    # a claim older than NOTICE_LEASE_SECONDS (120) belongs to a worker that died (or hung) between claiming and
    # recording: another worker takes the notice over. Longer than one delivery can take (two WeChat calls of at
    # most 7 s each, twice with a token refresh).
    lease_env, lease_default = "NOTICE_LEASE_SECONDS", 120.0
    poll_env, poll_default = "NOTICE_POLL_SECONDS", 2.0
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
        n = s.get(Notice, nid, populate_existing=True)
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
        code = self.api.send_template(binding.openid, n)
        if code == 0:
            return self._finish(s, nid, me, "sent", "template", error=note)
        if code in PERMANENT:
            return self._finish(s, nid, me, "failed", error=f"template errcode {code} {PERMANENT[code]}")
        return self._retry(s, nid, me, n.wechat_attempts, f"template errcode {code}")

    def round(self, stop: threading.Event) -> bool:
        if time.monotonic() - self._last_sweep >= _num("NOTICE_SWEEP_SECONDS", 60.0):
            self._last_sweep = time.monotonic()
            sweep()
        return super().round(stop)


_background = Background("notices", "NOTICE_WORKER", Worker)


def start_background() -> None:
    """Start the worker thread in this process unless NOTICE_WORKER=0."""
    _background.start()


def stop_background() -> None:
    _background.stop()


def main() -> None:
    """`python -m backend.services.notices`: one worker process (stops on SIGTERM/Ctrl-C)."""
    from deploy import logs

    logs.setup("notices")  # httpx logs every URL at INFO: the app secret and access tokens are masked
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    Worker().run(stop)
