"""The NLG endpoint: the answers' current content (cached per process), Rasa's snapshot, rendering a
response."""

from __future__ import annotations

import threading
import time
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from backend import models as M
from backend.core.config import settings
from backend.core.errors import APIError, invalid
from backend.validators import FieldError
from contracts import nlg

SOURCE_PREFIX = "依据："  # the line under an answer naming its source (issue 14 §2)


# --- NLG endpoint ----------------------------------------------------------------------------------------
def _cache_seconds() -> float:
    return max(0.0, settings.answers_cache_seconds)


class AnswerCache:
    """All answers' current content (key -> (variations, source)), reloaded when older than `ttl` seconds or
    cleared by an edit in this process (an edit committed while a reload was reading makes that reload
    stale)."""

    def __init__(self, ttl: float) -> None:
        self.ttl, self.loaded_at, self.lock = ttl, float("-inf"), threading.Lock()
        self.data: dict[str, Any] = {}
        self.generation = 0

    def clear(self) -> None:
        self.generation += 1
        self.loaded_at = float("-inf")

    def get(self, key: str) -> tuple[list[dict], str | None] | None:
        if time.monotonic() - self.loaded_at > self.ttl:
            with self.lock:
                if time.monotonic() - self.loaded_at > self.ttl:
                    from backend.core.db import read_session

                    stamp, gen = time.monotonic(), self.generation
                    with read_session() as s:
                        rows = s.execute(select(M.Answer.key, M.Answer.variations, M.Answer.source)).all()
                    self.data = {k: (v, src) for k, v, src in rows}
                    self.loaded_at = stamp if gen == self.generation else float("-inf")
        return self.data.get(key)


cache = AnswerCache(_cache_seconds())


def _dict(v: Any) -> dict:
    return v if isinstance(v, dict) else {}


def snapshot(s: Session, since: int | None = None) -> dict:
    """All answers for Rasa's copy (bot/nlg.py): {revision, changed, responses, sources}. The revision is the
    newest answer version's id, so it moves with every edit, rollback, new answer and domain import."""
    rev = s.scalar(select(func.max(M.AnswerVersion.id))) or 0
    if since is not None and since == rev:
        return {"revision": rev, "changed": False}
    rows = s.execute(select(M.Answer.key, M.Answer.variations, M.Answer.source)).all()
    return {
        "revision": rev,
        "changed": True,
        "source_prefix": SOURCE_PREFIX,
        "responses": {k: v for k, v, _ in rows},
        "sources": {k: src for k, _, src in rows if src},
    }


def render(body: Any) -> dict:
    """Rasa's NLG request -> the message. 404 for a response the database does not know (Rasa's NLG class then
    answers from the domain)."""
    if not isinstance(body, dict):
        raise invalid([FieldError("body", "dict_type", "请求内容应为JSON对象（Rasa的NLG请求格式）。")])
    key = body.get("response")
    if not isinstance(key, str) or not key or len(key) > 120:
        raise invalid([FieldError("response", "required", "缺少回答名称（response）。")])
    found = cache.get(key)
    if found is None:
        raise APIError(404, "unknown_response", f"没有名为{key}的回答。")
    variations, source = found
    tracker = _dict(body.get("tracker"))
    channel = _dict(body.get("channel")).get("name") or ""
    rid = body.get("id") if isinstance(body.get("id"), str) else None
    msg = nlg.generate(
        variations, str(channel), _dict(tracker.get("slots")), _dict(body.get("arguments")), rid
    )
    if msg is None:
        raise APIError(404, "no_variation", f"回答{key}没有适合当前情况的内容。")
    if source and msg.get("text"):
        msg["text"] = f"{msg['text']}\n{SOURCE_PREFIX}{source}"
    return msg
