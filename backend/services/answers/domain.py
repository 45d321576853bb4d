"""The answers in Rasa's domain files: the source of a fresh install (`import_domain`), each change a
version."""

from __future__ import annotations

import functools
from typing import Any

import yaml
from sqlalchemy.orm import Session

from backend import models as M
from backend.core import clock
from backend.core.config import DATA, ROOT
from backend.services.answers.nlg import cache

DOMAIN_DIR = ROOT / "bot" / "domain"
SOURCES_FILE = DATA / "answer_sources.yml"
DOMAIN_AUTHOR = "domain"
MAX_TEXT = 2000
MAX_BUTTONS = 10
MAX_SOURCE = 200


# --- the domain (source for a fresh install) -------------------------------------------------------------
@functools.lru_cache(maxsize=1)
def domain() -> tuple[dict[str, list[dict[str, Any]]], frozenset[str]]:
    """(responses, slot names) of bot/domain/*.yml."""
    responses: dict[str, list[dict[str, Any]]] = {}
    slots: set[str] = set()
    for f in sorted(DOMAIN_DIR.glob("*.yml")):
        data = yaml.safe_load(f.read_text(encoding="utf-8")) or {}
        responses.update(data.get("responses") or {})
        slots.update((data.get("slots") or {}).keys())
    return responses, frozenset(slots)


def domain_sources() -> dict[str, str]:
    """Where each answer comes from (backend/data/answer_sources.yml: response key -> section of the procedure
    document), the default source of a fresh install."""
    if not SOURCES_FILE.exists():
        return {}
    data = yaml.safe_load(SOURCES_FILE.read_text(encoding="utf-8")) or {}
    return {str(k): str(v).strip() for k, v in (data.get("sources") or {}).items() if v}


def import_domain(s: Session) -> dict:
    """Add the domain's responses the database lacks; refresh the ones staff never edited when the domain
    changed (a new version by "domain"). Staff edits are never overwritten. Returns counts."""
    responses, _ = domain()
    sources = domain_sources()
    now = clock.now()
    added = refreshed = 0
    for key, variations in responses.items():
        variations = [dict(v) for v in variations or []]
        source = sources.get(key) or None
        ans = s.get(M.Answer, key)
        if ans is None:
            note = "初始内容（来自领域文件）"
            _first_version(s, key, variations, source, DOMAIN_AUTHOR, DOMAIN_AUTHOR, note, now)
            added += 1
        elif ans.updated_by == DOMAIN_AUTHOR and (
            ans.variations != variations or (ans.source or None) != source
        ):
            _new_version(s, ans, variations, source, DOMAIN_AUTHOR, DOMAIN_AUTHOR, "领域文件已更新", now)
            refreshed += 1
    s.commit()
    cache.clear()
    return {"answers_added": added, "answers_refreshed": refreshed}


def _first_version(
    s: Session,
    key: str,
    variations: list[dict],
    source: str | None,
    role: str,
    actor: str,
    note: str,
    now=None,
) -> M.Answer:
    """A new answer at version 1 and its first history row (from the domain files, or a staff-made topic)."""
    now = now or clock.now()
    ans = M.Answer(key=key, version=1, variations=variations, source=source, updated_at=now, updated_by=actor)
    s.add(ans)
    s.flush()
    s.add(
        M.AnswerVersion(
            answer_key=key,
            version=1,
            variations=variations,
            source=source,
            created_at=now,
            author_role=role,
            author_id=actor,
            note=note,
        )
    )
    return ans


def _new_version(
    s: Session,
    ans: M.Answer,
    variations: list[dict],
    source: str | None,
    role: str,
    actor: str,
    note: str,
    now=None,
) -> M.AnswerVersion:
    now = now or clock.now()
    ans.version += 1
    ans.variations, ans.source, ans.updated_at, ans.updated_by = variations, source, now, actor
    v = M.AnswerVersion(
        answer_key=ans.key,
        version=ans.version,
        variations=variations,
        source=source,
        created_at=now,
        author_role=role,
        author_id=actor,
        note=note,
    )
    s.add(v)
    return v
