"""The one place that knows what time it is (pinnable with TODAY / TODAY_FILE)."""
from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

from .config import settings

TZ = ZoneInfo("Asia/Shanghai")


def _pinned() -> dt.date | None:
    raw = settings.today
    if settings.today_file:
        p = Path(settings.today_file)
        if p.exists():
            raw = p.read_text().strip() or raw
    return dt.date.fromisoformat(raw) if raw else None


def now() -> dt.datetime:
    real = dt.datetime.now(TZ)
    pinned = _pinned()
    if pinned is None:
        return real
    return dt.datetime.combine(pinned, real.timetz())


def today() -> dt.date:
    return now().date()
