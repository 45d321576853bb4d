"""The HS256 bearer tokens: minted and verified here, by the backend and by Rasa's channels alike.

- A web token (no `aud`): what the browser holds after sign-in (`sub`, `role`, `iat`, `exp`).
- An action token (`aud`="actions", at most MAX_ACTION_TOKEN_TTL seconds): what a channel puts into the
  message metadata for the action server, and so into Rasa's tracker. The backend accepts it only together
  with the action server's service key, and only briefly.

Standard library and PyJWT (both environments have it).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import jwt

ALGORITHM = "HS256"
ACTIONS_AUDIENCE = "actions"
MAX_ACTION_TOKEN_TTL = 300  # seconds
ROLES = ("student", "counselor", "school")  # who may hold a token (contracts.vocabulary.Role, people only)
InvalidToken = jwt.InvalidTokenError  # every reason a token is refused (ExpiredToken among them)
ExpiredToken = jwt.ExpiredSignatureError


def action_token_ttl(value: Any) -> int:
    """Seconds an action token lives (ACTION_TOKEN_TTL_SECONDS): default and maximum 300, at least 1."""
    try:
        ttl = int(value or MAX_ACTION_TOKEN_TTL)
    except (TypeError, ValueError):
        ttl = MAX_ACTION_TOKEN_TTL
    return max(1, min(ttl, MAX_ACTION_TOKEN_TTL))


def mint(sub: str, role: str, secret: str, seconds: float, audience: str | None = None) -> str:
    """A token for `sub` in `role`, valid for `seconds`; with `audience` its `aud` claim."""
    now = dt.datetime.now(dt.timezone.utc)
    claims: dict[str, Any] = {"sub": sub, "role": role}
    if audience:
        claims["aud"] = audience
    claims.update(iat=now, exp=now + dt.timedelta(seconds=seconds))
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def mint_action_token(sub: str, role: str, secret: str, ttl_seconds: Any = None) -> str:
    """A short-lived token for the action server (`aud`="actions"; `ttl_seconds` bounded by
    action_token_ttl)."""
    return mint(sub, role, secret, action_token_ttl(ttl_seconds), audience=ACTIONS_AUDIENCE)


def has_audience(token: str) -> bool:
    """Whether `token` names an audience (an action token), read without verifying it. Raises InvalidToken."""
    return "aud" in jwt.decode(token, options={"verify_signature": False})


def decode(
    token: str, secret: str, audience: str | None = None, require: tuple[str, ...] = ("sub", "exp")
) -> dict[str, Any]:
    """The claims of a valid token, else InvalidToken (ExpiredToken when expired).

    Without `audience` only tokens without `aud` (web tokens) pass; with `audience` only tokens for it."""
    return jwt.decode(
        token,
        secret,
        algorithms=[ALGORITHM],
        audience=audience,
        options={"require": list(require) + (["aud"] if audience else [])},
    )
