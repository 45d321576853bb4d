"""What students ask and their feedback: the vocabulary of reasons, the retention (TURN_LOG_RETENTION_DAYS),
purge."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete
from sqlalchemy.orm import Session

from backend import models as M
from backend.core import clock
from backend.core.config import settings
from backend.core.db import rowcount
from backend.services.handoff import staff as handoff_staff
from contracts.masking import mask, storable  # noqa: F401 - storable: the turn ingestion (routers/insights.py)

REASONS = ("答非所问", "内容缺失", "没有帮助", "事实错误")
LOW_CONFIDENCE = 0.6  # below this (and not a fallback) a turn is listed as low-confidence
FORM_PLACEHOLDER = "（表单填写中的内容，不记录）"
_last_purge = [float("-inf")]


def retention_days() -> int:
    return max(1, min(settings.turn_log_retention_days, 3650))


def purge(s: Session, now: dt.datetime | None = None) -> dict:
    cutoff = (now or clock.now()) - dt.timedelta(days=retention_days())
    turns = rowcount(s.execute(delete(M.TurnLog).where(M.TurnLog.at < cutoff)))
    fb = rowcount(s.execute(delete(M.Feedback).where(M.Feedback.at < cutoff)))
    gone = handoff_staff.purge(s, cutoff)  # closed handoff sessions keep student text too: the same retention
    s.commit()
    return {
        "turns_deleted": turns or 0,
        "feedback_deleted": fb or 0,
        **gone,
        "retention_days": retention_days(),
    }
