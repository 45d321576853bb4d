"""What staff see and edit: the list, one answer with its history, edits checked against the domain's
variables, rollback."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from backend import models as M
from backend.core.auth import Principal
from backend.core.errors import APIError, forbidden, invalid, not_found, wrong_state
from backend.services.answers.domain import (
    DOMAIN_AUTHOR,
    MAX_BUTTONS,
    MAX_SOURCE,
    MAX_TEXT,
    _new_version,
    domain,
)
from backend.services.answers.nlg import cache
from backend.services.common import audit, ts
from backend.validators import FieldError
from contracts import nlg


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
    """The edited texts/buttons laid over the current variations (conditions, channel, id, image, custom
    stay)."""
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
    for i, (cur, e) in enumerate(zip(current, edits, strict=True)):
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
    """Two editors saving the same version at once: the unique (key, version) lets one win, the other gets
    409."""
    try:
        s.commit()
    except IntegrityError:
        s.rollback()
        raise wrong_state("这条回答刚被其他老师修改，请刷新后在最新版本上修改。") from None
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
