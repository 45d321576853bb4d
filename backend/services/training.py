"""From a failed question to a better answer (issue 14 §5).

School staff attach a question students asked (unanswered or low-confidence, from the turn log) to an existing
FAQ answer or to a new one they write; the export writes every attached question as a training example of the
FAQ retrieval intent (`data/nlu/staff_examples.yml`: `faq/<topic>`) and every answer staff created as a domain
response (`bot/domain/staff_answers.yml`: `utter_faq/<topic>`), which `make train` (rasa train --domain
bot/domain --data data) picks up. Until that training the new answer is served by the NLG endpoint only when
Rasa asks for it. STAFF_TRAINING_DIR (default: the repository) is where `data/` and `bot/domain/` are written.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from backend import models as M
from backend.core import clock
from backend.core.auth import Principal
from backend.core.config import ROOT, settings
from backend.core.errors import APIError, forbidden, invalid
from backend.services import answers as A
from backend.services.answers.domain import _first_version
from backend.services.answers.editing import _audit_id, _clean_source, _clean_variations
from backend.services.common import audit, ts
from backend.validators import FieldError

TOPIC_RE = re.compile(r"^[a-z][a-z0-9_]{2,40}$")
EXAMPLES_FILE = Path("data") / "nlu" / "staff_examples.yml"
ANSWERS_FILE = Path("bot") / "domain" / "staff_answers.yml"
STAFF_AUTHOR_NOTE = "老师新建"


def out_dir() -> Path:
    return Path(settings.staff_training_dir or ROOT)


def _editor(p: Principal) -> None:
    if p.role != "school":
        raise forbidden("只有学校就业指导中心的老师可以把问题归入回答或新建回答；学院老师可以查看。")


def _clean_question(q: str) -> str:
    q = " ".join((q or "").split())
    if not q:
        raise invalid([FieldError("question", "required", "请填写学生的问题。")])
    if len(q) > 200:
        raise invalid([FieldError("question", "too_long", "问题不能超过200字，请精简。")])
    if "＊" in q:
        raise invalid(
            [
                FieldError(
                    "question",
                    "masked",
                    "这个问题里有被隐去的个人信息（＊），不能作为训练样本；请改写成不含个人信息的说法。",
                )
            ]
        )
    return q


def create_answer(s: Session, p: Principal, topic: str, text: str, source: str | None) -> dict:
    """A new FAQ answer `utter_faq/<topic>` (version 1 by this staff member)."""
    _editor(p)
    topic = (topic or "").strip()
    if not TOPIC_RE.match(topic):
        raise invalid(
            [
                FieldError(
                    "topic",
                    "format",
                    "回答名称用3-41个小写英文字母、数字或下划线，以字母开头，例如 scholarship_time。",
                )
            ]
        )
    key = f"utter_faq/{topic}"
    if s.get(M.Answer, key) is not None:
        raise APIError(409, "already_exists", f"已经有名为“{topic}”的回答，请换一个名称或直接归入它。")
    variations = _clean_variations(key, [{}], [{"text": text}])
    src = _clean_source(source)
    _first_version(s, key, variations, src, p.role, p.id, STAFF_AUTHOR_NOTE)
    audit(
        s,
        p,
        None,
        "answer",
        _audit_id(key),
        "create",
        None,
        {"key": key, "variations": variations, "source": src},
    )
    try:
        s.commit()
    except IntegrityError:
        s.rollback()
        raise APIError(
            409, "already_exists", f"已经有名为“{topic}”的回答，请换一个名称或直接归入它。"
        ) from None
    A.cache.clear()
    return A.answer_view(s, p, key)


def attach(s: Session, p: Principal, question: str, answer_key: str) -> dict:
    _editor(p)
    q = _clean_question(question)
    if not answer_key.startswith("utter_faq/") or s.get(M.Answer, answer_key) is None:
        raise invalid(
            [
                FieldError(
                    "answer_key",
                    "not_faq",
                    "只能归入常见问题（utter_faq/…）的回答：它们由检索模型"
                    "根据例句学会；其他回答需要修改对话流程。",
                )
            ]
        )
    ex = s.scalar(
        select(M.TrainingExample).where(
            M.TrainingExample.question == q, M.TrainingExample.answer_key == answer_key
        )
    )
    if ex is None:
        ex = M.TrainingExample(created_at=clock.now(), created_by=p.id, question=q, answer_key=answer_key)
        s.add(ex)
        audit(
            s,
            p,
            None,
            "training_example",
            _audit_id(answer_key),
            "attach",
            None,
            {"question": q, "answer_key": answer_key},
        )
        try:
            s.commit()
        except IntegrityError:
            s.rollback()
            ex = s.scalar(
                select(M.TrainingExample).where(
                    M.TrainingExample.question == q, M.TrainingExample.answer_key == answer_key
                )
            )
            assert ex is not None  # the row whose insert won the race
    out = _view(ex)
    out["already_in_training_data"] = q in known_examples(out_dir())
    return out


def _view(ex: M.TrainingExample) -> dict:
    return {
        "id": ex.id,
        "question": ex.question,
        "answer_key": ex.answer_key,
        "created_by": ex.created_by,
        "created_at": ts(ex.created_at),
        "exported_at": ts(ex.exported_at),
    }


def list_examples(s: Session) -> dict:
    rows = s.scalars(select(M.TrainingExample).order_by(M.TrainingExample.id.desc())).all()
    return {"items": [_view(r) for r in rows], "pending": sum(r.exported_at is None for r in rows)}


def known_examples(root: Path, skip: str = EXAMPLES_FILE.name) -> set[str]:
    """Examples already in the project's NLU files but `skip` (a duplicate would make `rasa data validate`
    complain)."""
    known: set[str] = set()
    for f in (root / "data" / "nlu").glob("*.yml"):
        if f.name == skip:
            continue
        for item in (yaml.safe_load(f.read_text(encoding="utf-8")) or {}).get("nlu") or []:
            for line in str(item.get("examples") or "").splitlines():
                line = line.strip()
                if line.startswith("- "):
                    known.add(line[2:].strip())
    return known


def export(s: Session, p: Principal | None = None) -> dict:
    """Write every attached question and every staff-created FAQ answer where `make train` reads them."""
    if p is not None:
        _editor(p)
    root = out_dir()
    known = known_examples(root)
    examples = s.scalars(
        select(M.TrainingExample).order_by(M.TrainingExample.answer_key, M.TrainingExample.id)
    ).all()
    by_intent: dict[str, list[str]] = {}
    for ex in examples:
        if ex.question not in known:
            by_intent.setdefault("faq/" + ex.answer_key.split("/", 1)[1], []).append(ex.question)
    domain_keys = set(A.domain()[0])
    # staff-created answers go to the domain only with at least one example (a response nobody can reach would
    # be a `rasa data validate` warning)
    created = [
        a
        for a in s.scalars(select(M.Answer).where(M.Answer.key.like("utter_faq/%")).order_by(M.Answer.key))
        if a.key not in domain_keys and "faq/" + a.key.split("/", 1)[1] in by_intent
    ]
    head = (
        "# GENERATED by the staff page / `python -m backend.cli export-training` (issue 14 §5); "
        "do not edit.\n"
    )
    nlu = (
        head
        + 'version: "3.1"\nnlu:\n'
        + "".join(
            f"- intent: {i}\n  examples: |\n" + "".join(f"    - {q}\n" for q in qs)
            for i, qs in sorted(by_intent.items())
        )
    )
    dom = head + yaml.safe_dump(
        {
            "version": "3.1",
            "responses": {
                a.key: [{k: v for k, v in var.items() if k in ("text", "buttons")} for var in a.variations]
                for a in created
            },
        },
        allow_unicode=True,
        sort_keys=False,
        width=1000,
    )
    files = []
    for rel, data, wanted in ((EXAMPLES_FILE, nlu, bool(by_intent)), (ANSWERS_FILE, dom, bool(created))):
        path = root / rel
        if wanted:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(data, encoding="utf-8")
            files.append(str(rel))
        elif path.exists():
            path.unlink()
    now = clock.now()
    for ex in examples:
        if ex.exported_at is None:
            ex.exported_at = now
    s.commit()
    return {
        "files": files,
        "examples": sum(len(v) for v in by_intent.values()),
        "new_answers": len(created),
        "skipped_known": sum(ex.question in known for ex in examples),
        "dir": str(root),
        "next": "运行 make train 训练新模型，重启 Rasa 后生效。",
    }
