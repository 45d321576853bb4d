"""Notices (issue 15 §1): the student's WeChat notice setting and marking notices read."""

from __future__ import annotations

from pydantic import BaseModel


class NoticeSettingOut(BaseModel):
    enabled: bool  # WeChat notices on (no choice made yet: on)
    bound: bool  # a WeChat account is bound


class MarkedOut(BaseModel):
    marked: int  # notices newly marked read
