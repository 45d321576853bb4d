"""What both sides of a handoff share: the texts students read, office hours, limits, the audit, the views."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend import models as M
from backend import workdays
from backend.core import clock
from backend.core.config import settings

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
    label = (
        f"工作日 {rng[0].strftime('%H:%M')}-"
        f"{'24:00' if rng[1] == dt.time(23, 59, 59) else rng[1].strftime('%H:%M')}"
    )
    return workdays.is_workday(now.date()) and rng[0] <= now.time().replace(tzinfo=None) <= rng[1], label


# --- helpers -----------------------------------------------------------------------------------------------
def teacher(name: str | None) -> str:
    """How students see a staff member: 物理学院辅导员王芳老师, 学校就业指导中心孙老师 (stored as
    staff_name)."""
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
    return h.state == "ticket_draft" and clock.now() - clock.aware(h.created_at) > dt.timedelta(
        minutes=draft_minutes()
    )


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
