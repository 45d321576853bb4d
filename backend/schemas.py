"""Request bodies (pydantic v2). Content rules live in validators.py so messages stay in Chinese."""
from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field


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
    destination_type: str | int | None = Field(default=None, description="national category code", examples=["10"])
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
    version: int = Field(ge=1, le=2**31 - 1, description="the record's `version` as the reviewer saw it "
                         "(GET /api/staff/records/...); 409 stale_version if it changed since")


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
