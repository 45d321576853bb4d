"""ORM model (SQLAlchemy 2, typed), one module per resource; every table is importable from here
(`from backend import models as M`; `M.Student`)."""

from __future__ import annotations

from backend.models.answers import Answer, AnswerVersion, Feedback, TrainingExample, TurnLog
from backend.models.base import Base
from backend.models.handoff import HandoffMessage, HandoffSession
from backend.models.knowledge import KnowledgeEntry, KnowledgeVersion
from backend.models.notices import Deadline, Notice, NoticeSetting
from backend.models.people import College, Staff, Student
from backend.models.records import Archive, AuditLog, ChangeRequest, Destination, MailingRequest
from backend.models.wechat import WechatBindCode, WechatBindFailure, WechatBinding, WechatInbound

__all__ = [
    "Base",
    "College",
    "Staff",
    "Student",
    "Destination",
    "Archive",
    "ChangeRequest",
    "MailingRequest",
    "AuditLog",
    "WechatBindCode",
    "WechatBindFailure",
    "WechatBinding",
    "WechatInbound",
    "Answer",
    "AnswerVersion",
    "TurnLog",
    "Feedback",
    "TrainingExample",
    "HandoffSession",
    "HandoffMessage",
    "KnowledgeEntry",
    "KnowledgeVersion",
    "Notice",
    "NoticeSetting",
    "Deadline",
]
