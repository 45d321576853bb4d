"""The staff pages' answers (issue 14): how staff sign in, who is signed in, the answers and training
examples they edit; Rasa's NLG endpoint."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field


class LoginOptionsOut(BaseModel):
    demo: bool  # the demo login (demo mode)
    cas: bool  # the university SSO


class StaffMeOut(BaseModel):
    id: str
    name: str
    role: str
    college_code: str | None
    college: str | None
    can_edit_answers: bool


# --- Rasa's NLG endpoint (the body Rasa expects) ---------------------------------------------------------
class NlgOut(BaseModel):
    """One rendered response in Rasa's format: only the keys the variation has (the route leaves unset ones
    out). `buttons`, `elements`, `attachment` and `custom` are Rasa's free-form JSON, passed through."""

    text: str | None = None
    id: str | None = None
    buttons: list[dict[str, Any]] | None = None
    elements: list[Any] | None = None
    attachment: Any = None
    image: str | None = None
    custom: Any = None


class NlgUnchangedOut(BaseModel):
    revision: int
    changed: Literal[False]


class NlgSnapshotOut(BaseModel):
    revision: int
    changed: Literal[True]
    source_prefix: str
    responses: dict[str, list[dict[str, Any]]] = Field(description="response name -> its Rasa variations")
    sources: dict[str, str] = Field(description="response name -> 出处 (answers that have one)")


# --- the staff's answers ----------------------------------------------------------------------------------
Variations = list[dict[str, Any]]  # Rasa response variations: {text, buttons, ...} as stored


class AnswerListItemOut(BaseModel):
    key: str
    kind: Literal["faq", "dialogue"]
    preview: str
    version: int
    updated_at: str | None
    updated_by: str | None
    edited: bool
    source: str | None


class AnswerListOut(BaseModel):
    total: int
    items: list[AnswerListItemOut]
    can_edit: bool


class AnswerVersionOut(BaseModel):
    version: int
    variations: Variations
    source: str | None
    created_at: str | None
    author_role: str | None
    author_id: str | None
    note: str | None


class AnswerOut(BaseModel):
    key: str
    version: int
    variations: Variations
    source: str | None
    updated_at: str | None
    updated_by: str | None
    edited: bool
    variables: list[str]
    can_edit: bool
    history: list[AnswerVersionOut]


class TrainingExampleOut(BaseModel):
    id: int
    question: str
    answer_key: str
    created_by: str | None
    created_at: str | None
    exported_at: str | None


class AttachedExampleOut(TrainingExampleOut):
    already_in_training_data: bool


class TrainingExamplesOut(BaseModel):
    items: list[TrainingExampleOut]
    pending: int


class TrainingExportOut(BaseModel):
    files: list[str]
    examples: int
    new_answers: int
    skipped_known: int
    dir: str
    next: str
