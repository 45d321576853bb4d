"""The staff pages' answers (issue 14): how staff sign in, who is signed in."""

from __future__ import annotations

from pydantic import BaseModel


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
