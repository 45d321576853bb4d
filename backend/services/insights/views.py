"""What staff see: the overview and the CSV exports, in their scope."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections import Counter, defaultdict
from collections.abc import Iterable
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from backend import models as M
from backend.core import clock
from backend.core.auth import Principal
from backend.services.common import ts
from backend.services.insights.retention import LOW_CONFIDENCE, retention_days
from contracts.masking import mask, storable  # noqa: F401 - storable: the turn ingestion (routers/insights.py)


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
        )
        .tuples()
        .all()
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
