"""Answers staff edit without retraining: Rasa's NLG endpoint and the staff API (issue 14 §1, §2).

- `POST /api/nlg`: Rasa's NLG protocol ({response, id, arguments, tracker: {slots}, channel: {name}} -> {text,
  buttons, ...}); read-only; 404 for a response the database does not know. It and `GET /api/nlg/responses`
  (every answer) need the integration key (Rasa) or the action server's service key (issue 21 §9).
- `/api/staff/answers...`: staff read (counselors and school), school staff edit and roll back.
"""

from __future__ import annotations

import json

from fastapi import APIRouter, Path, Query, Request
from pydantic import Field

from backend import models as M
from backend.core.config import settings
from backend.core.deps import (
    IntegrationKey,
    IntegrationOrServiceKey,
    SessionDep,
    StaffDep,
)
from backend.core.errors import invalid
from backend.schemas.answers import (
    AnswerListOut,
    AnswerOut,
    AttachedExampleOut,
    LoginOptionsOut,
    NlgOut,
    NlgSnapshotOut,
    NlgUnchangedOut,
    StaffMeOut,
    TrainingExamplesOut,
    TrainingExportOut,
)
from backend.schemas.base import BaseIn
from backend.services import answers as A
from backend.services import training as T
from backend.validators import FieldError

router = APIRouter(tags=["answers"])

KEY = Path(
    max_length=120, pattern=r"^utter_[A-Za-z0-9_/]+$", description="response name, e.g. utter_faq/login"
)


class ButtonIn(BaseIn):
    title: str = Field(max_length=100)
    payload: str = Field(max_length=500)


class VariationIn(BaseIn):
    text: str = Field(max_length=5000, description="回答内容；变量写成{slot}")
    buttons: list[ButtonIn] | None = Field(default=None, max_length=20, description="省略则保留原按钮")


class AnswerEditIn(BaseIn):
    base_version: int = Field(ge=1, le=10**6, description="the version the edit starts from (409 if stale)")
    variations: list[VariationIn] = Field(min_length=1, max_length=20)
    source: str | None = Field(default=None, max_length=1000, description="出处；省略则保留，空串则清除")
    note: str = Field(default="", max_length=200, description="修改说明")


class NewAnswerIn(BaseIn):
    topic: str = Field(max_length=60, description="utter_faq/<topic>, lower-case letters, digits, _")
    text: str = Field(max_length=5000)
    source: str | None = Field(default=None, max_length=1000)


class ExampleIn(BaseIn):
    question: str = Field(max_length=1000, description="the student's question, as asked")
    answer_key: str = Field(max_length=120, description="an FAQ answer, utter_faq/<topic>")


class RollbackIn(BaseIn):
    version: int = Field(ge=1, le=10**6, description="the version to restore")
    base_version: int = Field(ge=1, le=10**6)


NLG_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "required": ["response"],
                    "properties": {
                        "response": {"type": "string", "example": "utter_faq/login"},
                        "id": {"type": ["string", "null"]},
                        "arguments": {"type": "object"},
                        "tracker": {"type": "object", "properties": {"slots": {"type": "object"}}},
                        "channel": {
                            "type": "object",
                            "properties": {"name": {"type": "string", "example": "rest"}},
                        },
                    },
                }
            }
        },
    }
}


@router.post(
    "/api/nlg",
    tags=["answers"],
    openapi_extra=NLG_BODY,
    dependencies=[IntegrationOrServiceKey],
    response_model=NlgOut,
    response_model_exclude_unset=True,
)
async def nlg(request: Request) -> dict:
    """Rasa's NLG endpoint: the current version of the named response, its variables filled. On the event
    loop, from the in-process copy of the answers (no thread hop, no database read per call: this is on every
    turn). Rasa's process (X-Integration-Key, bot/nlg.py) and the action server (its service key) only."""
    try:
        body = json.loads(await request.body() or b"null")
    except (ValueError, RecursionError):
        raise invalid(
            [FieldError("body", "json_invalid", "请求内容不是有效的JSON对象，请检查格式。")]
        ) from None
    return A.render(body)


@router.get(
    "/api/nlg/responses",
    tags=["answers"],
    dependencies=[IntegrationKey],
    response_model=NlgUnchangedOut | NlgSnapshotOut,
)
def nlg_responses(
    s: SessionDep,
    since: int | None = Query(default=None, ge=0, le=2**31, description="the revision Rasa has"),
) -> dict:
    """Every answer's current variations and source for the Rasa process's copy (bot/nlg.py polls this twice a
    second, off the students' turns); `changed: false` when `since` is still the current revision."""
    return A.snapshot(s, since)


@router.get("/api/staff/login-options")
def login_options() -> LoginOptionsOut:
    """How staff sign in on the staff pages: the demo login (demo mode) and/or the university SSO."""
    return LoginOptionsOut(demo=bool(settings.demo_mode), cas=bool(settings.cas_server_url))


@router.get("/api/staff/me")
def staff_me(p: StaffDep, s: SessionDep) -> StaffMeOut:
    college = s.get(M.College, p.college_code) if p.college_code else None
    return StaffMeOut(
        id=p.id,
        name=p.name,
        role=p.role,
        college_code=p.college_code,
        college=college.name if college else None,
        can_edit_answers=A.can_edit(p),
    )


@router.get("/api/staff/answers", response_model=AnswerListOut)
def list_answers(
    p: StaffDep,
    s: SessionDep,
    q: str | None = Query(default=None, max_length=100, description="搜索回答名称或内容"),
) -> dict:
    return A.list_answers(s, p, (q or "").strip() or None)


@router.post("/api/staff/answers/{key:path}/rollback", response_model=AnswerOut)
def rollback(body: RollbackIn, p: StaffDep, s: SessionDep, key: str = KEY) -> dict:
    return A.rollback(s, p, key, body.version, body.base_version)


@router.get("/api/staff/answers/{key:path}", response_model=AnswerOut)
def get_answer(p: StaffDep, s: SessionDep, key: str = KEY) -> dict:
    return A.answer_view(s, p, key)


@router.put("/api/staff/answers/{key:path}", response_model=AnswerOut)
def edit_answer(body: AnswerEditIn, p: StaffDep, s: SessionDep, key: str = KEY) -> dict:
    return A.edit_answer(
        s,
        p,
        key,
        [v.model_dump(exclude_unset=True) for v in body.variations],
        body.base_version,
        body.source,
        "source" not in body.model_fields_set,
        body.note,
    )


# --- from a failed question to a better answer (issue 14 §5) -----------------------------------------------
@router.post("/api/staff/answers", response_model=AnswerOut)
def create_answer(body: NewAnswerIn, p: StaffDep, s: SessionDep) -> dict:
    """A new FAQ answer (school staff), served by the NLG endpoint and exported to the domain for training."""
    return T.create_answer(s, p, body.topic, body.text, body.source)


@router.get("/api/staff/training-examples", response_model=TrainingExamplesOut)
def training_examples(p: StaffDep, s: SessionDep) -> dict:
    return T.list_examples(s)


@router.post("/api/staff/training-examples", response_model=AttachedExampleOut)
def attach_example(body: ExampleIn, p: StaffDep, s: SessionDep) -> dict:
    """Attach a student's question to an FAQ answer as a training example (school staff)."""
    return T.attach(s, p, body.question, body.answer_key)


@router.post("/api/staff/training-examples/export", response_model=TrainingExportOut)
def export_examples(p: StaffDep, s: SessionDep) -> dict:
    """Write the examples and staff-created answers where `make train` reads them."""
    return T.export(s, p)
