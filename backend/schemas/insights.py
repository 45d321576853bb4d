"""What students ask and their feedback (issue 14 §3, §4): the answers of the feedback and turn-log
integrations and the staff overview."""

from __future__ import annotations

from pydantic import BaseModel


class FeedbackOut(BaseModel):
    id: int
    rating: str  # up | down
    reason: str | None
    answer_key: str | None


class TurnErrorOut(BaseModel):
    index: int  # the turn's position in the batch
    fields: list[str]  # the fields that broke the contract


class TurnsOut(BaseModel):
    """`stored`/`rejected`/`errors` always; the purge counts when this call also purged old rows (hourly)."""

    stored: int
    turns_deleted: int | None = None
    feedback_deleted: int | None = None
    handoff_sessions_deleted: int | None = None
    handoff_messages_deleted: int | None = None
    retention_days: int | None = None
    rejected: int
    errors: list[TurnErrorOut]


class TurnOut(BaseModel):
    at: str | None
    channel: str
    student_id: str | None
    question: str
    intent: str | None
    confidence: float | None
    answer_key: str | None
    fallback: bool
    handoff: bool


class FeedbackRowOut(BaseModel):
    at: str | None
    channel: str
    student_id: str | None
    question: str
    answer: str
    answer_key: str | None
    rating: str
    reason: str | None
    comment: str | None


class InsightTotalsOut(BaseModel):
    turns: int
    unanswered: int
    low_confidence: int
    handoffs: int
    thumbs_up: int
    thumbs_down: int


class TopicCountOut(BaseModel):
    topic: str
    count: int


class TopDayOut(BaseModel):
    date: str
    total: int
    top: list[TopicCountOut]


class InsightsOut(BaseModel):
    days: int
    scope: str  # college | school
    college_code: str | None
    retention_days: int
    totals: InsightTotalsOut
    unanswered: list[TurnOut]
    low_confidence: list[TurnOut]
    handoffs: list[TurnOut]
    thumbs_down: list[FeedbackRowOut]
    down_reasons: dict[str, int]
    top_week: list[TopicCountOut]
    top_days: list[TopDayOut]
