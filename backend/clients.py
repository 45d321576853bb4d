"""Who is asking, for the limits of issue 21: the client's address, a keyed hash of it (what is stored), and
one sliding-window check counted in the database.

The address: the backend's own callers (the widget's feedback) are `request.client`, which uvicorn takes from
X-Forwarded-For only when the connection comes from an address in FORWARDED_ALLOW_IPS (uvicorn's setting; the
launchers set it from TRUSTED_PROXIES, default none: a forwarded header from anyone else is ignored). A chat
visitor's address reaches the backend from the Rasa channel (bot/channels/common.py `client_address`, the same
TRUSTED_PROXIES rule) through the action server, which alone may send it (service key).

Why the database and not a rate-limit library's counters: every limited thing here is a row the request stores
anyway (a handoff session, a feedback row), so counting those rows in a window is exact across any number of
backend processes and restarts with no other store (the bind-code guesses work the same way,
docs/security.md).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import ipaddress

from fastapi import Request
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from backend.core import clock
from backend.core.config import settings
from backend.core.errors import APIError


def address(request: Request) -> str | None:
    return request.client.host if request.client else None


def normalise(addr: str | None) -> str | None:
    """A valid IP address in its canonical form (an IPv4-mapped IPv6 address as IPv4), else None."""
    try:
        ip = ipaddress.ip_address((addr or "").strip())
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return str(ip)


def client_hash(addr: str | None) -> str | None:
    """What is stored of a client: HMAC-SHA256 with AUTH_SECRET, 32 hex digits (enough to count, not to read)
    of an IP address, or of the pseudonym the chat channel made of one (bot/channels/common.py
    client_pseudonym)."""
    key = normalise(addr) or (addr or "").strip()
    if not key:
        return None
    return hmac.new(settings.auth_secret.encode(), b"client:" + key.encode(), hashlib.sha256).hexdigest()[:32]


def wait_text(seconds: int) -> str:
    return f"{seconds}秒" if seconds < 120 else f"{(seconds + 59) // 60}分钟"


def limit(
    s: Session, at_col, conditions: list, most: int, window: dt.timedelta, code: str, message: str
) -> None:
    """At most `most` rows matching `conditions` with `at_col` in the last `window`; else 429 `code` with
    `message` (its `{wait}` filled in Chinese), `retry_after` and a Retry-After header. The caller serialises
    the check with its insert (SQLite: the write lock taken at BEGIN; PostgreSQL: a lock it holds)."""
    now = clock.now()
    n, oldest = s.execute(
        select(func.count(), func.min(at_col)).where(*conditions, at_col > now - window)
    ).one()
    if n < most:
        return
    oldest = oldest if oldest.tzinfo else oldest.replace(tzinfo=clock.TZ)
    retry = max(1, int((oldest + window - now).total_seconds()) + 1)
    s.rollback()
    raise APIError(429, code, message.format(wait=wait_text(retry)), retry_after=retry)
