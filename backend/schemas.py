"""Request bodies and responses (pydantic v2). Content rules live in validators.py so messages stay in Chinese;
responses are the `*Out` models the routes declare (and docs/api.md lists, `python -m backend.apidoc`)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal, Self

from pydantic import (
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    computed_field,
    model_validator,
)

from backend import vocabulary as V
from backend.core import clock


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DevLoginIn(_In):
    student_id: str | None = Field(default=None, examples=["2025000005"])
    staff_id: str | None = Field(default=None, examples=["counselor-physics"])


class TokenOut(BaseModel):
    access_token: str
    token_type: str = "bearer"


class ProfileIn(_In):
    political_status: str | None = Field(default=None, description="政治面貌", examples=["共青团员"])
    origin_place: str | None = Field(default=None, description="生源所在地", examples=["北京市 东城区"])
    hardship_category: str | None = Field(default=None, description="困难生类别", examples=["非困难生"])
    mobile: str | None = Field(default=None, description="手机", examples=["13156785678"])
    email: str | None = Field(default=None, description="邮箱")
    wechat: str | None = Field(default=None, description="微信")
    counselor_name: str | None = Field(default=None, description="辅导员/班主任")
    class_name: str | None = Field(default=None, description="班级")
    emergency_contact_name: str | None = Field(default=None, description="紧急联系人姓名")
    emergency_contact_phone: str | None = Field(default=None, description="紧急联系人手机号")


class UnitIn(_In):
    name: str | None = Field(default=None, description="单位名称")
    location: str | None = Field(default=None, description="单位所在地")
    address: str | None = Field(default=None, description="单位详细地址")
    credit_code: str | None = Field(default=None, description="统一社会信用代码")
    industry: str | None = Field(default=None, description="单位行业")
    nature: str | None = Field(default=None, description="单位性质")
    job_category: str | None = Field(default=None, description="工作职位类别")
    contact_name: str | None = Field(default=None, description="单位联系人")
    contact_phone: str | None = Field(default=None, description="联系方式")
    contact_email: str | None = Field(default=None, description="邮箱")
    affiliation: str | None = Field(default=None, description="单位隶属")
    remark: str | None = Field(default=None, description="备注信息")


class DestinationIn(_In):
    destination_type: str | int | None = Field(
        default=None, description="national category code", examples=["10"]
    )
    unit: UnitIn | None = None


class ArchiveIn(_In):
    transfer_type: str | None = Field(default=None, description="档案转寄类型", examples=["签约单位接收"])
    evidence: list[str] | None = Field(default=None, description="审核材料", examples=[["就业单位调档函"]])
    unit_name: str | None = Field(default=None, description="档案转寄单位名称")
    address: str | None = Field(default=None, description="档案转寄地址")
    postal_code: str | None = Field(default=None, description="邮政编码")
    contact_name: str | None = Field(default=None, description="档案转寄联系人")
    contact_phone: str | None = Field(default=None, description="联系人联系方式")
    hukou_choice: str | None = Field(default=None, description="not_moved_in | self_move | address")
    hukou_address: str | None = Field(default=None, description="户口迁移具体地址")
    hukou_transfer_type: str | None = Field(default=None, description="户口迁移类型")


class ChangeIn(_In):
    kind: str = Field(description="unit_change | destination_edit | archive_edit | personal_info")
    changes: dict = Field(description="fields to change (see docs/api.md)")


class ReviewIn(_In):
    approve: bool
    reason: str | None = None
    version: int = Field(
        ge=1,
        le=2**31 - 1,
        description="the record's `version` as the reviewer saw it "
        "(GET /api/staff/records/...); 409 stale_version if it changed since",
    )


class ShipIn(_In):
    ems_no: str = Field(examples=["1151234567890"])


class ConfirmIn(_In):
    student_id: str
    confirmed_on: dt.date | None = None


class OverrideIn(_In):
    credit_code: str


class BindIn(_In):
    openid: str = Field(min_length=1, max_length=64)
    code: str


class OpenidIn(_In):
    openid: str = Field(min_length=1, max_length=64)


# --- responses ---------------------------------------------------------------------------------------------
def ts(value: dt.datetime | None) -> str | None:
    """A timestamp as the API shows it: Asia/Shanghai, seconds, with the offset."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=clock.TZ)
    return value.astimezone(clock.TZ).isoformat(timespec="seconds")


def ds(value: dt.date | None) -> str | None:
    return value.isoformat() if value else None


Stamp = Annotated[dt.datetime | None, PlainSerializer(ts, return_type=str | None)]
Day = Annotated[dt.date | None, PlainSerializer(ds, return_type=str | None)]


class _Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class SummaryOut(_Out):
    state: V.RecordState = V.RecordState.not_started
    rejection_reason: str | None = None

    @computed_field
    def step(self) -> int:
        return V.STATE_STEPS[self.state]

    @computed_field
    def state_label(self) -> str:
        return V.STATE_LABELS[self.state]

    @classmethod
    def of(cls, rec: Any | None) -> Self:
        return cls() if rec is None else cls.model_validate(rec)


class RecordOut(SummaryOut):
    """What both records and change requests share: state, review times, the version a review carries back."""

    id: int | None = None
    submitted_at: Stamp = None
    college_reviewed_at: Stamp = None
    school_reviewed_at: Stamp = None
    approved_on: Day = None
    updated_at: Stamp = None
    version: int | None = None


class DestinationOut(RecordOut):
    destination_type: str | None = None
    unit: dict[str, Any] | None = None

    @computed_field
    def destination_type_label(self) -> str | None:
        return V.DESTINATION_TYPES.get(self.destination_type or "")

    @computed_field
    def unit_required(self) -> bool | None:
        return (self.destination_type in V.UNIT_TYPES) if self.destination_type else None


class ArchiveFields(ArchiveIn):
    """The 户档信息 fields as responses show them."""

    model_config = ConfigDict(extra="ignore", from_attributes=True)

    @computed_field
    def hukou_choice_label(self) -> str | None:
        return V.HUKOU_CHOICES.get(self.hukou_choice or "")


class ArchiveOut(RecordOut, ArchiveFields):
    @model_validator(mode="before")
    @classmethod
    def _flatten(cls, rec: Any) -> Any:  # the record's columns and its `data`
        if isinstance(rec, dict):
            return rec
        return {**{k: getattr(rec, k) for k in RecordOut.model_fields}, **(rec.data or {})}

    @computed_field
    def evidence_needed(self) -> list[str] | None:
        return V.ARCHIVE_TYPES.get(self.transfer_type or "", {}).get("evidence")


class ArchiveDetailsOut(ArchiveFields):
    """The archive as a mailing request shows it (and keeps a copy of it)."""

    student_name: str
    student_id: str
    labels: dict[str, str] = V.ARCHIVE_FIELDS


class ChangeOut(RecordOut):
    kind: V.ChangeKind
    changes: dict[str, Any]
    before: dict[str, Any]
    created_at: Stamp = None
    student_id: str

    @computed_field
    def state_label(self) -> str:
        return V.CHANGE_STATE_LABELS.get(self.state) or V.STATE_LABELS[self.state]

    @computed_field
    def kind_label(self) -> str:
        return V.CHANGE_KINDS[self.kind]


class ChangesOut(BaseModel):
    items: list[ChangeOut]


class _Staff(BaseModel):
    """A record as staff see it: whose it is."""

    student_id: str
    student_name: str
    college: str

    @classmethod
    def of(cls, rec: Any) -> Self:
        base = STAFF_BASES[cls].of(rec).model_dump()
        return cls.model_validate(
            {
                **base,
                "student_id": rec.student_id,
                "student_name": rec.student.name,
                "college": rec.student.college.name,
            }
        )


class StaffDestinationOut(_Staff, DestinationOut):
    kind_of_record: Literal["destination"] = "destination"


class StaffArchiveOut(_Staff, ArchiveOut):
    kind_of_record: Literal["archive"] = "archive"


class StaffChangeOut(_Staff, ChangeOut):
    kind_of_record: Literal["change"] = "change"


STAFF_BASES: dict[type, type[RecordOut]] = {
    StaffDestinationOut: DestinationOut,
    StaffArchiveOut: ArchiveOut,
    StaffChangeOut: ChangeOut,
}
StaffRecordOut = Annotated[
    StaffDestinationOut | StaffArchiveOut | StaffChangeOut, Field(discriminator="kind_of_record")
]


class Page(BaseModel):
    total: int
    limit: int
    offset: int


class RecordsPage(Page):
    items: list[StaffRecordOut]


class RosterOut(_Out):
    id: str
    name: str
    exam_no: str
    gender: str
    college: str
    college_code: str
    major: str
    degree: str
    level: str
    graduation_date: Day
    ethnicity: str
    id_number: str
    birth_date: Day = None
    schooling_years: str
    enrolled_on: str
    training_mode: str
    home_address: str


class ProfileOut(BaseModel):
    roster: RosterOut
    personal: dict[str, str | None] = Field(
        description="个人信息完善: the fields in `labels` a student fills"
    )
    labels: dict[str, str] = {**V.ROSTER_FIELDS, **V.PERSONAL_FIELDS}
    missing: list[str]
    updated_at: Stamp = None
    locked: bool = Field(
        description="after the school approved the destination: changes go by change request"
    )


class MailingOut(_Out):
    id: int
    student_id: str
    state: V.MailingState
    ems_no: str | None = None
    created_at: Stamp = None
    shipped_at: Stamp = None
    delivered_at: Stamp = None
    cancelled_at: Stamp = None
    version: int
    archive: dict[str, Any] = Field(
        validation_alias=AliasChoices("archive", "archive_snapshot"),
        description="the archive details as submitted (ArchiveDetailsOut)",
    )

    @computed_field
    def state_label(self) -> str:
        return V.MAILING_STATE_LABELS[self.state]


class MailingPage(Page):
    items: list[MailingOut]


class EligibilityOut(BaseModel):
    eligible: bool
    eligible_from: str | None = Field(
        description="YYYY-MM-DD: one working day after the national confirmation"
    )
    reason: V.MailingReason | None
    reason_message: str
    estimated: bool = Field(description="the date rests on estimated holidays")


class MyMailingOut(BaseModel):
    request: MailingOut | None
    eligibility: EligibilityOut
    archive: ArchiveDetailsOut | None


class MailingCreatedOut(BaseModel):
    already_submitted: bool
    request: MailingOut


class SyncOut(BaseModel):
    both_approved_on: str | None
    sync_date: str | None
    synced: bool
    estimated: bool


class NationalOut(BaseModel):
    confirmed: bool
    confirmed_on: str | None
    needs_reconfirm: bool


class ConfirmOut(NationalOut):
    student_id: str


class StudentBriefOut(BaseModel):
    id: str
    name: str
    college: str


class PendingChangeOut(BaseModel):
    id: int
    kind: V.ChangeKind
    kind_label: str
    state: V.RecordState
    state_label: str


class StatusMailingOut(EligibilityOut):
    request: MailingOut | None


class StatusOut(BaseModel):
    student: StudentBriefOut
    today: str
    destination: SummaryOut
    archive: SummaryOut
    sync: SyncOut
    national: NationalOut
    mailing: StatusMailingOut
    pending_changes: list[PendingChangeOut]


class AuditOut(BaseModel):
    id: int
    at: str
    actor_role: str
    actor_id: str
    student_id: str | None
    entity: str
    entity_id: str
    action: str
    before: Any
    after: Any


class AuditPage(BaseModel):
    total: int
    items: list[AuditOut]


class CreditOverrideOut(BaseModel):
    student_id: str
    credit_code_override: str


class MeOut(BaseModel):
    role: V.Role
    id: str
    name: str
    college: str | None


class ContactOut(BaseModel):
    college: str
    college_code: str
    name: str
    phone: str
    email: str
    office_hours: str
    office_location: str


class GeneralContactOut(BaseModel):
    name: str
    phone: str
    email: str
    office_hours: str
    office_location: str
    website: str


class ContactsOut(BaseModel):
    general: GeneralContactOut
    colleges: list[ContactOut]


class HealthOut(BaseModel):
    status: str


class NextWorkdayOut(BaseModel):
    date: str
    is_workday: bool
    next_workday: str
    estimated: bool
    note: str | None


class CategoriesOut(BaseModel):
    destination_types: dict[str, str]
    unit_types: list[str]
    archive_types: dict[str, dict[str, Any]]
    hukou_choices: dict[str, str]
    political_statuses: list[str]
    hardship_categories: list[str]
    unit_natures: list[str]
    industries: list[str]
    job_categories: list[str]
    change_kinds: dict[str, str]


class FieldErrorOut(BaseModel):
    field: str
    code: str
    message: str


class ValidationOut(BaseModel):
    ok: bool
    fields: list[FieldErrorOut]


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


# --- the knowledge base staff grow (issue 20 §2) ------------------------------------------------------------
Question = Annotated[str, Field(max_length=1000)]


class KnowledgeIn(_In):
    questions: list[Question] = Field(
        max_length=100,
        description="学生可能的几种问法（至少1条，最多20条）",
        examples=[["档案放人才中心要不要交费", "人才市场存档案收费吗"]],
    )
    answer: str = Field(max_length=10000, description="回答（最多2000字）")
    source: str = Field(max_length=1000, description="依据：官方文件或负责部门（最多200字）")


class KnowledgeEditIn(_In):
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
