"""Helpers shared by the custom channels (token verification, bounded TTL caches)."""
from __future__ import annotations

import os
import time
from collections import OrderedDict
from typing import Any, Dict, Hashable, Optional

import jwt

DEFAULT_AUTH_SECRET = "demo-secret-change-me"
UNAVAILABLE_TEXT = "暂时无法处理，请稍后再试。"
ROLES = ("student", "counselor", "school")


def cap_action_timeout() -> float:
    """Bound how long Rasa waits for the action server (Rasa 3.6 hard-codes 300 s for custom actions).

    A hung action server would otherwise hold a student's turn, and every later turn of that conversation,
    for five minutes. On timeout Rasa logs the failed action and goes on; the channel then answers with
    UNAVAILABLE_TEXT. `ACTION_TIMEOUT` (seconds, default 8: the backend timeout of the actions plus margin).
    """
    import rasa.core.actions.action as rasa_action

    try:
        seconds = float(os.environ.get("ACTION_TIMEOUT") or 8)
    except ValueError:
        seconds = 8.0
    rasa_action.DEFAULT_REQUEST_TIMEOUT = seconds
    return seconds


def auth_secret() -> str:
    return os.environ.get("AUTH_SECRET") or DEFAULT_AUTH_SECRET


def verify_token(token: Any, secret: Optional[str] = None) -> Optional[Dict[str, Any]]:
    """Return the claims of a valid HS256 token with `sub` and `exp`, else None."""
    if not isinstance(token, str) or not token or len(token) > 4096:
        return None
    try:
        claims = jwt.decode(
            token,
            secret or auth_secret(),
            algorithms=["HS256"],
            options={"require": ["sub", "exp"]},
        )
    except jwt.PyJWTError:
        return None
    sub = claims.get("sub")
    if not isinstance(sub, str) or not sub or len(sub) > 64:
        return None
    role = claims.get("role") or "student"
    if role not in ROLES:
        return None
    claims["role"] = role
    return claims


def conversation_id(claims: Dict[str, Any]) -> str:
    """The Rasa sender id of a verified identity, e.g. `student:2025000005`."""
    return f"{claims['role']}:{claims['sub']}"


class TTLCache:
    """A small bounded mapping whose entries expire; oldest entries go first when full."""

    def __init__(self, ttl: float, max_items: int = 10000) -> None:
        self.ttl = ttl
        self.max_items = max_items
        self._data: "OrderedDict[Hashable, tuple[float, Any]]" = OrderedDict()

    def _purge(self, now: float) -> None:
        while self._data:
            key, (expires, _) = next(iter(self._data.items()))
            if expires > now and len(self._data) <= self.max_items:
                break
            self._data.popitem(last=False)

    def get(self, key: Hashable, default: Any = None) -> Any:
        now = time.monotonic()
        self._purge(now)
        item = self._data.get(key)
        if item is None or item[0] <= now:
            return default
        return item[1]

    def set(self, key: Hashable, value: Any, ttl: Optional[float] = None) -> None:
        now = time.monotonic()
        self._data.pop(key, None)
        self._data[key] = (now + (self.ttl if ttl is None else ttl), value)
        self._purge(now)

    def pop(self, key: Hashable, default: Any = None) -> Any:
        item = self._data.pop(key, None)
        return default if item is None else item[1]

    def __contains__(self, key: Hashable) -> bool:
        return self.get(key, _MISSING) is not _MISSING

    def __len__(self) -> int:
        self._purge(time.monotonic())
        return len(self._data)


_MISSING = object()


# Applied once, when Rasa imports the channels listed in bot/credentials.yml.
cap_action_timeout()
