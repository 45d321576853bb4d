"""Notices (issue 15 §1): the student's WeChat notice setting and marking notices read."""

from __future__ import annotations

from pydantic import BaseModel


class NoticeSettingOut(BaseModel):
    enabled: bool  # WeChat notices on (no choice made yet: on)
    bound: bool  # a WeChat account is bound


class MarkedOut(BaseModel):
    marked: int  # notices newly marked read


class NoticeOut(BaseModel):
    id: int
    kind: str
    title: str
    body: str
    created_at: str | None
    read: bool


class MyNoticesOut(BaseModel):
    notices: list[NoticeOut]  # unread first, newest first
    has_unread: bool
    wechat: NoticeSettingOut


class DeadlineStudentOut(BaseModel):
    id: str
    name: str
    college_code: str | None
    college: str | None


class DeadlinePreviewOut(BaseModel):
    audience: str
    audience_label: str
    count: int
    students: list[DeadlineStudentOut]  # at most 200


class DeadlineCreatedOut(BaseModel):
    id: int
    title: str
    due_on: str  # YYYY-MM-DD
    audience: str
    college_code: str | None
    students: int  # reminded now


class DeadlineOut(BaseModel):
    id: int
    title: str
    due_on: str  # YYYY-MM-DD
    audience: str
    audience_label: str
    college_code: str | None
    college: str | None
    created_at: str | None
    created_by: str
    students: int


class CollegeOut(BaseModel):
    code: str
    name: str


class DeadlinesOut(BaseModel):
    deadlines: list[DeadlineOut]  # newest first, 100
    audiences: dict[str, str]  # audience -> its Chinese label
    colleges: list[CollegeOut]
    can_create: bool
    remind_days_before: int


class RecipientOut(DeadlineStudentOut):
    read: bool  # read in the widget
    wechat: str | None  # WeChat delivery state


class DeadlineDetailOut(DeadlineOut):
    recipients: list[RecipientOut]
