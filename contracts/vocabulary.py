"""The platform's one vocabulary: states, kinds, roles, their Chinese labels, reference lists and messages.

Plain constants and str enums (JSON and the database hold the plain values); no database or web imports, so
the action server (and Rasa's Python 3.10 environment) import it cheaply: `from contracts import vocabulary as
V`. Every label a student reads about a record, change request or mailing request comes from here.
"""

from __future__ import annotations

from enum import Enum


class StrEnum(str, Enum):
    """A str enum whose members print, format and hash as their value (names equal values)."""

    __str__ = str.__str__
    __format__ = str.__format__  # type: ignore[assignment]


class Role(StrEnum):
    student = "student"
    counselor = "counselor"
    school = "school"
    integration = "integration"
    system = "system"


STAFF_ROLES = frozenset({Role.counselor, Role.school})


class RecordState(StrEnum):
    """毕业去向登记 / 户档信息登记 (and change requests, from `submitted` on)."""

    not_started = "not_started"
    type_chosen = "type_chosen"
    filled = "filled"
    submitted = "submitted"
    college_approved = "college_approved"
    school_approved = "school_approved"
    college_rejected = "college_rejected"
    school_rejected = "school_rejected"


_S = RecordState
EDITABLE = frozenset(
    {_S.not_started, _S.type_chosen, _S.filled, _S.submitted, _S.college_rejected, _S.school_rejected}
)
REJECTED = frozenset({_S.college_rejected, _S.school_rejected})
REVIEWED = frozenset({_S.college_approved, _S.school_approved})
OPEN_CHANGE = frozenset({_S.submitted, _S.college_approved})  # a change request still under review
DECIDED_CHANGE = frozenset({_S.school_approved, _S.college_rejected, _S.school_rejected})

STATE_LABELS = {
    _S.not_started: "未开始",
    _S.type_chosen: "已选择去向类型",
    _S.filled: "信息已填写（未提交）",
    _S.submitted: "已提交，待学院审核",
    _S.college_approved: "学院审核通过，待学校审核",
    _S.school_approved: "学校审核完成",
    _S.college_rejected: "学院审核未通过，请按原因修改后再次提交",
    _S.school_rejected: "学校审核未通过，请按原因修改后再次提交",
}
STATE_STEPS = {
    _S.not_started: 0,
    _S.type_chosen: 1,
    _S.filled: 2,
    _S.submitted: 3,
    _S.college_approved: 4,
    _S.school_approved: 5,
    _S.college_rejected: 3,
    _S.school_rejected: 4,
}
CHANGE_STATE_LABELS: dict[str, str] = {
    _S.submitted: "已提交，待学院审核",
    _S.college_approved: "学院审核通过，待学校审核",
    _S.school_approved: "学校审核通过，已生效",
    _S.college_rejected: "学院审核未通过",
    _S.school_rejected: "学校审核未通过",
}


class RecordKind(StrEnum):
    """What staff review: the two records and change requests."""

    destination = "destination"
    archive = "archive"
    change = "change"


RECORD_NAMES: dict[str, str] = {RecordKind.destination: "毕业去向登记", RecordKind.archive: "户档信息登记"}


class ChangeKind(StrEnum):
    """The four change paths after a record is reviewed."""

    unit_change = "unit_change"
    destination_edit = "destination_edit"
    archive_edit = "archive_edit"
    personal_info = "personal_info"


class ChangeTarget(StrEnum):
    """What a change request changes."""

    destination = "destination"
    archive = "archive"
    personal = "personal"


CHANGE_KINDS: dict[str, str] = {
    ChangeKind.unit_change: "改签申请（单位变更）",
    ChangeKind.destination_edit: "毕业去向修改（单位不变）",
    ChangeKind.archive_edit: "户档信息修改",
    ChangeKind.personal_info: "个人信息完善",
}
CHANGE_TARGET: dict[str, ChangeTarget] = {
    ChangeKind.unit_change: ChangeTarget.destination,
    ChangeKind.destination_edit: ChangeTarget.destination,
    ChangeKind.archive_edit: ChangeTarget.archive,
    ChangeKind.personal_info: ChangeTarget.personal,
}


class MailingState(StrEnum):
    submitted = "submitted"
    shipped = "shipped"
    delivered = "delivered"
    cancelled = "cancelled"


MAILING_STATE_LABELS: dict[str, str] = {
    MailingState.submitted: "已提交，待寄出",
    MailingState.shipped: "已寄出",
    MailingState.delivered: "已送达",
    MailingState.cancelled: "已取消",
}


class MailingReason(StrEnum):
    """Why a student cannot apply for archive mailing now (`eligibility.reason`)."""

    already_requested = "already_requested"
    archive_not_approved = "archive_not_approved"
    not_confirmed = "not_confirmed"
    needs_reconfirm = "needs_reconfirm"
    change_pending = "change_pending"
    too_early = "too_early"


MAILING_ELIGIBLE_MESSAGE = "可以申请档案邮寄。"
MAILING_REASON_MESSAGES = {
    MailingReason.already_requested: "您已提交过档案邮寄申请，无需重复提交。",
    MailingReason.archive_not_approved: "户档信息尚未经院校两级审核通过，暂不能申请档案邮寄。",
    MailingReason.not_confirmed: "请先在国家平台确认毕业去向信息，确认一个工作日后可申请档案邮寄。",
    MailingReason.needs_reconfirm: (
        "您的信息修改后已重新同步，请在国家平台重新确认，确认一个工作日后可申请档案邮寄。"
    ),
    MailingReason.change_pending: (
        "您有尚未审核完成的修改申请，请等待审核通过、同步并在国家平台重新确认后再申请档案邮寄。"
    ),
    MailingReason.too_early: "国家平台确认完成一个工作日后才能申请档案邮寄。",
}


def mailing_reason_message(reason: str | None, eligible_from: str | None = None) -> str:
    """The `reason_message` of an eligibility answer (with the date for `too_early`)."""
    if reason is None:
        return MAILING_ELIGIBLE_MESSAGE
    if reason == MailingReason.too_early and eligible_from:
        return f"国家平台确认完成一个工作日后才能申请档案邮寄，您可以从{eligible_from}起申请。"
    return MAILING_REASON_MESSAGES[MailingReason(reason)]


# --- reference lists of the school platform -----------------------------------------------------------------
# National destination categories (codes from real exports, 2021 rules).
DESTINATION_TYPES: dict[str, str] = {
    "10": "签就业协议形式就业",
    "11": "签劳动合同形式就业",
    "12": "其他录用形式就业",
    "27": "科研助理、管理助理",
    "46": "应征义务兵",
    "50": "国家基层项目",
    "51": "地方基层项目",
    "75": "自主创业",
    "76": "自由职业",
    "801": "境内升学（研究生）",
    "802": "第二学士学位",
    "85": "出国、出境",
    "70": "待就业",
    "71": "不就业拟升学",
    "72": "其他暂不就业",
}
UNIT_TYPES = {"10", "11", "12", "27"}

# 档案转寄类型 -> (definition, evidence accepted; any one of them suffices; empty = none needed)
ARCHIVE_TYPES: dict[str, dict] = {
    "转回生源地": {
        "definition": "档案转回生源地的公共就业人才服务机构；户口转回原籍。",
        "evidence": [],
        "basis": "生源地的认定（离校前学生的户口所在地，户口在学校临时集体户口一般为入学前户口所在地）",
    },
    "签约单位接收": {
        "definition": "档案（户口）转就业单位",
        "evidence": ["就业单位调档函", "录用材料"],
        "basis": "就业单位调档函、录用材料等",
    },
    "托管单位接收": {
        "definition": "档案（户口）转非生源地的公共就业人才服务机构",
        "evidence": ["调档函", "接收函"],
        "basis": "非生源地的公共就业人才服务机构的调档函、接收函",
    },
    "上级主管单位接收": {
        "definition": "档案（户口）转就业单位的上级部门",
        "evidence": ["上级主管单位接收的录用材料"],
        "basis": "用人单位（或用人单位上级部门）的录用材料要求档案（户口）转上级主管单位",
    },
    "升学本单位接收": {
        "definition": "档案（户口）转本校",
        "evidence": ["录取通知书"],
        "basis": "录取通知书",
    },
    "升学外单位接收": {
        "definition": "档案（户口）转外校",
        "evidence": ["录取通知书"],
        "basis": "录取通知书",
    },
    "暂不确定": {"definition": "", "evidence": [], "basis": ""},  # the process document gives neither
}
ARCHIVE_TYPES_NEEDING_ADDRESS = set(ARCHIVE_TYPES) - {"暂不确定"}

HUKOU_CHOICES = {
    "not_moved_in": "户口未迁入学校",
    "self_move": "暂无法提供，申请自迁",
    "address": "自填具体地址",
}

POLITICAL_STATUSES = ["中共党员", "中共预备党员", "共青团员", "民主党派成员", "无党派人士", "群众"]
HARDSHIP_CATEGORIES = ["非困难生", "家庭困难", "残疾", "家庭困难和残疾", "低保家庭", "零就业家庭"]

UNIT_NATURES = [
    "机关",
    "科研设计单位",
    "高等教育单位",
    "中初教育单位",
    "医疗卫生单位",
    "其他事业单位",
    "国有企业",
    "三资企业",
    "其他企业(含民营企业等)",
    "部队",
    "农村建制村",
    "城镇社区",
    "其他",
]
INDUSTRIES = [
    "农、林、牧、渔业",
    "采矿业",
    "制造业",
    "电力、热力、燃气及水生产和供应业",
    "建筑业",
    "批发和零售业",
    "交通运输、仓储和邮政业",
    "住宿和餐饮业",
    "信息传输、软件和信息技术服务业",
    "金融业",
    "房地产业",
    "租赁和商务服务业",
    "科学研究和技术服务业",
    "水利、环境和公共设施管理业",
    "居民服务、修理和其他服务业",
    "教育",
    "卫生和社会工作",
    "文化、体育和娱乐业",
    "公共管理、社会保障和社会组织",
    "国际组织",
    "军队",
]
JOB_CATEGORIES = [
    "公务员",
    "科学研究人员",
    "工程技术人员",
    "农林牧渔业技术人员",
    "卫生专业技术人员",
    "经济业务人员",
    "金融业务人员",
    "法律专业人员",
    "教学人员",
    "文学艺术工作人员",
    "体育工作人员",
    "新闻出版和文化工作人员",
    "其他专业技术人员",
    "办事人员和有关人员",
    "商业和服务业人员",
    "生产和运输设备操作人员",
    "军人",
    "其他人员",
]

PERSONAL_FIELDS = {
    "political_status": "政治面貌",
    "origin_place": "生源所在地",
    "hardship_category": "困难生类别",
    "mobile": "手机",
    "email": "邮箱",
    "wechat": "微信",
    "counselor_name": "辅导员/班主任",
    "class_name": "班级",
    "emergency_contact_name": "紧急联系人姓名",
    "emergency_contact_phone": "紧急联系人手机号",
}
ROSTER_FIELDS = {
    "name": "姓名",
    "id": "学号",
    "exam_no": "考生号",
    "gender": "性别",
    "college": "学院(系)",
    "major": "专业",
    "degree": "学历",
    "level": "层次",
    "graduation_date": "毕业日期",
    "ethnicity": "民族",
    "id_number": "身份证号",
    "birth_date": "出生日期",
    "schooling_years": "学制",
    "enrolled_on": "入学时间",
    "training_mode": "培养方式",
    "home_address": "家庭住址",
}
UNIT_FIELDS = {
    "name": "单位名称",
    "location": "单位所在地",
    "address": "单位详细地址",
    "credit_code": "统一社会信用代码",
    "industry": "单位行业",
    "nature": "单位性质",
    "job_category": "工作职位类别",
    "contact_name": "单位联系人",
    "contact_phone": "联系方式",
    "contact_email": "邮箱",
    "affiliation": "单位隶属",
    "remark": "备注信息",
}
UNIT_REQUIRED = [
    "name",
    "location",
    "address",
    "credit_code",
    "industry",
    "nature",
    "job_category",
    "contact_name",
    "contact_phone",
]
ARCHIVE_FIELDS = {
    "transfer_type": "档案转寄类型",
    "evidence": "审核材料",
    "unit_name": "档案转寄单位名称",
    "address": "档案转寄地址",
    "postal_code": "邮政编码",
    "contact_name": "档案转寄联系人",
    "contact_phone": "联系人联系方式",
    "hukou_choice": "户口迁移地址",
    "hukou_address": "户口迁移具体地址",
    "hukou_transfer_type": "户口迁移类型",
}
ARCHIVE_ADDRESS_FIELDS = ["unit_name", "address", "postal_code", "contact_name", "contact_phone"]
