"""The one place that knows what time it is (pinnable with TODAY / TODAY_FILE)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

from backend.core.config import settings

TZ = ZoneInfo("Asia/Shanghai")


def _pinned() -> dt.date | None:
    raw = settings.today
    if settings.today_file:
        p = Path(settings.today_file)
        if p.exists():
            raw = p.read_text().strip() or raw
    return dt.date.fromisoformat(raw) if raw else None


def now_on(pinned: dt.date | None) -> dt.datetime:
    """The clock with `pinned` as its date: the pinned day at the real time of day (the real now when None).
    A process that shares a backend's TODAY_FILE (a test) reads the backend's clock with this."""
    real = dt.datetime.now(TZ)
    if pinned is None:
        return real
    return dt.datetime.combine(pinned, real.timetz())


def now() -> dt.datetime:
    return now_on(_pinned())


def today() -> dt.date:
    return now().date()


def aware(v: dt.datetime) -> dt.datetime:
    """`v` with its zone: SQLite hands back the wall time now() wrote without it (Asia/Shanghai)."""
    return v if v.tzinfo else v.replace(tzinfo=TZ)
