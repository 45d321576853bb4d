"""Sign-in and WeChat binding: bodies and answers."""

from __future__ import annotations

from pydantic import (
    BaseModel,
    Field,
)

from backend.schemas.base import BaseIn
from contracts import vocabulary as V


class DevLoginIn(BaseIn):
    student_id: str | None = Field(default=None, examples=["2025000005"])
    staff_id: str | None = Field(default=None, examples=["counselor-physics"])


class TokenOut(BaseModel):
    access_token: str
    token_type: str = "bearer"


class BindIn(BaseIn):
    openid: str = Field(min_length=1, max_length=64)
    code: str


class OpenidIn(BaseIn):
    openid: str = Field(min_length=1, max_length=64)


class MeOut(BaseModel):
    role: V.Role
    id: str
    name: str
    college: str | None


class BoundOut(BaseModel):
    bound: bool


class BindCodeOut(BaseModel):
    code: str = Field(examples=["7KQ3-M9XZ"])
    expires_at: str


class BindOut(BaseModel):
    student_id: str
    name: str


class WechatTokenOut(TokenOut):
    expires_in: int
    student_id: str
