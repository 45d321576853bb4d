"""The one HTTP client the action server uses to talk to the school-platform backend.

- One shared `httpx.AsyncClient` per process (re-created only if the event loop changed, e.g. in tests).
- Base URL from BACKEND_URL (default http://127.0.0.1:8000), timeout from BACKEND_TIMEOUT (default 3 s).
- The student's bearer token comes ONLY from the metadata of the latest user message (`metadata.token`),
  never from a student number typed into the chat. The channels put a short-lived action token there
  (`aud`="actions"); the backend accepts it only with this server's own secret, sent as
  `X-Actions-Service-Key` (ACTIONS_SERVICE_KEY), so a token read from an old tracker is useless.
- With APP_ENV=production the action server refuses to start with demo secrets (contracts/production.py).
- Backend failures become exceptions carrying a Chinese message for the student.
- A 2xx answer is trusted only within the contract (issue 21 §6): it must be JSON (content type and body), and
  the routes in CONTRACT must match the backend's own response model (backend/schemas/, the models the routes
  declare); anything else is `Unavailable` ("个人查询功能暂时不可用"), never a success: a mailing request is
  confirmed only with the created request's id and state.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from typing import Any

import httpx
from pydantic import BaseModel, ValidationError
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from contracts import production
from contracts.settings import action_server
from ops.actions_metrics import backend_call

# the action server imports this module (through every action) before it listens
production.enforce("action server")

from backend import schemas as S  # noqa: E402 - after the check: the backend's settings are read on import

# What the actions read from a 2xx answer: the backend's response models, one place. (method, path) -> model.
CONTRACT: dict[tuple[str, str], type[BaseModel]] = {
    ("GET", "/api/me/status"): S.StatusOut,
    ("GET", "/api/me/mailing"): S.MyMailingOut,
    ("POST", "/api/me/mailing"): S.MailingCreatedOut,
    ("GET", "/api/me/profile"): S.ProfileOut,
    ("PUT", "/api/me/profile"): S.ProfileOut,
    ("GET", "/api/me/destination"): S.DestinationOut,
    ("PUT", "/api/me/destination"): S.DestinationOut,
    ("POST", "/api/me/destination/submit"): S.DestinationOut,
    ("GET", "/api/me/archive"): S.ArchiveOut,
    ("PUT", "/api/me/archive"): S.ArchiveOut,
    ("POST", "/api/me/archive/submit"): S.ArchiveOut,
    ("POST", "/api/me/change-requests"): S.ChangeOut,
    ("GET", "/api/me/contact"): S.ContactOut,
    ("GET", "/api/contacts"): S.ContactsOut,
    **{
        ("POST", f"/api/validation/{form}"): S.ValidationOut for form in ("profile", "destination", "archive")
    },
}

logger = logging.getLogger(__name__)

_MAX_TOKEN_LEN = 4096


class BackendError(Exception):
    """Base class. The student reads the domain response `response` (bot/domain/backend.yml), or for an
    ApiError whose body has one, the backend's own `message`."""

    response = "utter_backend_unavailable"
    message: str | None = None

    def __init__(self, message: str | None = None):
        if message:
            self.message = message
        super().__init__(self.message or type(self).__name__)


class NotSignedIn(BackendError):
    """No token in the latest message."""

    response = "utter_sign_in"


class AuthFailed(BackendError):
    """The backend refused the token (401): expired, forged or unknown."""

    response = "utter_sign_in_again"


class Unavailable(BackendError):
    """Timeout, connection error or a 5xx."""

    response = "utter_backend_unavailable"


class ApiError(BackendError):
    """Any other 4xx: carries the contract's error body (its `message` is the backend's wording)."""

    response = "utter_request_failed"

    def __init__(self, status: int, body: Any):
        self.status = status
        self.body = body if isinstance(body, dict) else {}
        self.code = self.body.get("code") or f"http_{status}"
        self.fields = self.body.get("fields") or []
        if status == 403 and not self.body.get("message"):
            self.response = "utter_forbidden"
        super().__init__(self.body.get("message") or None)


def base_url() -> str:
    return action_server().backend_url


def service_key() -> str:
    return action_server().actions_service_key


def timeout_s() -> float:
    return action_server().backend_timeout


_client: httpx.AsyncClient | None = None
_client_key: tuple | None = None


def client() -> httpx.AsyncClient:
    """The process-wide client; rebuilt only when the loop, base URL or timeout changed."""
    global _client, _client_key
    loop = asyncio.get_running_loop()
    key = (loop, base_url(), timeout_s())  # the loop object itself (an id could be reused by a new loop)
    if _client is None or _client_key != key or _client.is_closed:
        t = timeout_s()
        _client = httpx.AsyncClient(
            base_url=base_url(),
            timeout=httpx.Timeout(t, connect=min(t, 2.0)),
            limits=httpx.Limits(max_connections=50, max_keepalive_connections=20),
            trust_env=False,  # never route the loopback backend through a proxy from the environment
        )
        _client_key = key
    return _client


def get_token(tracker: Tracker) -> str | None:
    """The bearer token of the LATEST user message, or None.

    Rasa 3.6 copies the message metadata into `latest_message["metadata"]` (parse data) and into the `user`
    event's `metadata`; both describe the same, latest message. Older messages are never consulted.
    """
    meta = (tracker.latest_message or {}).get("metadata")
    if not isinstance(meta, dict) or not meta:
        meta = {}
        for event in reversed(tracker.events or []):
            if event.get("event") == "user":
                meta = event.get("metadata") or {}
                break
    token = meta.get("token") if isinstance(meta, dict) else None
    if not isinstance(token, str):
        return None
    token = token.strip()
    if token.lower().startswith("bearer "):
        token = token[7:].strip()
    if not token or len(token) > _MAX_TOKEN_LEN or any(c.isspace() for c in token):
        return None
    return token


def turn_key(tracker: Tracker, purpose: str) -> str:
    """A stable idempotency key for this conversation turn: Rasa retries of the turn reuse it."""
    msg = tracker.latest_message or {}
    anchor = msg.get("message_id") or ""
    if not anchor:
        for event in reversed(tracker.events or []):
            if event.get("event") == "user":
                anchor = f"{event.get('timestamp')}:{event.get('text')}"
                break
    raw = f"{purpose}|{tracker.sender_id}|{anchor}"
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()[:40]


@backend_call
async def request(
    method: str,
    path: str,
    *,
    token: str | None = None,
    json: Any = None,
    headers: dict | None = None,
    params: dict | None = None,
    timeout: float | None = None,
) -> tuple[int, Any]:
    """Call the backend; return (status, body) for 2xx, raise a BackendError otherwise.

    `timeout` (seconds) tightens the client's timeout for one call (never loosens it), e.g. for an optional
    extra.
    """
    h = {"accept": "application/json"}
    if token:
        h["authorization"] = f"Bearer {token}"
        h["x-actions-service-key"] = service_key()
    if headers:
        h.update(headers)
    try:
        extra: dict[str, Any] = {}
        if timeout is not None:
            t = max(0.1, min(float(timeout), timeout_s()))
            extra["timeout"] = httpx.Timeout(t, connect=min(t, 2.0))
        resp = await client().request(method, path, json=json, headers=h, params=params, **extra)
    except (httpx.TimeoutException, httpx.TransportError) as e:
        logger.warning("backend %s %s failed: %r", method, path, e)
        raise Unavailable() from e
    json_type = resp.headers.get("content-type", "").split(";")[0].strip().lower() == "application/json"
    try:
        body = resp.json() if resp.content else None
    except ValueError:
        body, json_type = None, False
    if resp.status_code < 300:
        return resp.status_code, _checked(method, path, resp, body, json_type)
    if resp.status_code >= 500:
        logger.warning("backend %s %s -> %s", method, path, resp.status_code)
        raise Unavailable()
    if resp.status_code == 401:
        if isinstance(body, dict) and body.get("code") == "service_key_invalid":
            logger.error("backend refused ACTIONS_SERVICE_KEY: the action server and the backend disagree")
            raise Unavailable()
        raise AuthFailed()
    if resp.status_code == 403:
        raise ApiError(403, body)
    if resp.status_code >= 400:
        raise ApiError(resp.status_code, body)
    logger.warning("backend %s %s -> %s: not in the contract", method, path, resp.status_code)
    raise Unavailable()


def _checked(method: str, path: str, resp: httpx.Response, body: Any, json_type: bool) -> Any:
    """The body of a 2xx answer if it is within the contract, else Unavailable (logged for operators)."""
    if resp.content and not json_type:
        logger.error(
            "backend %s %s -> %s answered %r, not JSON: treated as unavailable",
            method,
            path,
            resp.status_code,
            resp.headers.get("content-type"),
        )
        raise Unavailable()
    model = CONTRACT.get((method, path))
    if model is not None:
        try:
            model.model_validate(body)
        except (ValidationError, ValueError, TypeError, AttributeError) as e:
            logger.error(
                "backend %s %s -> %s: off-contract answer (%s): treated as unavailable",
                method,
                path,
                resp.status_code,
                _errors(e),
            )
            raise Unavailable() from None
    return body


def _errors(e: Exception) -> str:
    if isinstance(e, ValidationError):
        return "; ".join(f"{'.'.join(map(str, x['loc']))}: {x['type']}" for x in e.errors()[:5])
    return type(e).__name__


class StudentApi:
    """Calls made on behalf of the student whose token is in the latest message."""

    def __init__(self, tracker: Tracker):
        self.token = get_token(tracker)

    @property
    def signed_in(self) -> bool:
        return self.token is not None

    async def call(self, method: str, path: str, **kw) -> tuple[int, Any]:
        if not self.token:
            raise NotSignedIn()
        return await request(method, path, token=self.token, **kw)

    async def get(self, path: str, **kw) -> Any:
        return (await self.call("GET", path, **kw))[1]


def say(dispatcher: CollectingDispatcher, err: BackendError) -> None:
    """The student's answer to a failed backend call."""
    if isinstance(err, ApiError) and err.message:
        # the backend's own error message (API contract `message`, Chinese): its wording lives in the backend
        dispatcher.utter_message(response="utter_request_refused", message=err.message)
    else:
        dispatcher.utter_message(response=err.response)
