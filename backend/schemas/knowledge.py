"""The knowledge base staff grow (issue 20 §2)."""

from __future__ import annotations

from typing import Annotated

from pydantic import (
    BaseModel,
    Field,
)

from backend.schemas.base import BaseIn, Stamp, _Out

Question = Annotated[str, Field(max_length=1000)]


class KnowledgeIn(BaseIn):
    questions: list[Question] = Field(
        max_length=100,
        description="学生可能的几种问法（至少1条，最多20条）",
        examples=[["档案放人才中心要不要交费", "人才市场存档案收费吗"]],
    )
    answer: str = Field(max_length=10000, description="回答（最多2000字）")
    source: str = Field(max_length=1000, description="依据：官方文件或负责部门（最多200字）")


class KnowledgeEditIn(BaseIn):
    base_version: int = Field(ge=1, le=10**6, description="the version the edit starts from (409 if stale)")
    questions: list[Question] | None = Field(default=None, max_length=100, description="省略则不变")
    answer: str | None = Field(default=None, max_length=10000, description="省略则不变")
    source: str | None = Field(default=None, max_length=1000, description="省略则不变")
    note: str = Field(default="", max_length=200, description="修改说明")


class _KnowledgeContent(_Out):
    version: int
    questions: list[str]
    answer: str
    source: str
    retired: bool
    created_at: Stamp


class KnowledgeVersionOut(_KnowledgeContent):
    author_role: str
    author_id: str
    note: str


class KnowledgeOut(_KnowledgeContent):
    id: int
    created_by: str
    updated_at: Stamp
    updated_by: str


class KnowledgeDetailOut(KnowledgeOut):
    can_edit: bool
    history: list[KnowledgeVersionOut]


class KnowledgePage(BaseModel):
    total: int
    can_edit: bool
    items: list[KnowledgeOut]


class KnowledgeLiveOut(BaseModel):
    id: int
    version: int
    questions: list[str]
    answer: str
    source: str


class KnowledgeSnapshotOut(BaseModel):
    """The live entries for Rasa's retriever: `changed: false` (no entries) while `since` is still current."""

    revision: int
    changed: bool
    entries: list[KnowledgeLiveOut] | None = None
