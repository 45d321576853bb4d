"""The knowledge base (issue 20 §2): staff read (counselors and school), school staff add, edit and retire;
Rasa's retriever polls the live entries with the integration key."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from backend.core.deps import IntegrationKey, SessionDep, StaffDep
from backend.schemas import (
    KnowledgeDetailOut,
    KnowledgeEditIn,
    KnowledgeIn,
    KnowledgePage,
    KnowledgeSnapshotOut,
)
from backend.services import knowledge as knowledge_service

router = APIRouter(prefix="/api", tags=["knowledge"])

EntryId = Annotated[int, Path(ge=1, le=2**31 - 1)]


@router.get("/staff/knowledge")
def list_knowledge(
    p: StaffDep,
    s: SessionDep,
    q: Annotated[str | None, Query(max_length=100, description="搜索问法、回答或依据")] = None,
    include_retired: bool = True,
) -> KnowledgePage:
    return knowledge_service.list_entries(s, p, (q or "").strip() or None, include_retired)


@router.post("/staff/knowledge", status_code=201)
def create_knowledge(body: KnowledgeIn, p: StaffDep, s: SessionDep) -> KnowledgeDetailOut:
    """A new entry (school staff): answers on the students' next turn, without retraining."""
    return knowledge_service.create(s, p, body.questions, body.answer, body.source)


@router.get("/staff/knowledge/{entry_id}")
def get_knowledge(entry_id: EntryId, p: StaffDep, s: SessionDep) -> KnowledgeDetailOut:
    return knowledge_service.entry_view(s, p, entry_id)


@router.patch("/staff/knowledge/{entry_id}")
def edit_knowledge(
    entry_id: EntryId, body: KnowledgeEditIn, p: StaffDep, s: SessionDep
) -> KnowledgeDetailOut:
    """Change the wordings, the answer or the source (fields left out stay); `base_version` must be
    current."""
    return knowledge_service.edit(
        s, p, entry_id, body.base_version, body.questions, body.answer, body.source, body.note
    )


@router.delete("/staff/knowledge/{entry_id}")
def retire_knowledge(
    entry_id: EntryId,
    p: StaffDep,
    s: SessionDep,
    base_version: Annotated[int | None, Query(ge=1, le=10**6)] = None,
) -> KnowledgeDetailOut:
    """Retire: the entry and its history stay, it never answers again."""
    return knowledge_service.retire(s, p, entry_id, base_version)


@router.get("/integration/knowledge", tags=["integration"], dependencies=[IntegrationKey])
def knowledge_snapshot(
    s: SessionDep, since: Annotated[int | None, Query(ge=0, le=2**31)] = None
) -> KnowledgeSnapshotOut:
    """The live entries for Rasa's retriever (bot/nlu/knowledge.py polls this off the students' turns);
    `changed: false` while `since` is still the current revision."""
    return knowledge_service.snapshot(s, since)
