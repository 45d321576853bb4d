"""A person in the chat (issue 15 §2): the backend owns handoff sessions and their messages.

States of a session (models.HandoffSession):
- chat:   waiting (in the queue) -> active (a counselor holds it) -> closed (by the counselor, or the student
          says 结束人工/取消排队); waiting -> closed when staff close it without taking it; waiting longer than
          HANDOFF_WAIT_MINUTES -> ticket_open if the student wrote while queued (anonymous or nothing written:
          closed), at the student's next message or by the backend's periodic sweep, whichever comes first.
- ticket: ticket_draft (outside office hours; the student's next message, within HANDOFF_DRAFT_MINUTES, is the
          ticket) -> ticket_open (in the staff page's ticket list) -> answered (the answer goes out as a notice; a
          WeChat conversation without a bound student gets it as a customer-service message); ticket_draft ->
          cancelled (取消留言, or no message within HANDOFF_DRAFT_MINUTES: then that message goes to the bot).
While a session is waiting, active or ticket_draft its `open_key` is the conversation id (unique): the channel
layer asks `inbound` before handing a message to Rasa. Waiting: the message is stored for the counselor AND the
bot answers it (a queued student is never left with a silent assistant). Active: stored, the bot stays silent.
Ticket draft: the message is the ticket. The state lives in the database, so every Rasa process agrees and a
restart loses nothing.

Scope: a signed-in student's session belongs to the counselors of the student's college (college_code); an
anonymous one (college_code NULL) to the career center (school staff, who see all). Every step is in the audit
log (entity "handoff").
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import re
import secrets

from sqlalchemy import delete, func, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from backend import clients, workdays
from backend import models as M
from backend.core import clock
from backend.core.auth import Principal
from backend.core.config import settings
from backend.core.errors import APIError, not_found
from backend.services.notices import events

logger = logging.getLogger("backend.handoff")

HELD = ("waiting", "active", "ticket_draft")
HELD_LIST_MAX = (
    50000  # the held list the channels poll (more than that: they ask per message, see bot/channels)
)
CLOSED = ("closed", "answered", "cancelled")
CONVERSATION_RE = re.compile(r"^(anon|student|wechat):[A-Za-z0-9_.\-]{1,64}$")
# what a student says to leave a person (or drop a message left) and go back to the bot
CANCEL_RE = re.compile(
    r"^\s*(结束人工|退出人工|取消人工|结束对话|返回机器人|返回智能助手|取消留言|不留言了|取消排队|退出排队|不排队了)"
    r"\s*[。.!！]?\s*$"
)

TEXT_TAKEN = "{name}已接入，请直接描述你的问题。"
TEXT_CLOSED = "老师已结束人工咨询，智能助手继续为你服务。"
TEXT_STUDENT_CLOSED = "已结束人工咨询，智能助手继续为你服务。"
TEXT_TICKET_LEFT = (
    "已收到你的留言，老师会在工作时间回复你：回复会出现在“智能咨询”的消息通知里"
    "（已绑定微信的同学也会在微信收到）。"
)
TEXT_TICKET_LEFT_WECHAT = "已收到你的留言，老师会在工作时间回复你，回复会发到这个公众号。"
TEXT_TICKET_CANCELLED = "已取消留言，智能助手继续为你服务。"
TEXT_TIMEOUT_TICKET = (
    "（老师暂时没有接入，排队已结束：你排队时发的消息已作为留言转给老师，老师会尽快回复你，"
    "回复会出现在消息通知里。）"
)
TEXT_TIMEOUT_WECHAT = (
    "（老师暂时没有接入，排队已结束：你排队时发的消息已作为留言转给老师，老师会尽快在这里回复你。）"
)
TEXT_TIMEOUT_ANON = (
    "老师暂时没有接入，人工服务已结束，智能助手继续为你服务；你也可以稍后再说“转人工”，或登录后给老师留言。"
)
TEXT_TIMEOUT_CLOSED = "（老师暂时没有接入，排队已结束；需要时可以再说“转人工”。）"
TEXT_DRAFT_EXPIRED = (
    "（留言已超时取消：说“转人工”后{minutes}分钟内没有写留言，这条消息由智能助手回答；"
    "需要给老师留言请再说“转人工”。）"
)


# --- office hours ------------------------------------------------------------------------------------------
def hours_setting() -> str:
    return settings.handoff_hours


def _parse_hours(raw: str) -> tuple[dt.time, dt.time] | None:
    m = re.fullmatch(r"(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})", raw)
    if not m:
        return None
    h1, m1, h2, m2 = (int(x) for x in m.groups())
    if h1 > 23 or h2 > 24 or m1 > 59 or m2 > 59:
        return None
    end = dt.time(23, 59, 59) if h2 == 24 else dt.time(h2, m2)
    return dt.time(h1, m1), end


def office_hours(now: dt.datetime | None = None) -> tuple[bool, str]:
    """(open now, label for students). HANDOFF_HOURS: "HH:MM-HH:MM" on working days (backend/workdays.py),
    "always" (every day, all day) or "never" (tickets only)."""
    raw = hours_setting().lower()
    if raw == "always":
        return True, "全天"
    if raw in ("never", "off", "0"):
        return False, "暂不提供在线人工服务"
    rng = _parse_hours(raw)
    if rng is None:
        logger.warning("HANDOFF_HOURS=%r is not HH:MM-HH:MM; using 08:30-17:30", raw)
        rng = (dt.time(8, 30), dt.time(17, 30))
    now = (now or clock.now()).astimezone(clock.TZ)
    label = f"工作日 {rng[0].strftime('%H:%M')}-{'24:00' if rng[1] == dt.time(23, 59, 59) else rng[1].strftime('%H:%M')}"
    return workdays.is_workday(now.date()) and rng[0] <= now.time().replace(tzinfo=None) <= rng[1], label


# --- helpers -----------------------------------------------------------------------------------------------
def teacher(name: str | None) -> str:
    """How students see a staff member: 物理学院辅导员王芳老师, 学校就业指导中心孙老师 (stored as staff_name)."""
    name = (name or "").strip()
    return name if name.endswith("老师") else name + "老师"


def wait_limit() -> dt.timedelta:
    """How long a conversation waits in the queue for a person (HANDOFF_WAIT_MINUTES, default 30) before it
    becomes a ticket (anonymous or nothing written: closed, the bot takes over again): at the student's next
    message or the backend's next sweep (HANDOFF_SWEEP_SECONDS)."""
    return dt.timedelta(minutes=max(1.0, settings.handoff_wait_minutes))


def draft_minutes() -> int:
    """How long "your next message is your message to the teacher" lasts after 转人工 outside office hours
    (HANDOFF_DRAFT_MINUTES, default 10); after that the next message goes to the bot again."""
    return max(1, settings.handoff_draft_minutes)


def _expired_draft(h: M.HandoffSession) -> bool:
    return h.state == "ticket_draft" and clock.now() - _aware(h.created_at) > dt.timedelta(
        minutes=draft_minutes()
    )


def _aware(v: dt.datetime) -> dt.datetime:
    return v if v.tzinfo else v.replace(tzinfo=clock.TZ)


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def _ts(v: dt.datetime | None) -> str | None:
    if v is None:
        return None
    return (v if v.tzinfo else v.replace(tzinfo=clock.TZ)).astimezone(clock.TZ).isoformat(timespec="seconds")


def audit(
    s: Session,
    actor_role: str,
    actor_id: str,
    h: M.HandoffSession,
    action: str,
    after: dict | None = None,
    before: dict | None = None,
) -> None:
    s.add(
        M.AuditLog(
            at=clock.now(),
            actor_role=actor_role,
            actor_id=actor_id,
            student_id=h.student_id,
            entity="handoff",
            entity_id=str(h.id),
            action=action,
            before=before,
            after=after,
        )
    )


def add_message(
    s: Session,
    h: M.HandoffSession,
    sender: str,
    text: str,
    staff_id: str | None = None,
    to_wechat: bool | None = None,
) -> M.HandoffMessage:
    """A message of the session; staff and system messages to a WeChat conversation wait for delivery."""
    if to_wechat is None:
        to_wechat = sender != "student" and h.channel == "wechat"
    m = M.HandoffMessage(
        session_id=h.id,
        at=clock.now(),
        sender=sender,
        staff_id=staff_id,
        text=text,
        wechat_state="pending" if to_wechat else "none",
        wechat_attempts=0,
    )
    s.add(m)
    s.flush()
    return m


def openid_of(h: M.HandoffSession) -> str | None:
    return h.conversation.split(":", 1)[1] if h.conversation.startswith("wechat:") else None


def _open(s: Session, conversation: str, lock: bool = False) -> M.HandoffSession | None:
    q = select(M.HandoffSession).where(M.HandoffSession.open_key == conversation)
    if lock:
        q = q.with_for_update()
    return s.scalar(q.execution_options(populate_existing=True))


def student_view(h: M.HandoffSession) -> dict:
    return {
        "id": h.id,
        "kind": h.kind,
        "state": h.state,
        "staff_name": h.staff_name,
        "created_at": _ts(h.created_at),
        "closed_at": _ts(h.closed_at),
    }


def message_view(m: M.HandoffMessage) -> dict:
    return {"id": m.id, "sender": m.sender, "text": m.text, "at": _ts(m.at)}


# --- the student's side (through the action server and the channels) ----------------------------------------
OPEN = (
    "waiting",
    "active",
    "ticket_draft",
    "ticket_open",
)  # a student has at most one of these (issue 21 §1)
TEXT_TICKET_PENDING = "你已经给老师留过言了，老师会在工作时间回复你（回复会出现在消息通知里），不用再次留言。"
TEXT_TOO_MANY = "你转人工太频繁了，请{wait}后再试；着急的话可以直接联系下面的老师。"
TEXT_TOO_MANY_CLIENT = "这个网络转人工太频繁了，请{wait}后再试；着急的话可以直接联系下面的老师。"
TEXT_QUEUE_FULL = (
    "现在排队等待人工服务的人太多了，请{wait}后再试，或登录后再说“转人工”；着急的话可以直接联系下面的老师。"
)
ANON_LOCK = 0x68616E646F6666  # PostgreSQL advisory lock: one anonymous request at a time counts and inserts


def _answer(h: M.HandoffSession, label: str, already: bool) -> dict:
    out = {
        "state": h.state,
        "session_id": h.id,
        "already": already,
        "hours": label,
        "staff_name": h.staff_name,
        "draft_minutes": draft_minutes(),
    }
    if h.state == "ticket_open":
        out["message"] = TEXT_TICKET_PENDING
    return out


def _limits(
    s: Session, conversation: str, channel: str, student: M.Student | None, client: str | None
) -> None:
    """Before a new session is made: at most HANDOFF_PER_STUDENT per student, HANDOFF_PER_OPENID per WeChat user,
    HANDOFF_PER_CLIENT per address (anonymous web) in HANDOFF_LIMIT_MINUTES, and at most HANDOFF_ANON_MAX anonymous
    sessions open at once (the queue cannot be buried); 429 with the wait in Chinese otherwise. Counted in the
    database: every backend process sees the same rows."""
    HS = M.HandoffSession
    window = dt.timedelta(minutes=settings.handoff_limit_minutes)
    if student is not None:
        clients.limit(
            s,
            HS.created_at,
            [HS.student_id == student.id],
            settings.handoff_per_student,
            window,
            "too_many_handoffs",
            TEXT_TOO_MANY,
        )
    if channel == "wechat":
        clients.limit(
            s,
            HS.created_at,
            [HS.conversation == conversation],
            settings.handoff_per_openid,
            window,
            "too_many_handoffs",
            TEXT_TOO_MANY,
        )
    if student is None and channel == "web" and client:
        clients.limit(
            s,
            HS.created_at,
            [HS.client_hash == client],
            settings.handoff_per_client,
            window,
            "too_many_handoffs",
            TEXT_TOO_MANY_CLIENT,
        )
    if student is None:
        n = s.scalar(
            select(func.count())
            .select_from(HS)
            .where(HS.student_id.is_(None), HS.state.in_(("waiting", "ticket_draft")))
        )
        if n >= settings.handoff_anon_max:
            s.rollback()
            wait = min(int(wait_limit().total_seconds()), 300)
            raise APIError(
                429, "queue_full", TEXT_QUEUE_FULL.format(wait=f"{wait // 60}分钟"), retry_after=wait
            )


def request(
    s: Session,
    conversation: str,
    channel: str,
    student: M.Student | None,
    transcript: list[dict],
    client: str | None = None,
) -> dict:
    """The student asked for a person: join the queue (office hours), or start a ticket, or (anonymous web
    outside office hours) nothing. A second request while one is open returns the open one: per conversation,
    and per student across their conversations (web and WeChat) including a ticket not answered yet. A new
    session must pass the limits (`_limits`). `client`: the keyed hash of an anonymous visitor's address."""
    if (
        student is not None
    ):  # one request of a student at a time (PostgreSQL: row lock; SQLite: BEGIN IMMEDIATE)
        s.scalar(select(M.Student.id).where(M.Student.id == student.id).with_for_update())
    elif s.get_bind().dialect.name == "postgresql":
        s.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": ANON_LOCK})
    existing = _open(s, conversation, lock=True)
    open_now, label = office_hours()
    if existing is not None and _expired_draft(existing):  # a stale draft: a new request starts afresh
        _expire_draft(s, existing)
        existing = None
    if existing is None and student is not None:
        existing = s.scalar(
            select(M.HandoffSession)
            .where(M.HandoffSession.student_id == student.id, M.HandoffSession.state.in_(OPEN))
            .order_by(M.HandoffSession.id.desc())
            .limit(1)
        )
        if existing is not None and _expired_draft(existing):
            _expire_draft(s, existing)
            existing = None
    if existing is not None:
        s.commit()
        return _answer(existing, label, True)
    if not open_now and student is None and channel == "web":
        return {"state": "closed_hours", "session_id": None, "already": False, "hours": label}
    _limits(s, conversation, channel, student, client)
    secret = secrets.token_urlsafe(24) if (student is None and channel == "web") else None
    h = M.HandoffSession(
        conversation=conversation,
        channel=channel,
        kind="chat" if open_now else "ticket",
        state="waiting" if open_now else "ticket_draft",
        open_key=conversation,
        student_id=student.id if student else None,
        college_code=student.college_code if student else None,
        secret_hash=_hash(secret) if secret else None,
        transcript=transcript,
        created_at=clock.now(),
        client_hash=client if student is None else None,
    )
    s.add(h)
    try:
        s.flush()
    except IntegrityError:  # another process opened one for this conversation at the same moment
        s.rollback()
        existing = _open(s, conversation)
        if existing is None:
            raise APIError(409, "conflict", "请稍后再试。")
        return _answer(existing, label, True)
    audit(
        s,
        "student" if student else "anonymous",
        student.id if student else conversation[:60],
        h,
        "request" if h.kind == "chat" else "ticket_start",
        {"channel": channel, "state": h.state},
    )
    s.commit()
    out = _answer(h, label, False)
    out["staff_name"] = None
    if secret:
        out["secret"] = secret
    return out


def _expire_draft(s: Session, h: M.HandoffSession) -> None:
    h.state, h.open_key, h.closed_at, h.closed_by = "cancelled", None, clock.now(), "timeout"
    audit(
        s,
        "student" if h.student_id else "anonymous",
        h.student_id or h.conversation[:60],
        h,
        "ticket_expired",
        {"state": "cancelled"},
    )
    s.flush()


def inbound(s: Session, conversation: str, channel: str, text: str) -> dict:
    """A student's message, before Rasa sees it. {held: False} lets the bot answer; {held: False, stored: True}
    too, the message is also kept for the counselor (in the queue); {held: True, reply} means the message was
    kept for a person and the bot is not asked (reply: what the student is told now, may be None). `note`: a
    line the channel shows before the bot's answer."""
    h = _open(s, conversation, lock=True)
    if h is None:
        return {"held": False}
    actor = ("student", h.student_id) if h.student_id else ("anonymous", conversation[:60])
    if CANCEL_RE.match(text):
        state = "cancelled" if h.state == "ticket_draft" else "closed"
        h.state, h.open_key, h.closed_at, h.closed_by = state, None, clock.now(), "student"
        add_message(s, h, "student", text)
        audit(s, *actor, h, "cancel" if state == "cancelled" else "close", {"by": "student", "state": state})
        s.commit()
        return {
            "held": True,
            "state": state,
            "reply": TEXT_TICKET_CANCELLED if state == "cancelled" else TEXT_STUDENT_CLOSED,
        }
    if _overdue(h):
        return _timed_out(s, h, actor, text, conversation, channel)
    if _expired_draft(h):  # nothing written in time: this message is for the bot
        _expire_draft(s, h)
        s.commit()
        return {
            "held": False,
            "state": "cancelled",
            "note": TEXT_DRAFT_EXPIRED.format(minutes=draft_minutes()),
        }
    m = add_message(s, h, "student", text)
    if h.state == "ticket_draft":
        h.state, h.open_key = "ticket_open", None
        audit(s, *actor, h, "ticket_left", {"message_id": m.id, "text": text})
        s.commit()
        return {
            "held": True,
            "state": "ticket_open",
            "reply": TEXT_TICKET_LEFT_WECHAT
            if h.channel == "wechat" and not h.student_id
            else TEXT_TICKET_LEFT,
        }
    audit(s, *actor, h, "student_message", {"message_id": m.id, "text": text})
    s.commit()
    if (
        h.state == "waiting"
    ):  # in the queue: the counselor will see it, and the bot answers it now (the channel
        # then stores that answer for the counselor too: bot_answer with this session_id)
        return {"held": False, "stored": True, "state": "waiting", "session_id": h.id}
    return {"held": True, "state": h.state, "reply": None}


BOT_TEXT_MAX = 4000


def bot_answer(s: Session, conversation: str, session_id: int, texts: list[str]) -> dict:
    """What the bot answered a message stored while queued (the channel posts it after the turn): kept as
    sender "bot" so the counselor sees the assistant's answers in order with the student's messages. Shown on the
    staff page only: never in the widget's poll, never sent to WeChat (the student already got it from the bot).
    The session must be this conversation's and still waiting (or just taken: the answer was given before)."""
    h = s.scalar(
        select(M.HandoffSession)
        .where(M.HandoffSession.id == session_id, M.HandoffSession.conversation == conversation)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if h is None:
        raise not_found("没有这个人工咨询会话。")
    if h.state not in ("waiting", "active"):
        raise APIError(409, "wrong_state", "这个会话已经结束，不再保存智能助手的回答。")
    ids = [add_message(s, h, "bot", t[:BOT_TEXT_MAX], to_wechat=False).id for t in texts]
    s.commit()
    return {"stored": len(ids), "message_ids": ids}


SWEEP_ACTOR = ("system", "handoff-sweep")  # who the audit log names for a timeout found by the sweep


def _overdue(h: M.HandoffSession) -> bool:
    return h.state == "waiting" and clock.now() - _aware(h.created_at) > wait_limit()


def _time_out(s: Session, h: M.HandoffSession, actor: tuple, swept: bool) -> str | None:
    """Nobody took the queued conversation in time (the one transition for both paths: the student's next
    message, `inbound`, and the backend's periodic `sweep`). A student's (signed-in or WeChat) conversation in
    which they wrote something while queued becomes a ticket (answered later, like one left outside office hours);
    otherwise it is closed. Each step is one conditional UPDATE on state = 'waiting': a counselor's take (or any
    other transition) committed first wins and nothing changes here (None, rolled back); the first UPDATE also
    takes SQLite's write lock, so no student message can slip in between the two. Commits; returns the new state.
    The closed case always leaves a system message (the widget polls while queued and shows it); the sweep also
    leaves one for a ticket (the student is not writing, so no note goes with a bot answer), and in a WeChat
    conversation the sweep's message goes out as a customer-service message (a reply to the student's request,
    inside the 48-hour window; backend/handoff/delivery.py)."""
    HS, HM = M.HandoffSession, M.HandoffMessage
    said = select(HM.id).where(HM.session_id == HS.id, HM.sender == "student").exists()
    res = s.execute(
        update(HS)
        .where(
            HS.id == h.id,
            HS.state == "waiting",
            said,
            (HS.student_id.is_not(None)) | (HS.channel == "wechat"),
        )
        .values(state="ticket_open", open_key=None)
        .execution_options(synchronize_session=False)
    )
    state = "ticket_open"
    if res.rowcount != 1:
        res = s.execute(
            update(HS)
            .where(HS.id == h.id, HS.state == "waiting")
            .values(state="closed", open_key=None, closed_at=clock.now(), closed_by="timeout")
            .execution_options(synchronize_session=False)
        )
        state = "closed"
    if res.rowcount != 1:  # taken (or closed, or timed out by another process) just before
        s.rollback()
        return None
    h = s.get(HS, h.id, populate_existing=True)
    wechat_anon = h.channel == "wechat" and not h.student_id
    if state == "ticket_open":
        if swept:
            add_message(s, h, "system", TEXT_TIMEOUT_WECHAT if wechat_anon else TEXT_TIMEOUT_TICKET)
        audit(s, *actor, h, "timeout_ticket", {"state": "ticket_open", "by": "sweep" if swept else "message"})
    else:
        add_message(
            s,
            h,
            "system",
            TEXT_TIMEOUT_ANON if not (h.student_id or h.channel == "wechat") else TEXT_TIMEOUT_CLOSED,
            to_wechat=None if swept else False,
        )
        audit(s, *actor, h, "timeout_close", {"state": "closed", "by": "sweep" if swept else "message"})
    s.commit()
    return state


def _timed_out(
    s: Session, h: M.HandoffSession, actor: tuple, text: str, conversation: str, channel: str
) -> dict:
    """The student wrote after the wait limit: the timeout, then the bot answers this message either way (a
    student is told about the ticket first by the note; the widget shows why a closed queue ended)."""
    state = _time_out(s, h, actor, swept=False)
    if state is None:  # a counselor took it a moment ago (SQLite: no row lock): handle the message as such
        return inbound(s, conversation, channel, text)
    if state == "ticket_open":
        return {
            "held": False,
            "state": "ticket_open",
            "note": TEXT_TIMEOUT_WECHAT
            if h.channel == "wechat" and not h.student_id
            else TEXT_TIMEOUT_TICKET,
        }
    return {"held": False, "state": "closed", "note": TEXT_TIMEOUT_CLOSED if h.channel == "wechat" else None}


SWEEP_BATCH = 200


def sweep(s: Session) -> int:
    """Time out every conversation waiting longer than the wait limit, without waiting for the student's next
    message (run periodically by each backend process, backend/handoff/delivery.py). Each session is locked
    (PostgreSQL) and transitioned by `_time_out`, so processes sweeping at once, a counselor's take and the
    student's own message never transition it twice. Returns how many were timed out."""
    cutoff = clock.now() - wait_limit()
    ids = list(
        s.scalars(
            select(M.HandoffSession.id)
            .where(M.HandoffSession.state == "waiting", M.HandoffSession.created_at < cutoff)
            .order_by(M.HandoffSession.id)
            .limit(SWEEP_BATCH)
        )
    )
    s.rollback()
    done = 0
    for sid in ids:
        h = s.scalar(
            select(M.HandoffSession)
            .where(M.HandoffSession.id == sid)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        if h is None or not _overdue(h):
            s.rollback()
            continue
        if _time_out(s, h, SWEEP_ACTOR, swept=True) is not None:
            done += 1
    return done


def for_widget(s: Session, conversation: str | None, secret: str | None, after: int) -> dict:
    """The widget's poll: the conversation's latest chat session and the staff/system messages after `after`."""
    q = select(M.HandoffSession).where(M.HandoffSession.kind == "chat")
    if secret:
        q = q.where(M.HandoffSession.secret_hash == _hash(secret))
    else:
        q = q.where(M.HandoffSession.conversation == conversation)
    h = s.scalar(q.order_by(M.HandoffSession.id.desc()).limit(1))
    if h is None:
        if secret:
            raise APIError(404, "not_found", "人工咨询会话不存在或已过期。")
        return {"session": None, "messages": []}
    # the counselor's and the system's messages only: the student's own and the bot's answers (stored for the
    # counselor) were already shown to the student by the chat itself
    msgs = s.scalars(
        select(M.HandoffMessage)
        .where(
            M.HandoffMessage.session_id == h.id,
            M.HandoffMessage.id > after,
            M.HandoffMessage.sender.in_(("staff", "system")),
        )
        .order_by(M.HandoffMessage.id)
        .limit(100)
    )
    return {"session": student_view(h), "messages": [message_view(m) for m in msgs]}


# --- staff --------------------------------------------------------------------------------------------------
def _scoped(q, p: Principal):
    if p.role == "counselor":
        return q.where(M.HandoffSession.college_code == p.college_code)
    return q


def _get(s: Session, p: Principal, sid: int, lock: bool = False) -> M.HandoffSession:
    q = _scoped(select(M.HandoffSession).where(M.HandoffSession.id == sid), p)
    if lock:
        q = q.with_for_update()
    h = s.scalar(q.execution_options(populate_existing=True))
    if h is None:  # another college's session looks like no session
        raise not_found("没有这个人工咨询会话，或不属于你负责的学院。")
    return h


VIEWS = {"queue": ("waiting", "active"), "tickets": ("ticket_open",), "closed": CLOSED}


PER_PAGE = 50


def staff_list(s: Session, p: Principal, view: str, page: int = 1, per_page: int = PER_PAGE) -> dict:
    """One page of a view, with the total: nothing is cut off silently. Queue and tickets: signed-in (and bound
    WeChat) students first, then anonymous ones, each oldest first, so no anonymous flood pushes a student out of
    view; closed: newest first."""
    HS = M.HandoffSession
    q = _scoped(select(HS).where(HS.state.in_(VIEWS[view])), p)
    total = s.scalar(select(func.count()).select_from(q.subquery())) or 0
    signed_in = (
        s.scalar(select(func.count()).select_from(q.where(HS.student_id.is_not(None)).subquery())) or 0
    )
    order = (HS.id.desc(),) if view == "closed" else (HS.student_id.is_(None), HS.id)
    rows = list(s.scalars(q.order_by(*order).limit(per_page).offset((page - 1) * per_page)))
    names = _students(s, [h.student_id for h in rows if h.student_id])
    out = []
    for h in rows:
        last = s.scalar(
            select(M.HandoffMessage)
            .where(M.HandoffMessage.session_id == h.id, M.HandoffMessage.sender == "student")
            .order_by(M.HandoffMessage.id.desc())
            .limit(1)
        )
        out.append({**_staff_head(h, names), "last_student_text": last.text[:80] if last else None})
    return {
        "view": view,
        "sessions": out,
        "total": total,
        "signed_in": signed_in,
        "page": page,
        "per_page": per_page,
        "pages": max(1, -(-total // per_page)),
    }


def _students(s: Session, ids: list[str]) -> dict[str, M.Student]:
    if not ids:
        return {}
    return {st.id: st for st in s.scalars(select(M.Student).where(M.Student.id.in_(set(ids))))}


def _staff_head(h: M.HandoffSession, students: dict[str, M.Student]) -> dict:
    st = students.get(h.student_id) if h.student_id else None
    return {
        "id": h.id,
        "kind": h.kind,
        "state": h.state,
        "channel": h.channel,
        "student": {"id": st.id, "name": st.name, "college": st.college.name, "major": st.major}
        if st
        else None,
        "college_code": h.college_code,
        "staff_id": h.staff_id,
        "staff_name": h.staff_name,
        "created_at": _ts(h.created_at),
        "taken_at": _ts(h.taken_at),
        "closed_at": _ts(h.closed_at),
    }


def staff_detail(s: Session, p: Principal, sid: int) -> dict:
    h = _get(s, p, sid)
    msgs = s.scalars(
        select(M.HandoffMessage).where(M.HandoffMessage.session_id == h.id).order_by(M.HandoffMessage.id)
    )
    head = _staff_head(h, _students(s, [h.student_id] if h.student_id else []))
    return {
        **head,
        "transcript": h.transcript or [],
        "messages": [
            {**message_view(m), "staff_id": m.staff_id, "wechat_state": m.wechat_state} for m in msgs
        ],
    }


def take(s: Session, p: Principal, sid: int) -> dict:
    h = _get(s, p, sid)
    # atomic: exactly one staff member's UPDATE matches the waiting row
    res = s.execute(
        update(M.HandoffSession)
        .where(M.HandoffSession.id == h.id, M.HandoffSession.state == "waiting")
        .values(state="active", staff_id=p.id, staff_name=teacher(p.name), taken_at=clock.now())
    )
    if res.rowcount != 1:
        s.rollback()
        cur = _get(s, p, sid)
        who = f"（{cur.staff_name}已接入）" if cur.state == "active" and cur.staff_name else ""
        raise APIError(
            409,
            "already_taken" if cur.state == "active" else "wrong_state",
            f"这个会话已经不在等待队列中{who}，请刷新列表。",
        )
    h = _get(s, p, sid)
    add_message(s, h, "system", TEXT_TAKEN.format(name=teacher(p.name)))
    audit(s, p.role, p.id, h, "take", {"staff_id": p.id})
    s.commit()
    return staff_detail(s, p, sid)


def reply(s: Session, p: Principal, sid: int, text: str) -> dict:
    h = _get(s, p, sid, lock=True)
    if h.state == "ticket_open":
        return _answer_ticket(s, p, h, text)
    if h.state != "active":
        raise APIError(409, "wrong_state", "这个会话不在进行中：请先接入（等待中）或刷新（已结束）。")
    if h.staff_id != p.id:
        raise APIError(409, "not_holder", f"这个会话由{h.staff_name or '其他老师'}接待，你不能在其中回复。")
    m = add_message(s, h, "staff", text, staff_id=p.id)
    audit(s, p.role, p.id, h, "reply", {"message_id": m.id, "text": text})
    s.commit()
    return staff_detail(s, p, sid)


def _answer_ticket(s: Session, p: Principal, h: M.HandoffSession, text: str) -> dict:
    res = s.execute(
        update(M.HandoffSession)
        .where(M.HandoffSession.id == h.id, M.HandoffSession.state == "ticket_open")
        .values(
            state="answered", staff_id=p.id, staff_name=teacher(p.name), closed_at=clock.now(), closed_by=p.id
        )
    )
    if res.rowcount != 1:
        s.rollback()
        raise APIError(409, "already_answered", "这条留言已经有老师回复了，请刷新列表。")
    h = _get(s, p, h.id)
    question = (
        s.scalar(
            select(M.HandoffMessage.text)
            .where(M.HandoffMessage.session_id == h.id, M.HandoffMessage.sender == "student")
            .order_by(M.HandoffMessage.id)
            .limit(1)
        )
        or ""
    )
    # a student: a notice (widget at the next visit; WeChat through the notices' delivery when bound);
    # a WeChat conversation without a student: a customer-service message to the OpenID
    m = add_message(
        s, h, "staff", text, staff_id=p.id, to_wechat=h.student_id is None and h.channel == "wechat"
    )
    if h.student_id:
        short = question if len(question) <= 60 else question[:60] + "…"
        events.add(
            s,
            h.student_id,
            f"handoff:{h.id}:answer",
            "handoff",
            "老师回复了你的留言",
            f"你的留言：{short}\n{teacher(p.name)}回复：{text}",
        )
    audit(s, p.role, p.id, h, "ticket_answer", {"message_id": m.id, "text": text})
    s.commit()
    return staff_detail(s, p, h.id)


def close(s: Session, p: Principal, sid: int) -> dict:
    h = _get(s, p, sid, lock=True)
    if h.state not in ("waiting", "active"):
        raise APIError(409, "wrong_state", "这个会话已经结束。")
    if h.state == "active" and h.staff_id != p.id and p.role != "school":
        raise APIError(409, "not_holder", f"这个会话由{h.staff_name or '其他老师'}接待，只有该老师可以结束。")
    before = {"state": h.state}
    h.state, h.open_key, h.closed_at, h.closed_by = "closed", None, clock.now(), p.id
    add_message(s, h, "system", TEXT_CLOSED)
    audit(s, p.role, p.id, h, "close", {"state": "closed"}, before)
    s.commit()
    return staff_detail(s, p, sid)


def counts(s: Session, p: Principal) -> dict[str, int]:
    q = _scoped(
        select(M.HandoffSession.state, func.count()).where(
            M.HandoffSession.state.in_(("waiting", "active", "ticket_open"))
        ),
        p,
    ).group_by(M.HandoffSession.state)
    return {state: n for state, n in s.execute(q)}


# --- retention ---------------------------------------------------------------------------------------------
REDACTED = "（已超过保留期限，内容已删除）"


def purge(s: Session, cutoff: dt.datetime) -> dict:
    """Closed sessions (closed, answered, cancelled) closed before `cutoff` (the turn log's retention,
    backend/insights.py): their messages and the session (with the chat before the request) are deleted; their
    audit entries stay (who did what, when) with the message text replaced. Held sessions are never touched.
    The caller commits."""
    ids = list(
        s.scalars(
            select(M.HandoffSession.id).where(
                M.HandoffSession.state.in_(CLOSED), M.HandoffSession.closed_at < cutoff
            )
        )
    )
    msgs = 0
    for i in range(0, len(ids), 500):
        chunk = ids[i : i + 500]
        for a in s.scalars(
            select(M.AuditLog).where(
                M.AuditLog.entity == "handoff", M.AuditLog.entity_id.in_([str(x) for x in chunk])
            )
        ):
            if isinstance(a.after, dict) and "text" in a.after:
                a.after = {**a.after, "text": REDACTED}
        msgs += (
            s.execute(delete(M.HandoffMessage).where(M.HandoffMessage.session_id.in_(chunk))).rowcount or 0
        )
        s.execute(delete(M.HandoffSession).where(M.HandoffSession.id.in_(chunk)))
    return {"handoff_sessions_deleted": len(ids), "handoff_messages_deleted": msgs}
