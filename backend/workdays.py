"""Working days: statutory holidays and make-up working days (调休).

`chinesecalendar` knows 2004-2026; for later years we fall back to weekends plus the holiday file
(`HOLIDAYS_FILE`, default backend/data/holidays.json) that staff can extend. Answers for such years are
flagged `estimated` unless the file lists the year as official. Every "one working day later" date in the
backend comes from `next_workday`.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import chinese_calendar

from backend.core.config import settings


@dataclass(frozen=True)
class Fallback:
    holidays: frozenset[dt.date]
    workdays: frozenset[dt.date]
    official_years: frozenset[int]


@lru_cache(maxsize=8)
def _load(path: str, mtime: float) -> Fallback:
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    return Fallback(
        holidays=frozenset(dt.date.fromisoformat(d) for d in data.get("holidays", [])),
        workdays=frozenset(dt.date.fromisoformat(d) for d in data.get("workdays", [])),
        official_years=frozenset(int(y) for y in data.get("official_years", [])),
    )


def fallback() -> Fallback:
    p = Path(settings.holidays_file)
    if not p.exists():
        return Fallback(frozenset(), frozenset(), frozenset())
    return _load(str(p), p.stat().st_mtime)


def is_estimated(day: dt.date) -> bool:
    """True when `day` is outside chinesecalendar's range and not an official year in the holiday file."""
    try:
        chinese_calendar.is_workday(day)
        return False
    except NotImplementedError:
        return day.year not in fallback().official_years


def is_workday(day: dt.date) -> bool:
    try:
        return chinese_calendar.is_workday(day)
    except NotImplementedError:
        fb = fallback()
        if day in fb.workdays:
            return True
        if day in fb.holidays:
            return False
        return day.weekday() < 5


def next_workday(day: dt.date) -> dt.date:
    """The first working day strictly after `day`: "one working day later"."""
    d = day + dt.timedelta(days=1)
    for _ in range(60):
        if is_workday(d):
            return d
        d += dt.timedelta(days=1)
    raise RuntimeError(f"no working day within 60 days after {day}")  # pragma: no cover


def next_workday_info(day: dt.date) -> tuple[dt.date, bool]:
    nxt = next_workday(day)
    return nxt, is_estimated(day) or is_estimated(nxt)


def previous_workday(day: dt.date) -> dt.date:
    """The last working day strictly before `day` (used to build demo dates)."""
    d = day - dt.timedelta(days=1)
    while not is_workday(d):
        d -= dt.timedelta(days=1)
    return d
