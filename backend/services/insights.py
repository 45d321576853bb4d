"""What students ask and their feedback (issue 14 §3, §4).

- Turns arrive in batches from the Rasa process (bot/turnlog.py, an event broker) on an integration endpoint;
  feedback from the widget (and any channel) on POST /api/feedback, signed in or not.
- Nothing secret or personal beyond what staff need: no tokens; the question text with numbers and e-mail
  addresses masked in every spelling (backend/masking.py), and not kept at all while a form is being filled (the
  Rasa side sends a placeholder); the student id only for signed-in students (from the verified token).
- Staff see unanswered and low-confidence questions, top topics per day and week, thumbs-down with their reasons
  and requests for a person; a counselor only turns and feedback of their college's students; CSV export.
- Retention: TURN_LOG_RETENTION_DAYS (default 180) days for turns, feedback and closed handoff sessions with
  their messages (services/handoff/staff.py `purge`); `python -m backend.cli purge` deletes older rows, and the turn
  ingestion does it at most once an hour.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import time
from collections import Counter, defaultdict
from collections.abc import Iterable
from typing import Any

from sqlalchemy import case, delete, func, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from backend import clients
from backend import models as M
from backend.core import clock
from backend.core.auth import Principal
from backend.core.config import settings
from backend.core.errors import APIError, invalid
from backend.masking import mask, storable  # noqa: F401 - storable: the turn ingestion (routers/insights.py)
from backend.services.common import ts
from backend.services.handoff import staff as handoff_staff
from backend.validators import FieldError

REASONS = ("答非所问", "内容缺失", "没有帮助", "事实错误")
LOW_CONFIDENCE = 0.6  # below this (and not a fallback) a turn is listed as low-confidence
FORM_PLACEHOLDER = "（表单填写中的内容，不记录）"
_last_purge = [float("-inf")]


def retention_days() -> int:
    return max(1, min(settings.turn_log_retention_days, 3650))


def purge(s: Session, now: dt.datetime | None = None) -> dict:
    cutoff = (now or clock.now()) - dt.timedelta(days=retention_days())
    turns = s.execute(delete(M.TurnLog).where(M.TurnLog.at < cutoff)).rowcount
    fb = s.execute(delete(M.Feedback).where(M.Feedback.at < cutoff)).rowcount
    gone = handoff_staff.purge(s, cutoff)  # closed handoff sessions keep student text too: the same retention
    s.commit()
    return {
        "turns_deleted": turns or 0,
        "feedback_deleted": fb or 0,
        **gone,
        "retention_days": retention_days(),
    }


# --- ingestion ---------------------------------------------------------------------------------------------
def _parse_at(v: Any) -> dt.datetime:
    if isinstance(v, (int, float)) and 0 < v < 10**11:
        return dt.datetime.fromtimestamp(v, clock.TZ)
    return clock.now()


def add_turns(s: Session, turns: list[dict]) -> dict:
    known = set(
        s.scalars(
            select(M.Student.id).where(
                M.Student.id.in_({t["student_id"] for t in turns if t.get("student_id")} or {""})
            )
        )
    )
    for t in turns:
        conf = t.get("confidence")
        s.add(
            M.TurnLog(
                at=_parse_at(t.get("at")),
                channel=t["channel"],
                conversation=t["conversation"],
                student_id=t.get("student_id") if t.get("student_id") in known else None,
                question=mask(t.get("question") or ""),
                intent=t.get("intent"),
                confidence=float(conf) if isinstance(conf, (int, float)) else None,
                answer_key=t.get("answer_key"),
                fallback=bool(t.get("fallback")),
                handoff=bool(t.get("handoff")),
            )
        )
    s.commit()
    out = {"stored": len(turns)}
    if time.monotonic() - _last_purge[0] > 3600:
        _last_purge[0] = time.monotonic()
        out.update(purge(s))
    return out


def _answer_key_of(text: str) -> str | None:
    """The answer a feedback is about, when its text is one of the current answers' texts."""
    from backend.services.answers import SOURCE_PREFIX, cache

    body = text.split("\n" + SOURCE_PREFIX)[0].strip()
    cache.get("")  # make sure the copy is loaded
    for key, (variations, _src) in cache.data.items():
        if any((v.get("text") or "").strip() == body for v in variations):
            return key
    return None


FEEDBACK_WINDOW = dt.timedelta(minutes=1)
FEEDBACK_LOCK = (
    0x666565646261  # PostgreSQL advisory lock: the count and the insert of a new row, one at a time
)
TOO_MANY_FEEDBACK = "反馈提交太频繁了，请{wait}后再试。"


def _feedback_guard(s: Session, conversation: str, student_id: str | None, client: str | None) -> None:
    """Limits on new feedback rows per minute, counted in the database so they hold across processes: a signed-in
    student FEEDBACK_PER_PRINCIPAL by their id, a WeChat user as many by their conversation (from the openid);
    an anonymous visitor FEEDBACK_PER_CLIENT by address and all anonymous ones FEEDBACK_ANONYMOUS together. Never
    by a conversation id the client chooses. The check and the insert are serialised (SQLite: the write lock
    taken at BEGIN; PostgreSQL: an advisory lock held to the end of the transaction). A flood gets 429
    `too_many_feedback` and stores nothing."""
    if s.get_bind().dialect.name == "postgresql":
        s.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": FEEDBACK_LOCK})
    F = M.Feedback

    def check(conditions: list, most: int) -> None:
        clients.limit(s, F.at, conditions, most, FEEDBACK_WINDOW, "too_many_feedback", TOO_MANY_FEEDBACK)

    if student_id is not None:
        return check([F.student_id == student_id], settings.feedback_per_principal)
    if conversation.startswith("wechat:"):
        check([F.conversation == conversation], settings.feedback_per_principal)
    else:
        check([F.client_hash == client, F.student_id.is_(None)], settings.feedback_per_client)
    check([F.student_id.is_(None)], settings.feedback_anonymous)


def feedback_key(p: Principal | None, conversation: str) -> str:
    """The conversation a feedback row of the widget is filed under: a signed-in student's own (`student:<id>`,
    whatever the client sent), else the client's id under `anon:`, so no anonymous request can name a student's
    row (or a WeChat one)."""
    return f"student:{p.id}" if p is not None and p.role == "student" else "anon:" + conversation


def add_feedback(
    s: Session, p: Principal | None, body: dict, client: str | None = None, conversation: str | None = None
) -> dict:
    """A new row, or a changed vote on the caller's own row: a student's rows are keyed by the student; an
    anonymous row is changed only from the address that made it (409 `not_yours` otherwise). `client`: the
    keyed hash of the caller's address; `conversation`: the server's key (WeChat), else `feedback_key`."""
    rating, reason = body["rating"], body.get("reason")
    if rating == "down" and reason not in REASONS:
        raise invalid([FieldError("reason", "required", "请选择一个原因：" + "、".join(REASONS) + "。")])
    if rating == "up":
        reason = None
    student_id = p.id if p and p.role == "student" else None
    conversation = conversation or feedback_key(p, body["conversation"])
    answer = (body.get("answer") or "").strip()
    values = dict(
        at=clock.now(),
        student_id=student_id,
        question=mask(body.get("question") or ""),
        answer=mask(answer, 4000),
        answer_key=_answer_key_of(answer),
        rating=rating,
        reason=reason,
        comment=mask(body.get("comment") or "", 500) or None,
    )
    where = (
        M.Feedback.channel == body["channel"],
        M.Feedback.conversation == conversation,
        M.Feedback.message_id == body["message_id"],
    )
    for _ in range(2):
        fb = s.scalar(select(M.Feedback).where(*where))
        if fb is None:  # a new row (changing one's vote on an answer is never refused)
            _feedback_guard(s, conversation, student_id, client)
            fb = M.Feedback(
                channel=body["channel"],
                conversation=conversation,
                message_id=body["message_id"],
                client_hash=client,
                **values,
            )
            s.add(fb)
        elif fb.student_id != student_id or (student_id is None and fb.client_hash != client):
            s.rollback()
            raise APIError(409, "not_yours", "这条反馈不是从你这里提交的，不能修改。")
        else:
            for k, v in values.items():
                setattr(fb, k, v)
        try:
            s.commit()
            break
        except IntegrityError:  # the same feedback twice at once: the second updates the first
            s.rollback()
    return {"id": fb.id, "rating": fb.rating, "reason": fb.reason, "answer_key": fb.answer_key}


def add_wechat_feedback(s: Session, body: dict) -> dict:
    import hashlib

    binding = s.get(M.WechatBinding, body["openid"])
    p = Principal("student", binding.student_id, "", None) if binding else None
    conv = "wechat:" + hashlib.sha256(body["openid"].encode()).hexdigest()[:24]
    return add_feedback(
        s, p, {**{k: v for k, v in body.items() if k != "openid"}, "channel": "wechat"}, conversation=conv
    )


# --- staff views -------------------------------------------------------------------------------------------
def _scoped(q, p: Principal, col):
    """Counselors: only rows of their college's students (anonymous rows are nobody's college)."""
    if p.role == "counselor":
        return q.join(M.Student, col == M.Student.id).where(M.Student.college_code == p.college_code)
    return q


def _window(days: int) -> tuple[dt.datetime, dt.date]:
    today = clock.today()
    start = today - dt.timedelta(days=days - 1)
    return dt.datetime.combine(start, dt.time.min, clock.TZ), today


def _turn_view(t: M.TurnLog) -> dict:
    return {
        "at": ts(t.at),
        "channel": t.channel,
        "student_id": t.student_id,
        "question": t.question,
        "intent": t.intent,
        "confidence": round(t.confidence, 3) if t.confidence is not None else None,
        "answer_key": t.answer_key,
        "fallback": t.fallback,
        "handoff": t.handoff,
    }


def _feedback_view(f: M.Feedback) -> dict:
    return {
        "at": ts(f.at),
        "channel": f.channel,
        "student_id": f.student_id,
        "question": f.question,
        "answer": f.answer,
        "answer_key": f.answer_key,
        "rating": f.rating,
        "reason": f.reason,
        "comment": f.comment,
    }


def turns_in(s: Session, p: Principal, days: int) -> Iterable[M.TurnLog]:
    """The window's turns, newest first, streamed in batches (the CSV export)."""
    since, _ = _window(days)
    q = _scoped(select(M.TurnLog), p, M.TurnLog.student_id).where(M.TurnLog.at >= since)
    return s.scalars(q.order_by(M.TurnLog.at.desc(), M.TurnLog.id.desc()).execution_options(yield_per=1000))


def feedback_in(s: Session, p: Principal, days: int) -> Iterable[M.Feedback]:
    since, _ = _window(days)
    q = _scoped(select(M.Feedback), p, M.Feedback.student_id).where(M.Feedback.at >= since)
    return s.scalars(q.order_by(M.Feedback.at.desc(), M.Feedback.id.desc()).execution_options(yield_per=1000))


UNKNOWN_TOPIC = "（未识别）"  # a turn's topic: its answer key, else its intent, else this


def _day(s: Session, col):
    """The local (clock.TZ) date of a timestamp column, in SQL: PostgreSQL converts the timestamptz; SQLite
    stores the wall time it was given (clock.TZ), so its date is the local one."""
    if s.get_bind().dialect.name == "postgresql":
        return func.to_char(func.timezone(str(clock.TZ), col), "YYYY-MM-DD")
    return func.date(col)


def overview(s: Session, p: Principal, days: int, limit: int = 100) -> dict:
    """Aggregated in the database (issue 21 §11: this used to load every turn of the window into memory): the
    totals and counts per topic and day are GROUP BYs, the lists are LIMITed queries."""
    T, F = M.TurnLog, M.Feedback
    since, today = _window(days)
    week_since = dt.datetime.combine(today - dt.timedelta(days=6), dt.time.min, clock.TZ)
    turns = _scoped(select(T), p, T.student_id).where(T.at >= since).subquery()
    t = turns.c
    low_cond = (~t.fallback) & t.confidence.is_not(None) & (t.confidence < LOW_CONFIDENCE)

    def n(cond):
        return func.coalesce(func.sum(case((cond, 1), else_=0)), 0)

    total, unanswered, low, handoffs = s.execute(
        select(func.count(), n(t.fallback), n(low_cond), n(t.handoff)).select_from(turns)
    ).one()

    def listed(cond) -> list[dict]:
        q = _scoped(select(T), p, T.student_id).where(T.at >= since, cond)
        return [_turn_view(x) for x in s.scalars(q.order_by(T.at.desc(), T.id.desc()).limit(limit))]

    topic = func.coalesce(t.answer_key, t.intent, UNKNOWN_TOPIC)
    day = _day(s, t.at)
    per_day: dict[str, Counter] = defaultdict(Counter)
    for d, k, c in s.execute(select(day, topic, func.count()).select_from(turns).group_by(day, topic)):
        per_day[str(d)][k] += c
    week = Counter(
        {
            k: c
            for k, c in s.execute(
                select(topic, func.count()).select_from(turns).where(t.at >= week_since).group_by(topic)
            )
        }
    )
    fb = _scoped(select(F), p, F.student_id).where(F.at >= since).subquery()
    ups, downs = s.execute(select(n(fb.c.rating == "up"), n(fb.c.rating == "down")).select_from(fb)).one()
    reasons = dict(
        s.execute(
            select(fb.c.reason, func.count())
            .select_from(fb)
            .where(fb.c.rating == "down", fb.c.reason.is_not(None))
            .group_by(fb.c.reason)
        ).all()
    )
    down_q = _scoped(select(F), p, F.student_id).where(F.at >= since, F.rating == "down")
    down = s.scalars(down_q.order_by(F.at.desc(), F.id.desc()).limit(limit))
    return {
        "days": days,
        "scope": "college" if p.role == "counselor" else "school",
        "college_code": p.college_code,
        "retention_days": retention_days(),
        "totals": {
            "turns": total,
            "unanswered": int(unanswered),
            "low_confidence": int(low),
            "handoffs": int(handoffs),
            "thumbs_up": int(ups),
            "thumbs_down": int(downs),
        },
        "unanswered": listed(T.fallback),
        "low_confidence": listed((~T.fallback) & T.confidence.is_not(None) & (T.confidence < LOW_CONFIDENCE)),
        "handoffs": listed(T.handoff),
        "thumbs_down": [_feedback_view(f) for f in down],
        "down_reasons": reasons,
        "top_week": [{"topic": k, "count": c} for k, c in _most_common(week, 10)],
        "top_days": [
            {
                "date": d,
                "total": sum(c.values()),
                "top": [{"topic": k, "count": n} for k, n in _most_common(c, 5)],
            }
            for d, c in sorted(per_day.items(), reverse=True)
        ],
    }


def _most_common(c: Counter, k: int) -> list[tuple[str, int]]:
    """Counter.most_common with ties in name order (GROUP BY gives no order to keep)."""
    return sorted(c.items(), key=lambda kv: (-kv[1], kv[0]))[:k]


def _cell(v: Any) -> str:
    """CSV cell; text starting with = + - @ is quoted so spreadsheets do not run it as a formula."""
    v = "" if v is None else str(v)
    return "'" + v if v[:1] in ("=", "+", "-", "@", "\t", "\r") else v


def _csv(header: list[str], rows: Iterable[list[Any]]) -> str:
    buf = io.StringIO()
    buf.write("\ufeff")  # Excel opens UTF-8 Chinese correctly with a BOM
    w = csv.writer(buf)
    w.writerow(header)
    for r in rows:
        w.writerow([_cell(x) for x in r])
    return buf.getvalue()


def turns_csv(s: Session, p: Principal, days: int) -> str:
    yes = {True: "是", False: ""}
    return _csv(
        ["时间", "渠道", "学号", "问题", "意图", "置信度", "回答", "未能回答", "转人工"],
        (
            [
                ts(t.at),
                t.channel,
                t.student_id or "",
                t.question,
                t.intent or "",
                "" if t.confidence is None else f"{t.confidence:.2f}",
                t.answer_key or "",
                yes[t.fallback],
                yes[t.handoff],
            ]
            for t in turns_in(s, p, days)
        ),
    )


def feedback_csv(s: Session, p: Principal, days: int) -> str:
    return _csv(
        ["时间", "渠道", "学号", "评价", "原因", "补充说明", "问题", "回答", "回答名称"],
        (
            [
                ts(f.at),
                f.channel,
                f.student_id or "",
                "👍" if f.rating == "up" else "👎",
                f.reason or "",
                f.comment or "",
                f.question,
                f.answer,
                f.answer_key or "",
            ]
            for f in feedback_in(s, p, days)
        ),
    )


# --- demo data ---------------------------------------------------------------------------------------------
DEMO_PREFIX = "demo:"
# (days ago, hour, student or None, question, intent, confidence, answer key, fallback, handoff)
DEMO_TURNS = [
    (0, 9, None, "学校平台怎么登录", "faq", 0.97, "utter_faq/login", False, False),
    (
        0,
        9,
        "2025000002",
        "我的毕业去向审核到哪一步了",
        "check_status",
        0.95,
        "action_check_status",
        False,
        False,
    ),
    (0, 10, None, "两级审核通过后多久同步到国家平台", "faq", 0.93, "utter_faq/sync_timing", False, False),
    (0, 10, "2025000003", "审核没通过怎么办", "faq", 0.88, "utter_faq/rejected", False, False),
    (0, 11, None, "奖学金什么时候发", "nlu_fallback", 0.21, "utter_default", True, False),
    (0, 14, "2025000005", "帮我申请档案邮寄", "apply_mailing", 0.96, "action_mailing_check", False, False),
    (0, 15, None, "档案可以寄到我家吗", "faq", 0.91, "utter_faq/home_address", False, False),
    (0, 16, "2025000004", "找辅导员", "handoff", 0.92, "action_handoff", False, True),
    (1, 9, None, "档案转寄类型有哪些", "faq", 0.95, "utter_faq/archive_types_overview", False, False),
    (1, 9, None, "出国留学档案怎么办", "faq", 0.47, "utter_faq/type_other_cases", False, False),
    (1, 10, "2025000001", "个人信息完善要填什么", "faq", 0.9, "utter_faq/personal_info", False, False),
    (1, 11, None, "毕业证什么时候能领", "nlu_fallback", 0.18, "utter_default", True, False),
    (1, 13, "2025000006", "档案寄出了吗", "check_status", 0.9, "action_check_status", False, False),
    (1, 15, None, "学校平台怎么登录", "faq", 0.96, "utter_faq/login", False, False),
    (1, 16, None, "转人工", "handoff", 0.99, "action_handoff", False, True),
    (2, 9, None, "国家平台在哪确认", "faq", 0.86, "utter_faq/national_confirm", False, False),
    (2, 10, "2025000007", "什么时候能申请档案邮寄", "mailing_when", 0.94, "utter_mailing_when", False, False),
    (2, 10, None, "违约金怎么算", "nlu_fallback", 0.25, "utter_default", True, False),
    (2, 14, None, "单位地址填错了怎么改", "change_unit_info", 0.55, "action_change_advice", False, False),
    (
        2,
        15,
        "2025000002",
        "签了新公司之前那家不去了",
        "change_unit",
        0.91,
        "action_change_advice",
        False,
        False,
    ),
    (3, 9, None, "档案能自己带走吗", "faq", 0.89, "utter_faq/hand_carry", False, False),
    (3, 10, None, "户口迁移地址怎么填", "faq", 0.52, "utter_faq/hukou_choices", False, False),
    (3, 11, None, "三方协议丢了", "faq", 0.83, "utter_faq/lost_tripartite", False, False),
    (3, 14, "2025000003", "老师电话多少", "handoff", 0.9, "action_handoff", False, True),
    (3, 16, None, "就业推荐表在哪打印", "nlu_fallback", 0.3, "utter_default", True, False),
    (4, 9, None, "学校平台怎么登录", "faq", 0.97, "utter_faq/login", False, False),
    (4, 10, None, "审核要多久", "faq", 0.58, "utter_faq/review_levels", False, False),
    (4, 11, "2025000005", "档案邮寄要钱吗", "faq", 0.9, "utter_faq/mailing_cost", False, False),
    (4, 15, None, "档案转寄类型有哪些", "faq", 0.94, "utter_faq/archive_types_overview", False, False),
]
# (days ago, hour, student or None, question, answer key, rating, reason, comment)
DEMO_FEEDBACK = [
    (0, 11, None, "奖学金什么时候发", "utter_default", "down", "答非所问", "想问奖学金，不是毕业手续"),
    (0, 15, None, "档案可以寄到我家吗", "utter_faq/home_address", "up", None, None),
    (
        1,
        9,
        None,
        "出国留学档案怎么办",
        "utter_faq/type_other_cases",
        "down",
        "内容缺失",
        "希望写清楚出国的情况选哪种",
    ),
    (
        2,
        9,
        None,
        "国家平台在哪确认",
        "utter_faq/national_confirm",
        "down",
        "没有帮助",
        "没有给国家平台的网址",
    ),
    (2, 10, "2025000007", "什么时候能申请档案邮寄", "utter_mailing_when", "up", None, None),
    (3, 10, None, "户口迁移地址怎么填", "utter_faq/hukou_choices", "down", "事实错误", None),
    (4, 11, "2025000005", "档案邮寄要钱吗", "utter_faq/mailing_cost", "up", None, None),
]


def seed_demo(s: Session) -> dict:
    """A few days of realistic logged questions and feedback, relative to today (replaces earlier demo rows)."""
    s.execute(delete(M.TurnLog).where(M.TurnLog.conversation.like(DEMO_PREFIX + "%")))
    s.execute(delete(M.Feedback).where(M.Feedback.conversation.like(DEMO_PREFIX + "%")))
    today = clock.today()
    students = set(s.scalars(select(M.Student.id)))

    now = clock.now()

    def at(days_ago: int, hour: int, i: int) -> dt.datetime:  # on its own day, never in the future
        day = today - dt.timedelta(days=days_ago)
        t = dt.datetime.combine(day, dt.time(hour, (i * 7) % 60), clock.TZ)
        # just after midnight "today, 11:00" is still ahead: the turn moves back towards now but not into
        # yesterday (the staff page's "today" view and its test ran on the time of day)
        return max(
            dt.datetime.combine(day, dt.time.min, clock.TZ),
            min(t, now - dt.timedelta(minutes=5 * (len(DEMO_TURNS) - i))),
        )

    for i, (d, h, sid, q, intent, conf, key, fb, ho) in enumerate(DEMO_TURNS):
        s.add(
            M.TurnLog(
                at=at(d, h, i),
                channel="wechat" if i % 4 == 3 else "web",
                conversation=f"{DEMO_PREFIX}{sid or 'anon'}-{d}-{i}",
                student_id=sid if sid in students else None,
                question=q,
                intent=intent,
                confidence=conf,
                answer_key=key,
                fallback=fb,
                handoff=ho,
            )
        )
    answers = {a.key: a for a in s.scalars(select(M.Answer))}
    for i, (d, h, sid, q, key, rating, reason, comment) in enumerate(DEMO_FEEDBACK):
        ans = answers.get(key)
        text = (ans.variations[0].get("text") or "") if ans else ""
        s.add(
            M.Feedback(
                at=at(d, h, i) + dt.timedelta(minutes=1),
                channel="web",
                conversation=f"{DEMO_PREFIX}fb-{i}",
                message_id=f"demo-{i}",
                student_id=sid if sid in students else None,
                question=q,
                answer=text,
                answer_key=key,
                rating=rating,
                reason=reason,
                comment=comment,
            )
        )
    s.commit()
    return {"demo_turns": len(DEMO_TURNS), "demo_feedback": len(DEMO_FEEDBACK)}
