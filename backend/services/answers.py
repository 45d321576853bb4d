"""Answers staff edit without retraining (issue 14 §1, §2).

Every Rasa response (utter_*, and utter_faq/<topic> of the retrieval intent) lives in the `answers` table, seeded
from the domain files (bot/domain/*.yml, the source for a fresh install) and served to Rasa through the NLG
endpoint (POST /api/nlg, Rasa's protocol). Each edit is a new row in `answer_versions` (history), a rollback is a
new version with an earlier content, and both go to the audit log. Only school staff (the career center) edit;
counselors read. The NLG endpoint answers from a copy of the table in the process (one query for all answers,
reloaded every ANSWERS_CACHE_SECONDS, default 2) that an edit or rollback through this process clears, so the edit
is live on the next turn; with several backend processes, the others follow within ANSWERS_CACHE_SECONDS.
Measured: the NLG call with a database read per call cost a FAQ turn more than the 20 ms budget on a busy 2-core
machine (bench/nlg_cost.py).
"""

from __future__ import annotations

import functools
import threading
import time
from typing import Any

import yaml
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from backend import models as M
from backend import nlg
from backend.core import clock
from backend.core.auth import Principal
from backend.core.config import DATA, ROOT, settings
from backend.core.errors import APIError, forbidden, invalid, not_found, wrong_state
from backend.services.common import audit, ts
from backend.validators import FieldError

DOMAIN_DIR = ROOT / "bot" / "domain"
SOURCES_FILE = DATA / "answer_sources.yml"
DOMAIN_AUTHOR = "domain"
MAX_TEXT = 2000
MAX_BUTTONS = 10
MAX_SOURCE = 200
SOURCE_PREFIX = "依据："  # the line under an answer naming its source (issue 14 §2)


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
            s.add(
                M.Answer(
                    key=key,
                    version=1,
                    variations=variations,
                    source=source,
                    updated_at=now,
                    updated_by=DOMAIN_AUTHOR,
                )
            )
            s.flush()
            s.add(
                M.AnswerVersion(
                    answer_key=key,
                    version=1,
                    variations=variations,
                    source=source,
                    created_at=now,
                    author_role=DOMAIN_AUTHOR,
                    author_id=DOMAIN_AUTHOR,
                    note="初始内容（来自领域文件）",
                )
            )
            added += 1
        elif ans.updated_by == DOMAIN_AUTHOR and (
            ans.variations != variations or (ans.source or None) != source
        ):
            _new_version(s, ans, variations, source, DOMAIN_AUTHOR, DOMAIN_AUTHOR, "领域文件已更新", now)
            refreshed += 1
    s.commit()
    cache.clear()
    return {"answers_added": added, "answers_refreshed": refreshed}


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


# --- NLG endpoint ----------------------------------------------------------------------------------------
def _cache_seconds() -> float:
    return max(0.0, settings.answers_cache_seconds)


class AnswerCache:
    """All answers' current content (key -> (variations, source)), reloaded when older than `ttl` seconds or
    cleared by an edit in this process (an edit committed while a reload was reading makes that reload stale)."""

    def __init__(self, ttl: float) -> None:
        self.ttl, self.data, self.loaded_at, self.lock = ttl, {}, float("-inf"), threading.Lock()
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
    """All answers for Rasa's copy (bot/nlg.py): {revision, changed, responses, sources}. The revision is the newest
    answer version's id, so it moves with every edit, rollback, new answer and domain import."""
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


# --- staff views -----------------------------------------------------------------------------------------
def _preview(ans: M.Answer) -> str:
    text = next((v.get("text") for v in ans.variations if v.get("text")), "") or ""
    return text[:60] + ("…" if len(text) > 60 else "")


def _version_view(v: M.AnswerVersion) -> dict:
    return {
        "version": v.version,
        "variations": v.variations,
        "source": v.source,
        "created_at": ts(v.created_at),
        "author_role": v.author_role,
        "author_id": v.author_id,
        "note": v.note,
    }


def can_edit(p: Principal) -> bool:
    return p.role == "school"


def list_answers(s: Session, p: Principal, q: str | None) -> dict:
    rows = s.scalars(select(M.Answer).order_by(M.Answer.key)).all()
    items = []
    for a in rows:
        preview = _preview(a)
        if q and q not in a.key and not any(q in (v.get("text") or "") for v in a.variations):
            continue
        items.append(
            {
                "key": a.key,
                "kind": "faq" if a.key.startswith("utter_faq/") else "dialogue",
                "preview": preview,
                "version": a.version,
                "updated_at": ts(a.updated_at),
                "updated_by": a.updated_by,
                "edited": a.updated_by != DOMAIN_AUTHOR,
                "source": a.source,
            }
        )
    return {"total": len(items), "items": items, "can_edit": can_edit(p)}


def _get(s: Session, key: str) -> M.Answer:
    ans = s.get(M.Answer, key)
    if ans is None:
        raise not_found(f"没有名为“{key}”的回答。")
    return ans


def answer_view(s: Session, p: Principal, key: str) -> dict:
    ans = _get(s, key)
    versions = s.scalars(
        select(M.AnswerVersion)
        .where(M.AnswerVersion.answer_key == key)
        .order_by(M.AnswerVersion.version.desc())
    ).all()
    return {
        "key": ans.key,
        "version": ans.version,
        "variations": ans.variations,
        "source": ans.source,
        "updated_at": ts(ans.updated_at),
        "updated_by": ans.updated_by,
        "edited": ans.updated_by != DOMAIN_AUTHOR,
        "variables": sorted(allowed_variables(key)),
        "can_edit": can_edit(p),
        "history": [_version_view(v) for v in versions],
    }


def allowed_variables(key: str) -> set[str]:
    responses, slots = domain()
    found = set(slots)
    for v in responses.get(key) or []:
        found |= nlg.placeholders(str(v.get("text") or ""))
    return found


def _check_editor(p: Principal) -> None:
    if not can_edit(p):
        raise forbidden("只有学校就业指导中心的老师可以修改回答；学院老师可以查看。")


def _check_base(ans: M.Answer, base_version: int) -> None:
    if base_version != ans.version:
        raise wrong_state(
            f"这条回答已被修改（当前是第{ans.version}版，您编辑的是第{base_version}版），"
            "请刷新后在最新版本上修改。",
            current_version=ans.version,
        )


def _clean_variations(key: str, current: list[dict], edits: list[dict]) -> list[dict]:
    """The edited texts/buttons laid over the current variations (conditions, channel, id, image, custom stay)."""
    if len(edits) != len(current):
        raise invalid(
            [
                FieldError(
                    "variations",
                    "count",
                    f"这条回答有{len(current)}个版本的措辞，请逐一提交（收到{len(edits)}个）。",
                )
            ]
        )
    allowed = allowed_variables(key)
    errs: list[FieldError] = []
    out = []
    for i, (cur, e) in enumerate(zip(current, edits)):
        field = f"variations.{i}.text"
        text = (e.get("text") or "").strip().replace("\r\n", "\n")
        if not text:
            errs.append(FieldError(field, "required", "回答内容不能为空，请填写。"))
        elif len(text) > MAX_TEXT:
            errs.append(
                FieldError(field, "too_long", f"回答内容不能超过{MAX_TEXT}字（现在{len(text)}字），请精简。")
            )
        elif nlg.stray_braces(text):
            errs.append(
                FieldError(field, "stray_brace", "花括号只用于变量（如{name}），请删除多余的“{”或“}”。")
            )
        else:
            unknown = sorted(nlg.placeholders(text) - allowed)
            if unknown:
                hint = "、".join("{" + x + "}" for x in sorted(allowed)[:8]) or "无"
                errs.append(
                    FieldError(
                        field,
                        "unknown_variable",
                        f"变量{'、'.join('{' + x + '}' for x in unknown)}不存在，学生会看到原样的花括号；"
                        f"请删去或改用可用的变量（{hint}）。",
                    )
                )
        new = {k: v for k, v in cur.items() if k not in ("text", "buttons")}
        new["text"] = text
        buttons = e.get("buttons", cur.get("buttons"))
        if buttons:
            if len(buttons) > MAX_BUTTONS:
                errs.append(FieldError(f"variations.{i}.buttons", "too_many", f"按钮最多{MAX_BUTTONS}个。"))
            for j, b in enumerate(buttons):
                title, payload = (b.get("title") or "").strip(), (b.get("payload") or "").strip()
                if not title or not payload or len(title) > 40 or len(payload) > 200:
                    errs.append(
                        FieldError(
                            f"variations.{i}.buttons.{j}",
                            "invalid",
                            "按钮要有文字（不超过40字）和发送内容（不超过200字）。",
                        )
                    )
            new["buttons"] = [
                {"title": (b.get("title") or "").strip(), "payload": (b.get("payload") or "").strip()}
                for b in buttons
            ]
        out.append(new)
    if errs:
        raise invalid(errs)
    return out


def _clean_source(source: str | None) -> str | None:
    source = (source or "").strip()
    if len(source) > MAX_SOURCE:
        raise invalid([FieldError("source", "too_long", f"出处不能超过{MAX_SOURCE}字，请精简。")])
    return source or None


def _commit(s: Session, ans_key: str) -> None:
    """Two editors saving the same version at once: the unique (key, version) lets one win, the other gets 409."""
    try:
        s.commit()
    except IntegrityError:
        s.rollback()
        raise wrong_state("这条回答刚被其他老师修改，请刷新后在最新版本上修改。")
    cache.clear()


def _audit_id(key: str) -> str:
    return key if len(key) <= 40 else key[:39] + "…"


def edit_answer(
    s: Session,
    p: Principal,
    key: str,
    variations: list[dict],
    base_version: int,
    source: str | None,
    keep_source: bool,
    note: str,
) -> dict:
    _check_editor(p)
    ans = _get(s, key)
    _check_base(ans, base_version)
    new = _clean_variations(key, ans.variations, variations)
    src = ans.source if keep_source else _clean_source(source)
    if new == ans.variations and src == ans.source:
        raise APIError(422, "no_change", "内容没有变化，无需保存。", fields=[])
    before = {"version": ans.version, "variations": ans.variations, "source": ans.source}
    _new_version(s, ans, new, src, p.role, p.id, (note or "").strip()[:200] or "修改")
    audit(
        s,
        p,
        None,
        "answer",
        _audit_id(key),
        "edit",
        before,
        {"version": ans.version, "variations": new, "source": src, "key": key},
    )
    _commit(s, key)
    return answer_view(s, p, key)


def rollback(s: Session, p: Principal, key: str, version: int, base_version: int) -> dict:
    _check_editor(p)
    ans = _get(s, key)
    _check_base(ans, base_version)
    old = s.scalar(
        select(M.AnswerVersion).where(M.AnswerVersion.answer_key == key, M.AnswerVersion.version == version)
    )
    if old is None:
        raise not_found(f"这条回答没有第{version}版。")
    if old.variations == ans.variations and old.source == ans.source:
        raise APIError(422, "no_change", f"第{version}版与当前内容相同，无需恢复。", fields=[])
    before = {"version": ans.version, "variations": ans.variations, "source": ans.source}
    _new_version(s, ans, old.variations, old.source, p.role, p.id, f"恢复为第{version}版")
    audit(
        s,
        p,
        None,
        "answer",
        _audit_id(key),
        "rollback",
        before,
        {
            "version": ans.version,
            "restored": version,
            "variations": old.variations,
            "source": old.source,
            "key": key,
        },
    )
    _commit(s, key)
    return answer_view(s, p, key)


def count(s: Session) -> int:
    return s.scalar(select(func.count()).select_from(M.Answer)) or 0
