"""人工咨询 (handoff): the answers to the channels, the widget and the staff page. The channel answers
(`HandoffRequestOut`, `InboundOut`) carry only the keys that apply to the case: their routes leave unset
fields out (`response_model_exclude_unset`)."""

from __future__ import annotations

from pydantic import BaseModel, Field


# --- the channels -------------------------------------------------------------------------------------------
class HandoffRequestOut(BaseModel):
    state: str = Field(description="waiting | active | ticket_draft | ticket_open | closed_hours")
    session_id: int | None
    already: bool = Field(description="the conversation had an open one: this is it")
    hours: str = Field(description="the office hours, as shown")
    staff_name: str | None = None
    draft_minutes: int | None = None
    message: str | None = Field(default=None, description="an open ticket: what the student is told")
    secret: str | None = Field(default=None, description="an anonymous conversation's key to the replies")


class InboundOut(BaseModel):
    held: bool = Field(description="false: the bot answers the message")
    state: str | None = None
    reply: str | None = Field(default=None, description="what to tell the student instead of the bot")
    note: str | None = Field(default=None, description="said before the bot's answer")
    stored: bool | None = Field(default=None, description="kept for the counselor while queued")
    session_id: int | None = None


class BotAnswerOut(BaseModel):
    stored: int
    message_ids: list[int]


class HeldOut(BaseModel):
    conversations: list[str]
    complete: bool = Field(description="false: the list was cut at its limit")


# --- the widget ---------------------------------------------------------------------------------------------
class HandoffSessionOut(BaseModel):
    id: int
    kind: str  # chat | ticket
    state: str
    staff_name: str | None
    created_at: str | None
    closed_at: str | None


class HandoffMessageOut(BaseModel):
    id: int
    sender: str  # student | staff | system | bot
    text: str
    at: str | None


class WidgetMessagesOut(BaseModel):
    session: HandoffSessionOut | None
    messages: list[HandoffMessageOut]


# --- staff --------------------------------------------------------------------------------------------------
class HandoffStudentOut(BaseModel):
    id: str
    name: str
    college: str
    major: str


class StaffHandoffHeadOut(BaseModel):
    id: int
    kind: str
    state: str
    channel: str
    student: HandoffStudentOut | None  # None: an anonymous visitor
    college_code: str | None
    staff_id: str | None
    staff_name: str | None
    created_at: str | None
    taken_at: str | None
    closed_at: str | None


class StaffHandoffItemOut(StaffHandoffHeadOut):
    last_student_text: str | None


class OfficeHoursOut(BaseModel):
    open: bool
    label: str


class StaffHandoffListOut(BaseModel):
    view: str
    sessions: list[StaffHandoffItemOut]
    total: int
    signed_in: int
    page: int
    per_page: int
    pages: int
    counts: dict[str, int]  # state -> sessions
    office_hours: OfficeHoursOut


class TranscriptLineOut(BaseModel):
    who: str  # student | bot
    text: str


class StaffMessageOut(HandoffMessageOut):
    staff_id: str | None
    wechat_state: str


class StaffHandoffOut(StaffHandoffHeadOut):
    transcript: list[TranscriptLineOut]  # the chat before the request
    messages: list[StaffMessageOut]
