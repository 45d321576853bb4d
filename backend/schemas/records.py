"""个人信息完善, 毕业去向登记, 户档信息登记 and change requests: bodies, the student's and staff's views,
review, the audit log."""

from __future__ import annotations

from typing import Annotated, Any, Literal, TypeVar

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    computed_field,
    model_validator,
)

from backend.schemas.base import BaseIn, Day, Page, Stamp, _Out
from contracts import vocabulary as V

_ModelT = TypeVar("_ModelT", bound=BaseModel)  # typing.Self is 3.11+; mypy checks for 3.10


class ProfileIn(BaseIn):
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


class UnitIn(BaseIn):
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


class DestinationIn(BaseIn):
    destination_type: str | int | None = Field(
        default=None, description="national category code", examples=["10"]
    )
    unit: UnitIn | None = None


class ArchiveIn(BaseIn):
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


class ChangeIn(BaseIn):
    kind: str = Field(description="unit_change | destination_edit | archive_edit | personal_info")
    changes: dict = Field(description="fields to change (see docs/api.md)")


class ReviewIn(BaseIn):
    approve: bool
    reason: str | None = None
    version: int = Field(
        ge=1,
        le=2**31 - 1,
        description="the record's `version` as the reviewer saw it "
        "(GET /api/staff/records/...); 409 stale_version if it changed since",
    )


class OverrideIn(BaseIn):
    credit_code: str


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
    def of(cls: type[_ModelT], rec: Any | None) -> _ModelT:
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
        if isinstance(rec, dict) or not hasattr(rec, "data"):
            return rec  # a dict as it is; any other non-record gets pydantic's own "not an object" error
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
    def of(cls: type[_ModelT], rec: Any) -> _ModelT:
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
