"""The knowledge base staff grow without a developer (issue 20 §2).

An entry is a few question wordings, the answer and its source (national or city policy, other offices'
business: what the procedure document does not cover). School staff (the career center) add, edit and retire
entries; counselors read. Each change is a new row in `knowledge_versions` (history) and an audit entry
(`entity` = `knowledge`); a retired entry stays with its history and never answers. Rasa's retriever
(bot/nlu/knowledge.py) polls `snapshot()` (the live entries, with a revision that moves with every change), so
an edit answers on the next turn without retraining; `export_training()` folds the live entries into the NLU
data `make train` reads (intent `ask_knowledge`).
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import yaml
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from backend import models as M
from backend.core import clock
from backend.core.auth import Principal
from backend.core.config import ROOT
from backend.core.errors import APIError, forbidden, invalid, not_found, wrong_state
from backend.schemas import (
    KnowledgeDetailOut,
    KnowledgeOut,
    KnowledgePage,
    KnowledgeSnapshotOut,
    KnowledgeVersionOut,
)
from backend.services.common import audit
from backend.services.training import known_examples
from backend.validators import FieldError

SEED_FILE = Path(__file__).resolve().parent.parent / "data" / "knowledge.yml"
SEED_AUTHOR = "seed"
INTENT = "ask_knowledge"
TRAINING_FILE = Path("data") / "nlu" / "knowledge.yml"  # generated, git-ignored; `make train` reads it
MAX_QUESTIONS = 20
MIN_QUESTION, MAX_QUESTION = 4, 100
MAX_ANSWER = 2000
MAX_SOURCE = 200
_PUNCT = re.compile(r"[\s\W_]+", re.UNICODE)


def can_edit(p: Principal) -> bool:
    return p.role == "school"


def _check_editor(p: Principal) -> None:
    if not can_edit(p):
        raise forbidden("只有学校就业指导中心的老师可以新增、修改或停用知识库条目；学院老师可以查看。")


def same_question(q: str) -> str:
    """What two wordings must differ in to be two questions: full-width/half-width, case, spaces,
    punctuation."""
    return _PUNCT.sub("", unicodedata.normalize("NFKC", q).lower())


# --- validation --------------------------------------------------------------------------------------------
def _clean_questions(raw: list[str]) -> list[str]:
    errs: list[FieldError] = []
    out: list[str] = []
    seen: dict[str, int] = {}
    for i, q in enumerate(raw):
        q = " ".join((q or "").split())
        field = f"questions.{i}"
        if not q:
            continue  # an empty line of the form
        if len(q) > MAX_QUESTION:
            errs.append(
                FieldError(
                    field,
                    "too_long",
                    f"第{i + 1}个问法太长了（{len(q)}字），每个问法不超过{MAX_QUESTION}字。",
                )
            )
        elif len(same_question(q)) < MIN_QUESTION:
            errs.append(
                FieldError(
                    field,
                    "too_short",
                    f"第{i + 1}个问法太短了，请写成学生会问的完整问题（至少{MIN_QUESTION}个字）。",
                )
            )
        elif same_question(q) in seen:
            errs.append(
                FieldError(
                    field,
                    "duplicate",
                    f"第{i + 1}个问法和第{seen[same_question(q)] + 1}个重复了，请删去一个。",
                )
            )
        else:
            seen[same_question(q)] = i
            out.append(q)
    if not out and not errs:
        errs.append(FieldError("questions", "required", "请至少填写一种学生的问法。"))
    elif len(out) > MAX_QUESTIONS:
        errs.append(
            FieldError(
                "questions",
                "too_many",
                f"问法最多{MAX_QUESTIONS}个（现在{len(out)}个），请保留最常见的说法。",
            )
        )
    if errs:
        raise invalid(errs)
    return out


def _clean_answer(answer: str) -> str:
    answer = (answer or "").strip().replace("\r\n", "\n")
    if not answer:
        raise invalid([FieldError("answer", "required", "回答不能为空，请填写。")])
    if len(answer) > MAX_ANSWER:
        raise invalid(
            [FieldError("answer", "too_long", f"回答不能超过{MAX_ANSWER}字（现在{len(answer)}字），请精简。")]
        )
    return answer


def _clean_source(source: str) -> str:
    source = " ".join((source or "").split())
    if not source:
        raise invalid(
            [
                FieldError(
                    "source", "required", "请填写依据（官方文件名称或负责部门），学生会在回答下方看到它。"
                )
            ]
        )
    if len(source) > MAX_SOURCE:
        raise invalid([FieldError("source", "too_long", f"依据不能超过{MAX_SOURCE}字，请精简。")])
    return source


def _check_unique(s: Session, questions: list[str], entry_id: int | None) -> None:
    """A wording may answer with one live entry only (otherwise which answer a student gets would be
    chance)."""
    mine = {same_question(q): q for q in questions}
    for other in s.scalars(select(M.KnowledgeEntry).where(M.KnowledgeEntry.retired.is_(False))):
        if other.id == entry_id:
            continue
        clash = sorted(q for k, q in mine.items() if k in {same_question(x) for x in other.questions})
        if clash:
            raise APIError(
                409,
                "duplicate_question",
                f"问法“{clash[0]}”已在第{other.id}条知识中，"
                "同一个问法只能对应一条回答；请修改问法或直接编辑那一条。",
                entry_id=other.id,
                questions=clash,
            )


# --- views -------------------------------------------------------------------------------------------------
def _get(s: Session, entry_id: int) -> M.KnowledgeEntry:
    e = s.get(M.KnowledgeEntry, entry_id)
    if e is None:
        raise not_found(f"没有编号为{entry_id}的知识库条目。")
    return e


def entry_view(s: Session, p: Principal, entry_id: int) -> KnowledgeDetailOut:
    e = _get(s, entry_id)
    versions = s.scalars(
        select(M.KnowledgeVersion)
        .where(M.KnowledgeVersion.entry_id == e.id)
        .order_by(M.KnowledgeVersion.version.desc())
    ).all()
    return KnowledgeDetailOut(
        **KnowledgeOut.model_validate(e).model_dump(),
        can_edit=can_edit(p),
        history=[KnowledgeVersionOut.model_validate(v) for v in versions],
    )


def list_entries(s: Session, p: Principal, q: str | None, include_retired: bool) -> KnowledgePage:
    stmt = select(M.KnowledgeEntry).order_by(M.KnowledgeEntry.retired, M.KnowledgeEntry.id.desc())
    if not include_retired:
        stmt = stmt.where(M.KnowledgeEntry.retired.is_(False))
    items = [
        KnowledgeOut.model_validate(e)
        for e in s.scalars(stmt)
        if not q or q in e.answer or q in e.source or any(q in x for x in e.questions)
    ]
    return KnowledgePage(total=len(items), can_edit=can_edit(p), items=items)


# --- changes -----------------------------------------------------------------------------------------------
def _version(s: Session, e: M.KnowledgeEntry, role: str, actor: str, note: str) -> None:
    s.add(
        M.KnowledgeVersion(
            entry_id=e.id,
            version=e.version,
            questions=e.questions,
            answer=e.answer,
            source=e.source,
            retired=e.retired,
            created_at=e.updated_at,
            author_role=role,
            author_id=actor,
            note=note,
        )
    )


def _state(e: M.KnowledgeEntry) -> dict:
    return {
        "version": e.version,
        "questions": e.questions,
        "answer": e.answer,
        "source": e.source,
        "retired": e.retired,
    }


def _commit(s: Session) -> None:
    """Two editors saving the same version at once: the unique (entry, version) lets one win, the other gets
    409."""
    try:
        s.commit()
    except IntegrityError:
        s.rollback()
        raise wrong_state("这条知识刚被其他老师修改，请刷新后在最新版本上修改。") from None


def create(s: Session, p: Principal, questions: list[str], answer: str, source: str) -> KnowledgeDetailOut:
    _check_editor(p)
    qs, ans, src = _clean_questions(questions), _clean_answer(answer), _clean_source(source)
    _check_unique(s, qs, None)
    now = clock.now()
    e = M.KnowledgeEntry(
        version=1,
        questions=qs,
        answer=ans,
        source=src,
        retired=False,
        created_at=now,
        created_by=p.id,
        updated_at=now,
        updated_by=p.id,
    )
    s.add(e)
    s.flush()
    _version(s, e, p.role, p.id, "新建")
    audit(s, p, None, "knowledge", e.id, "create", None, _state(e))
    _commit(s)
    return entry_view(s, p, e.id)


def _check_base(e: M.KnowledgeEntry, base_version: int | None) -> None:
    if base_version is not None and base_version != e.version:
        raise wrong_state(
            f"这条知识已被修改（当前是第{e.version}版，您编辑的是第{base_version}版），"
            "请刷新后在最新版本上修改。",
            current_version=e.version,
        )


def edit(
    s: Session,
    p: Principal,
    entry_id: int,
    base_version: int,
    questions: list[str] | None,
    answer: str | None,
    source: str | None,
    note: str,
) -> KnowledgeDetailOut:
    _check_editor(p)
    e = _get(s, entry_id)
    _check_base(e, base_version)
    if e.retired:
        raise wrong_state("这条知识已停用，不能再修改；如需恢复请新建一条。")
    qs = _clean_questions(questions) if questions is not None else e.questions
    ans = _clean_answer(answer) if answer is not None else e.answer
    src = _clean_source(source) if source is not None else e.source
    if (qs, ans, src) == (e.questions, e.answer, e.source):
        raise APIError(422, "no_change", "内容没有变化，无需保存。", fields=[])
    _check_unique(s, qs, e.id)
    before = _state(e)
    e.version += 1
    e.questions, e.answer, e.source, e.updated_at, e.updated_by = qs, ans, src, clock.now(), p.id
    _version(s, e, p.role, p.id, (note or "").strip()[:200] or "修改")
    audit(s, p, None, "knowledge", e.id, "edit", before, _state(e))
    _commit(s)
    return entry_view(s, p, e.id)


def retire(s: Session, p: Principal, entry_id: int, base_version: int | None) -> KnowledgeDetailOut:
    """Retire (DELETE): a new version marked retired; the entry and its history stay, it never answers
    again."""
    _check_editor(p)
    e = _get(s, entry_id)
    _check_base(e, base_version)
    if e.retired:
        raise wrong_state("这条知识已经停用了。")
    before = _state(e)
    e.version += 1
    e.retired, e.updated_at, e.updated_by = True, clock.now(), p.id
    _version(s, e, p.role, p.id, "停用")
    audit(s, p, None, "knowledge", e.id, "retire", before, _state(e))
    _commit(s)
    return entry_view(s, p, e.id)


# --- Rasa's copy, the seed, the training export ------------------------------------------------------------
def revision(s: Session) -> int:
    """The newest version's id: moves with every create, edit and retirement."""
    return s.scalar(select(func.max(M.KnowledgeVersion.id))) or 0


def live(s: Session) -> list[M.KnowledgeEntry]:
    return list(
        s.scalars(
            select(M.KnowledgeEntry).where(M.KnowledgeEntry.retired.is_(False)).order_by(M.KnowledgeEntry.id)
        )
    )


def snapshot(s: Session, since: int | None) -> KnowledgeSnapshotOut:
    rev = revision(s)
    if since is not None and since == rev:
        return KnowledgeSnapshotOut(revision=rev, changed=False)
    return KnowledgeSnapshotOut(
        revision=rev,
        changed=True,
        entries=[
            {
                "id": e.id,
                "version": e.version,
                "questions": e.questions,
                "answer": e.answer,
                "source": e.source,
            }
            for e in live(s)
        ],
    )


def import_seed(s: Session, path: Path = SEED_FILE) -> dict:
    """The seed entries the database has never had (by key); after that they are the staff's: an edited or
    retired seed entry is never overwritten or brought back."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    have = set(s.scalars(select(M.KnowledgeEntry.seed_key).where(M.KnowledgeEntry.seed_key.is_not(None))))
    added = 0
    now = clock.now()
    for item in data.get("entries") or []:
        if item["key"] in have:
            continue
        e = M.KnowledgeEntry(
            version=1,
            questions=_clean_questions(item["questions"]),
            answer=_clean_answer(item["answer"]),
            source=_clean_source(item["source"]),
            retired=False,
            seed_key=item["key"],
            created_at=now,
            created_by=SEED_AUTHOR,
            updated_at=now,
            updated_by=SEED_AUTHOR,
        )
        s.add(e)
        s.flush()
        _version(s, e, SEED_AUTHOR, SEED_AUTHOR, "初始内容（来自知识库种子文件）")
        added += 1
    s.commit()
    return {"knowledge_added": added}


def export_training(s: Session, root: Path = ROOT) -> dict:
    """Every live entry's wordings as examples of `ask_knowledge` in data/nlu/knowledge.yml (generated,
    git-ignored), so that the next `make train` learns them as questions the knowledge base answers; with no
    live entry the file is removed. Which entry answers is still decided by retrieval at run time
    (bot/nlu/knowledge.py)."""
    path = root / TRAINING_FILE
    known = known_examples(root, skip=TRAINING_FILE.name)
    questions = [q for e in live(s) for q in e.questions if q not in known]
    if not questions:
        path.unlink(missing_ok=True)
        return {"file": None, "examples": 0}
    head = (
        "# GENERATED from the knowledge base (backend/services/knowledge.py, scripts/train.py); "
        "do not edit:\n"
        "# staff change entries on the staff page (知识库).\n"
    )
    body = f'version: "3.1"\nnlu:\n- intent: {INTENT}\n  examples: |\n' + "".join(
        f"    - {q}\n" for q in dict.fromkeys(questions)
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists() or path.read_text(encoding="utf-8") != head + body:
        path.write_text(head + body, encoding="utf-8")  # unchanged content: Rasa's fingerprint stays the same
    return {"file": str(TRAINING_FILE), "examples": len(questions)}
