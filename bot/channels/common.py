"""Helpers shared by the custom channels: token verification, short-lived action tokens, CORS allow-list,
bounded TTL caches and the channel state interface."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import logging
import time
from collections import OrderedDict
from collections.abc import Hashable
from typing import Any

from contracts import tokens
from contracts.settings import rasa as rasa_settings

logger = logging.getLogger(__name__)

UNAVAILABLE_TEXT = "暂时无法处理，请稍后再试。"
ACTIONS_AUDIENCE = tokens.ACTIONS_AUDIENCE


def auth_secret() -> str:
    return rasa_settings().auth_secret


def verify_token(token: Any, secret: str | None = None, audience: str | None = None) -> dict[str, Any] | None:
    """Return the claims of a valid HS256 token with `sub` and `exp`, else None.

    Without `audience` only web tokens (no `aud`) pass; with `audience="actions"` only action tokens.
    """
    if not isinstance(token, str) or not token or len(token) > 4096:
        return None
    try:
        claims = tokens.decode(token, secret or auth_secret(), audience)
    except tokens.InvalidToken:
        return None
    sub = claims.get("sub")
    if not isinstance(sub, str) or not sub or len(sub) > 64:
        return None
    role = claims.get("role") or "student"
    if role not in tokens.ROLES:
        return None
    claims["role"] = role
    return claims


def mint_action_token(claims: dict[str, Any], secret: str | None = None) -> str:
    """A fresh short-lived token for the action server (`aud`="actions"), same subject and role.

    This, not the student's 12-hour web token, is what goes into the message metadata and so into the
    tracker: the backend accepts it only together with the action server's service key, and only briefly.
    """
    return tokens.mint_action_token(
        claims["sub"],
        claims.get("role") or "student",
        secret or auth_secret(),
        rasa_settings().action_token_ttl_seconds,
    )


def conversation_id(claims: dict[str, Any] | None, sender: str = "") -> str:
    """The Rasa conversation (sender id) of a verified identity, e.g. `student:2025000005`; without one, the
    client's own `anon:<sender>`. The one definition: channels, benchmarks and tests use it."""
    if not claims:
        return f"anon:{sender}"
    return f"{claims.get('role') or 'student'}:{claims['sub']}"


def wechat_conversation_id(openid: str) -> str:
    """The Rasa conversation of a WeChat user, bound or not: `wechat:<openid>`."""
    return f"wechat:{openid}"


class TTLCache:
    """A small bounded mapping whose entries expire; oldest entries go first when full."""

    def __init__(self, ttl: float, max_items: int = 10000) -> None:
        self.ttl = ttl
        self.max_items = max_items
        self._data: OrderedDict[Hashable, tuple[float, Any]] = OrderedDict()

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

    def set(self, key: Hashable, value: Any, ttl: float | None = None) -> None:
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


class ChannelState:
    """Key-value state of a channel with expiry (dedup, replay window, limits), in this process.

    The interface a shared store offers too (`RedisChannelState`, chosen by `channel_state()`): get, set, pop
    and an atomic add-if-absent. Values are plain data (JSON: str, int, bool, list, dict); keys are strings or
    tuples of them. Values that are not plain data (asyncio tasks) stay in a TTLCache of the process.
    """

    def __init__(self, ttl: float, max_items: int = 20000, name: str = "") -> None:
        self.name = name
        self._cache = TTLCache(ttl=ttl, max_items=max_items)

    def get(self, key: Hashable, default: Any = None) -> Any:
        return self._cache.get(key, default)

    def set(self, key: Hashable, value: Any, ttl: float | None = None) -> None:
        self._cache.set(key, value, ttl)

    def add_if_absent(self, key: Hashable, value: Any, ttl: float | None = None) -> bool:
        """Store `value` unless `key` is live; True if stored (atomic: no await in between)."""
        if key in self._cache:
            return False
        self._cache.set(key, value, ttl)
        return True

    def pop(self, key: Hashable, default: Any = None) -> Any:
        return self._cache.pop(key, default)

    def incr(self, key: Hashable, ttl: float | None = None) -> int:
        """Add one to the counter `key` (created at 1 with `ttl`; the expiry is not extended); the new
        value."""
        item = self._cache._data.get(key)
        if item is None or item[0] <= time.monotonic():
            self._cache.set(key, 1, ttl)
            return 1
        self._cache._data[key] = (item[0], int(item[1]) + 1)
        return int(item[1]) + 1

    def __contains__(self, key: Hashable) -> bool:
        return key in self._cache


class RedisChannelState(ChannelState):
    """ChannelState shared by every Rasa server through Redis (CHANNEL_STATE_URL, e.g. redis://10.0.0.5:6379/2).

    One key per entry, `<prefix><name>:<key as JSON>`, the value as JSON, expiring with the entry (SET EX /
    NX). Calls are synchronous (one round trip on the LAN, about 0.1 ms, like the tracker store's inline
    write) so the channels' code stays the same. If Redis cannot be reached within CHANNEL_STATE_TIMEOUT
    (default 0.5 s) the call falls back to this process's copy and logs a warning: the channel keeps
    answering, with per-process de-duplication until Redis is back.
    """

    def __init__(
        self, client: Any, ttl: float, max_items: int = 20000, name: str = "", prefix: str = "zhineng:"
    ) -> None:
        super().__init__(ttl, max_items, name)
        self.red = client
        self.ttl = ttl
        self.prefix = f"{prefix}{name}:"
        self._warned_at = 0.0

    def _k(self, key: Hashable) -> str:
        return self.prefix + json.dumps(
            list(key) if isinstance(key, tuple) else key, ensure_ascii=False, separators=(",", ":")
        )

    def _ms(self, ttl: float | None) -> int:
        return max(1, int(1000 * (self.ttl if ttl is None else ttl)))

    def _down(self, op: str) -> None:
        now = time.monotonic()
        if now - self._warned_at > 60:
            self._warned_at = now
            logger.warning(
                "channel state %s: Redis unavailable (%s): using this process's copy",
                self.name,
                op,
                exc_info=True,
            )

    def get(self, key: Hashable, default: Any = None) -> Any:
        try:
            raw = self.red.get(self._k(key))
        except Exception:  # noqa: BLE001 - redis errors, timeouts
            self._down("get")
            return super().get(key, default)
        return default if raw is None else json.loads(raw)

    def set(self, key: Hashable, value: Any, ttl: float | None = None) -> None:
        super().set(key, value, ttl)
        try:
            self.red.set(self._k(key), json.dumps(value, ensure_ascii=False), px=self._ms(ttl))
        except Exception:  # noqa: BLE001
            self._down("set")

    def add_if_absent(self, key: Hashable, value: Any, ttl: float | None = None) -> bool:
        try:
            return bool(
                self.red.set(self._k(key), json.dumps(value, ensure_ascii=False), px=self._ms(ttl), nx=True)
            )
        except Exception:  # noqa: BLE001
            self._down("add_if_absent")
            return super().add_if_absent(key, value, ttl)

    def pop(self, key: Hashable, default: Any = None) -> Any:
        local = super().pop(key, _MISSING)
        try:
            raw = self.red.getdel(self._k(key))
        except Exception:  # noqa: BLE001
            self._down("pop")
            return default if local is _MISSING else local
        return default if raw is None else json.loads(raw)

    def incr(self, key: Hashable, ttl: float | None = None) -> int:
        try:
            pipe = self.red.pipeline()  # MULTI: create with the expiry if absent, then count (INCR keeps it)
            pipe.set(self._k(key), 0, px=self._ms(ttl), nx=True)
            pipe.incr(self._k(key))
            return int(pipe.execute()[1])
        except Exception:  # noqa: BLE001
            self._down("incr")
            return super().incr(key, ttl)

    def __contains__(self, key: Hashable) -> bool:
        return self.get(key, _MISSING) is not _MISSING


_redis_clients: dict[str, Any] = {}


def channel_state(name: str, ttl: float, max_items: int = 20000) -> ChannelState:
    """The channel state `name`: in Redis when CHANNEL_STATE_URL is set (several Rasa servers), else
    in-process.

    CHANNEL_STATE_URL: redis://[:password@]host:port/db (rediss:// for TLS); CHANNEL_STATE_PREFIX (default
    `zhineng:`) separates deployments sharing one Redis.
    """
    s = rasa_settings()
    url = s.channel_state_url
    if not url:
        return ChannelState(ttl, max_items, name)
    client = _redis_clients.get(url)
    if client is None:
        import redis

        timeout = s.channel_state_timeout
        client = redis.Redis.from_url(
            url, socket_timeout=timeout, socket_connect_timeout=timeout, health_check_interval=30
        )
        _redis_clients[url] = client
    return RedisChannelState(client, ttl, max_items, name, s.channel_state_prefix)


# --- CORS -------------------------------------------------------------------------------------------------
def allowed_origins(raw: str | None = None) -> list[str]:
    """The browser origins allowed to call Rasa: CHAT_ALLOWED_ORIGINS (comma-separated), never `*`."""
    if raw is None:
        raw = rasa_settings().allowed_origins
    origins = [o.strip().rstrip("/") for o in raw.split(",") if o.strip()]
    if "*" in origins:
        logger.warning("CHAT_ALLOWED_ORIGINS: '*' ignored; list the job site's origins")
    return [o for o in origins if o != "*"]


# --- who is asking (issue 21 §1, §11) ----------------------------------------------------------------------
def trusted_proxies(raw: str | None = None) -> list[Any]:
    """TRUSTED_PROXIES: comma-separated addresses or networks of the reverse proxy in front of Rasa (default
    none: no X-Forwarded-For is believed). The backend's uvicorn gets the same list as FORWARDED_ALLOW_IPS."""
    out = []
    for item in (rasa_settings().trusted_proxies if raw is None else raw).split(","):
        try:
            out.append(ipaddress.ip_network(item.strip(), strict=False))
        except ValueError:
            if item.strip():
                logger.warning("TRUSTED_PROXIES: %r is not an address or network; ignored", item.strip())
    return out


def _ip(value: str | None) -> Any:
    try:
        return ipaddress.ip_address((value or "").strip())
    except ValueError:
        return None


def client_address(peer: str | None, forwarded_for: str | None, proxies: list[Any] | None = None) -> str:
    """The client's address: the connection's peer; when the peer is a trusted proxy, the right-most address
    of X-Forwarded-For that is not itself a trusted proxy (what the proxy saw; entries further left are
    whatever the client wrote). Empty when unknown."""
    proxies = trusted_proxies() if proxies is None else proxies
    ip = _ip(peer)
    if ip is None:
        return ""
    hops = [h for h in (forwarded_for or "").split(",") if h.strip()]
    while any(ip in net for net in proxies) and hops:
        nxt = _ip(hops.pop())
        if nxt is None:
            break
        ip = nxt
    return str(ip)


def client_pseudonym(address: str) -> str:
    """What the channel passes on of an address (message metadata, so the tracker): HMAC-SHA256 with
    AUTH_SECRET, 32 hex digits; the same visitor gets the same value, the address itself is not stored."""
    if not address:
        return ""
    return hmac.new(auth_secret().encode(), b"client:" + address.encode(), hashlib.sha256).hexdigest()[:32]


class RateLimit:
    """At most `per_minute` hits per key in each clock minute, counted in the channel state (Redis with
    CHANNEL_STATE_URL: shared by every Rasa server; else this process's). 0: no limit."""

    def __init__(self, name: str, per_minute: int) -> None:
        self.per_minute = per_minute
        self._counts = channel_state(f"rate:{name}", 120)

    def hit(self, key: str) -> int | None:
        """None if allowed, else the seconds until the next minute starts."""
        if self.per_minute <= 0 or not key:
            return None
        now = time.time()
        if self._counts.incr((key, int(now // 60)), 120) <= self.per_minute:
            return None
        return max(1, 60 - int(now % 60))
