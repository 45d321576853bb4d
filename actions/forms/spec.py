"""The three in-chat forms: fields, questions, and conversion between what the student types and the API.

Single source of truth: `bot/domain/forms.yml` is generated from this module (`python -m
actions.forms.gen_domain`) and a test checks that the two agree.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from contracts import vocabulary as V  # the reference lists (no fallback copies)

NONE_WORDS = {
    "无",
    "没有",
    "暂无",
    "不填",
    "跳过",
    "空",
    "没",
    "无备注",
    "没有备注",
    "不需要",
    "none",
    "无。",
}


def _clean(text: str) -> str:
    text = (text or "").strip().strip(" 。，,；;：:!！")
    # "我的是…" / "是：…" / "是13800…": drop the filler, never touch a value that merely starts with 我/是
    text = re.sub(r"^(我的是|是：|是:|就是)", "", text)
    text = re.sub(r"^是(?=[0-9A-Za-z])", "", text)
    return text.strip(" 。，,；;：:!！")


def _digits(text: str) -> str:
    t = _clean(text)
    m = re.search(r"1[3-9]\d[\s-]?\d{4}[\s-]?\d{4}", t)
    return re.sub(r"[\s-]", "", m.group(0)) if m else t


def _email(text: str) -> str:
    m = re.search(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+", text or "")
    return m.group(0).rstrip(".") if m else _clean(text)


def pick(text: str, options: list[str], synonyms: dict[str, str] | None = None) -> str:
    """Map free text to one option: exact, synonym, unique containment; else the cleaned text (backend says
    why)."""
    t = _clean(text)
    if t in options:
        return t
    for key, val in (synonyms or {}).items():
        if key in t:
            return val
    hits = [o for o in options if t and (t in o or o in t)]
    if len(hits) == 1:
        return hits[0]
    loose = [o for o in options if t and re.sub(r"[（）()、和及等含]", "", o).find(t) >= 0]
    if len(loose) == 1:
        return loose[0]
    return t


POLITICAL = list(V.POLITICAL_STATUSES)
HARDSHIP = list(V.HARDSHIP_CATEGORIES)
NATURES = list(V.UNIT_NATURES)
INDUSTRIES = list(V.INDUSTRIES)
JOBS = list(V.JOB_CATEGORIES)
DEST_TYPES: dict[str, str] = dict(V.DESTINATION_TYPES)
UNIT_TYPES = set(V.UNIT_TYPES)
ARCHIVE_TYPES: dict[str, dict] = dict(V.ARCHIVE_TYPES)
ARCHIVE_NEED_ADDRESS = set(V.ARCHIVE_TYPES_NEEDING_ADDRESS)
HUKOU = dict(V.HUKOU_CHOICES)

POLITICAL_SYN = {
    "预备党员": "中共预备党员",
    "党员": "中共党员",
    "团员": "共青团员",
    "民主党派": "民主党派成员",
    "无党派": "无党派人士",
    "普通群众": "群众",
}
HARDSHIP_SYN = {
    "不是": "非困难生",
    "否": "非困难生",
    "都不是": "非困难生",
    "不困难": "非困难生",
    "非困难": "非困难生",
    "没有": "非困难生",
    "低保": "低保家庭",
    "零就业": "零就业家庭",
}
NATURE_SYN = {
    "民营": "其他企业(含民营企业等)",
    "私企": "其他企业(含民营企业等)",
    "私营": "其他企业(含民营企业等)",
    "国企": "国有企业",
    "央企": "国有企业",
    "外企": "三资企业",
    "合资": "三资企业",
    "事业单位": "其他事业单位",
    "高校": "高等教育单位",
    "大学": "高等教育单位",
    "医院": "医疗卫生单位",
    "政府": "机关",
    "研究所": "科研设计单位",
    "中学": "中初教育单位",
    "小学": "中初教育单位",
}
INDUSTRY_SYN = {
    "互联网": "信息传输、软件和信息技术服务业",
    "软件": "信息传输、软件和信息技术服务业",
    "IT": "信息传输、软件和信息技术服务业",
    "银行": "金融业",
    "证券": "金融业",
    "保险": "金融业",
    "学校": "教育",
    "医院": "卫生和社会工作",
    "政府": "公共管理、社会保障和社会组织",
    "科研": "科学研究和技术服务业",
    "研究": "科学研究和技术服务业",
}
JOB_SYN = {
    "程序员": "工程技术人员",
    "工程师": "工程技术人员",
    "开发": "工程技术人员",
    "研发": "工程技术人员",
    "老师": "教学人员",
    "教师": "教学人员",
    "医生": "卫生专业技术人员",
    "科研": "科学研究人员",
}
DEST_SYN = [  # (keyword, code), most specific first
    ("不就业拟升学", "71"),
    ("拟升学", "71"),
    ("准备考研", "71"),
    ("二战", "71"),
    ("暂不就业", "72"),
    ("其他暂不", "72"),
    ("待就业", "70"),
    ("还没找到", "70"),
    ("没找到工作", "70"),
    ("就业协议", "10"),
    ("三方", "10"),
    ("签协议", "10"),
    ("协议", "10"),
    ("劳动合同", "11"),
    ("合同", "11"),
    ("其他录用", "12"),
    ("科研助理", "27"),
    ("管理助理", "27"),
    ("义务兵", "46"),
    ("参军", "46"),
    ("当兵", "46"),
    ("入伍", "46"),
    ("国家基层", "50"),
    ("西部计划", "50"),
    ("三支一扶", "50"),
    ("地方基层", "51"),
    ("创业", "75"),
    ("自由职业", "76"),
    ("第二学士", "802"),
    ("双学位", "802"),
    ("二学位", "802"),
    ("研究生", "801"),
    ("读研", "801"),
    ("保研", "801"),
    ("考研", "801"),
    ("升学", "801"),
    ("读博", "801"),
    ("出国", "85"),
    ("出境", "85"),
    ("留学", "85"),
]
ARCHIVE_SYN = [
    ("本校", "升学本单位接收"),
    ("本单位", "升学本单位接收"),
    ("外校", "升学外单位接收"),
    ("外单位", "升学外单位接收"),
    ("生源地", "转回生源地"),
    ("原籍", "转回生源地"),
    ("老家", "转回生源地"),
    ("回家", "转回生源地"),
    ("托管", "托管单位接收"),
    ("人才", "托管单位接收"),
    ("上级", "上级主管单位接收"),
    ("主管", "上级主管单位接收"),
    ("签约", "签约单位接收"),
    ("单位接收", "签约单位接收"),
    ("工作单位", "签约单位接收"),
    ("不确定", "暂不确定"),
    ("没定", "暂不确定"),
    ("不知道", "暂不确定"),
]


# --- converters: text -> (api value, display) ----------------------------------------------------------
def conv_plain(text: str):
    t = _clean(text)
    return t, t


def conv_political(text: str):
    v = pick(text, POLITICAL, POLITICAL_SYN)
    return v, v


def conv_hardship(text: str):
    v = pick(text, HARDSHIP, HARDSHIP_SYN)
    return v, v


def conv_mobile(text: str):
    v = _digits(text)
    return v, v


def conv_email(text: str):
    v = _email(text)
    return v, v


def conv_origin(text: str):
    t = _clean(text)
    return t, t


def conv_credit(text: str):
    t = re.sub(r"[\s-]", "", _clean(text)).upper()
    m = re.search(r"[0-9A-Z]{18}", t)
    v = m.group(0) if m else t
    return v, v


def conv_nature(text: str):
    v = pick(text, NATURES, NATURE_SYN)
    return v, v


def conv_industry(text: str):
    v = pick(text, INDUSTRIES, INDUSTRY_SYN)
    return v, v


def conv_job(text: str):
    v = pick(text, JOBS, JOB_SYN)
    return v, v


def conv_optional(text: str):
    t = _clean(text)
    if not t or t.lower() in NONE_WORDS:
        return None, "无"
    return t, t


def conv_optional_email(text: str):
    t = _clean(text)
    if not t or t.lower() in NONE_WORDS:
        return None, "无"
    return conv_email(text)


def conv_dest_type(text: str):
    t = _clean(text)
    m = re.fullmatch(r"\d{2,3}", t)
    if m and t in DEST_TYPES:
        return t, DEST_TYPES[t]
    for code, name in DEST_TYPES.items():
        if t == name:
            return code, name
    for kw, code in DEST_SYN:
        if kw in t and code in DEST_TYPES:
            return code, DEST_TYPES[code]
    return t, t


def conv_archive_type(text: str):
    t = _clean(text)
    if t in ARCHIVE_TYPES:
        return t, t
    for name in ARCHIVE_TYPES:
        if name in t:
            return name, name
    for kw, name in ARCHIVE_SYN:
        if kw in t:
            return name, name
    return t, t


def conv_evidence(text: str):
    t = _clean(text)
    names = sorted({e for v in ARCHIVE_TYPES.values() for e in v.get("evidence", [])}, key=len, reverse=True)
    found: list[str] = []
    for n in names:
        if n in t and not any(n in f for f in found):
            found.append(n)
    if "调档函" in t and not any("调档函" in f for f in found):
        found.append("调档函")
    if "录用" in t and not any("录用" in f for f in found):
        found.append("录用材料")
    if "录取" in t and "录取通知书" not in found:
        found.append("录取通知书")
    if not found:
        found = [t] if t else []
    return found, "、".join(found)


def conv_hukou_choice(text: str):
    t = _clean(text)
    for k, v in HUKOU.items():
        if t in (k, v):
            return k, v
    if "未迁" in t or "没迁" in t or "没有迁" in t or "不迁" in t:
        return "not_moved_in", HUKOU["not_moved_in"]
    if "自迁" in t or "无法提供" in t:
        return "self_move", HUKOU["self_move"]
    if "自填" in t or "具体地址" in t or "填地址" in t:
        return "address", HUKOU["address"]
    return t, t


def conv_hukou_transfer(text: str):
    return conv_archive_type(text)


# the platform's name of each field, by API key (contracts.vocabulary); 毕业去向类型 is the form's first
# choice
LABELS = {
    **V.PERSONAL_FIELDS,
    **{f"unit.{k}": v for k, v in V.UNIT_FIELDS.items()},
    **V.ARCHIVE_FIELDS,
    "destination_type": "毕业去向类型",
}


@dataclass
class Field:
    slot: str
    api: str  # API key; "unit.xxx" for nested destination fields
    question: str
    conv: Callable = conv_plain
    buttons: list[str] = field(default_factory=list)
    optional: bool = False  # accepts 无 / 没有
    when: Callable[[dict], bool] | None = None  # slots -> required?
    keywords: list[str] = field(default_factory=list)  # how the student names it ("手机号填错了")
    label: str = ""  # what the chat calls it: the platform's name (LABELS) unless given

    def __post_init__(self) -> None:
        self.label = self.label or LABELS[self.api]

    def required(self, values: dict) -> bool:
        return self.when is None or bool(self.when(values))


@dataclass
class Form:
    name: str  # the Rasa form
    prefix: str
    title: str  # 个人信息完善 ...
    kind: str  # backend form name for /api/validation/{kind}
    path: str  # /api/me/profile ...
    submit_path: str | None
    fields: list[Field]

    @property
    def confirm_slot(self) -> str:
        return f"{self.prefix}_confirm"

    @property
    def slots(self) -> list[str]:
        return [f.slot for f in self.fields]

    def field(self, slot: str) -> Field | None:
        return next((f for f in self.fields if f.slot == slot), None)

    def by_api(self, api: str) -> Field | None:
        return next((f for f in self.fields if f.api == api), None)


def _dest_unit(values: dict) -> bool:
    v = values.get("dest_type")
    return bool(v) and conv_dest_type(str(v))[0] in UNIT_TYPES


def _archive_needs_evidence(values: dict) -> bool:
    t = values.get("archive_transfer_type")
    name = conv_archive_type(t)[0] if t else None
    return bool(name and ARCHIVE_TYPES.get(name, {}).get("evidence"))


def _archive_needs_address(values: dict) -> bool:
    t = values.get("archive_transfer_type")
    return bool(t) and conv_archive_type(str(t))[0] in ARCHIVE_NEED_ADDRESS


def _hukou_address(values: dict) -> bool:
    v = values.get("archive_hukou_choice")
    return bool(v) and conv_hukou_choice(str(v))[0] == "address"


PROFILE = Form(
    "profile_form",
    "profile",
    V.CHANGE_KINDS[V.ChangeKind.personal_info],
    "profile",
    "/api/me/profile",
    None,
    [
        Field(
            "profile_political_status",
            "political_status",
            "你的政治面貌是？",
            conv_political,
            POLITICAL,
            keywords=["政治面貌", "党员", "团员", "入党"],
        ),
        Field(
            "profile_origin_place",
            "origin_place",
            "你的生源所在地是？（高考前的户口所在地，从省份写起，例如“北京市 东城区”）",
            conv_origin,
            keywords=["生源地", "生源所在地", "生源"],
        ),
        Field(
            "profile_hardship_category",
            "hardship_category",
            "困难生类别是？不是困难生请回复“非困难生”。",
            conv_hardship,
            HARDSHIP,
            keywords=["困难生", "困难"],
        ),
        Field("profile_mobile", "mobile", "你的手机号是？", conv_mobile, keywords=["手机号", "手机", "电话"]),
        Field("profile_email", "email", "你的邮箱是？", conv_email, keywords=["邮箱", "邮件", "email"]),
        Field(
            "profile_wechat",
            "wechat",
            "你的微信号是？（也可以填绑定微信的手机号）",
            conv_plain,
            keywords=["微信"],
        ),
        Field(
            "profile_counselor_name",
            "counselor_name",
            "你的辅导员或班主任是哪位老师？",
            conv_plain,
            keywords=["辅导员", "班主任"],
        ),
        Field("profile_class_name", "class_name", "你在哪个班级？", conv_plain, keywords=["班级", "班"]),
        Field(
            "profile_emergency_contact_name",
            "emergency_contact_name",
            "紧急联系人的姓名是？（家人或其他可联系的人，不能是你本人）",
            conv_plain,
            keywords=["紧急联系人姓名", "紧急联系人名字", "紧急联系人"],
        ),
        Field(
            "profile_emergency_contact_phone",
            "emergency_contact_phone",
            "紧急联系人的手机号是？",
            conv_mobile,
            keywords=["紧急联系人手机", "紧急联系人电话", "紧急联系人的手机"],
        ),
    ],
)

DESTINATION = Form(
    "destination_form",
    "dest",
    V.RECORD_NAMES[V.RecordKind.destination],
    V.RecordKind.destination,
    "/api/me/destination",
    "/api/me/destination/submit",
    [
        Field(
            "dest_type",
            "destination_type",
            "你的毕业去向类型是？例如：签就业协议形式就业、签劳动合同形式就业、境内升学（研究生）、出国、出境、自主创业、待就业。",
            conv_dest_type,
            ["签就业协议形式就业", "签劳动合同形式就业", "境内升学（研究生）", "出国、出境", "待就业"],
            keywords=["去向类型", "就业类型", "毕业去向", "去向"],
        ),
        Field(
            "dest_unit_name",
            "unit.name",
            "单位名称是？（与营业执照或协议上的全称一致）",
            conv_plain,
            when=_dest_unit,
            keywords=["单位名称", "公司名", "单位名", "公司名称"],
        ),
        Field(
            "dest_unit_location",
            "unit.location",
            "单位所在地是？（从省或直辖市写起，例如“北京市昌平区”）",
            conv_plain,
            when=_dest_unit,
            keywords=["单位所在地", "所在地"],
        ),
        Field(
            "dest_unit_address",
            "unit.address",
            "单位详细地址是？",
            conv_plain,
            when=_dest_unit,
            keywords=["详细地址", "单位地址", "地址"],
        ),
        Field(
            "dest_unit_credit_code",
            "unit.credit_code",
            "单位的统一社会信用代码是？（18位，在营业执照或调档函上）",
            conv_credit,
            when=_dest_unit,
            keywords=["信用代码", "组织机构代码", "统一社会信用代码", "代码"],
        ),
        Field(
            "dest_unit_industry",
            "unit.industry",
            "单位所属行业是？（例如：信息传输、软件和信息技术服务业；制造业；金融业；教育）",
            conv_industry,
            when=_dest_unit,
            keywords=["行业"],
        ),
        Field(
            "dest_unit_nature",
            "unit.nature",
            "单位性质是？（例如：国有企业、其他企业(含民营企业等)、三资企业、机关、其他事业单位）",
            conv_nature,
            when=_dest_unit,
            keywords=["性质"],
        ),
        Field(
            "dest_unit_job_category",
            "unit.job_category",
            "工作职位类别是？（例如：工程技术人员、其他专业技术人员、教学人员、办事人员和有关人员）",
            conv_job,
            when=_dest_unit,
            keywords=["职位类别", "职位", "岗位"],
        ),
        Field(
            "dest_unit_contact_name",
            "unit.contact_name",
            "单位联系人是谁？",
            conv_plain,
            when=_dest_unit,
            keywords=["单位联系人", "联系人"],
        ),
        Field(
            "dest_unit_contact_phone",
            "unit.contact_phone",
            "单位联系人的联系电话是？",
            conv_mobile,
            when=_dest_unit,
            keywords=["联系方式", "联系电话", "联系人电话"],
        ),
        Field(
            "dest_unit_contact_email",
            "unit.contact_email",
            "单位联系人邮箱是？没有请回复“无”。",
            conv_optional_email,
            optional=True,
            when=_dest_unit,
            keywords=["邮箱"],
            label="单位邮箱",
        ),
    ],
)

ARCHIVE = Form(
    "archive_form",
    "archive",
    V.RECORD_NAMES[V.RecordKind.archive],
    V.RecordKind.archive,
    "/api/me/archive",
    "/api/me/archive/submit",
    [
        Field(
            "archive_transfer_type",
            "transfer_type",
            "你的档案转寄类型是？可选：转回生源地、签约单位接收、托管单位接收、上级主管单位接收、升学本单位接收、升学外单位接收、暂不确定。",
            conv_archive_type,
            ["转回生源地", "签约单位接收", "托管单位接收", "升学本单位接收", "暂不确定"],
            keywords=["转寄类型", "档案类型", "档案转寄类型", "转递类型"],
        ),
        Field(
            "archive_evidence",
            "evidence",
            "这个转寄类型需要审核材料，你提供的是哪一种？（如：就业单位调档函、录用材料、调档函、接收函、录取通知书）",
            conv_evidence,
            when=_archive_needs_evidence,
            keywords=["材料", "调档函", "接收函", "录取通知书"],
        ),
        Field(
            "archive_unit_name",
            "unit_name",
            "档案转寄单位的名称是？",
            conv_plain,
            when=_archive_needs_address,
            keywords=["转寄单位", "接收单位", "单位名称"],
        ),
        Field(
            "archive_address",
            "address",
            "档案转寄地址是？（精确到街道或门牌号，不能是家庭住址）",
            conv_plain,
            when=_archive_needs_address,
            keywords=["档案地址", "转寄地址", "邮寄地址", "地址"],
        ),
        Field(
            "archive_postal_code",
            "postal_code",
            "邮政编码是？（6位）",
            conv_plain,
            when=_archive_needs_address,
            keywords=["邮编", "邮政编码"],
        ),
        Field(
            "archive_contact_name",
            "contact_name",
            "档案接收联系人是谁？（不能是本人或家属）",
            conv_plain,
            when=_archive_needs_address,
            keywords=["联系人", "收件人", "接收人"],
        ),
        Field(
            "archive_contact_phone",
            "contact_phone",
            "联系人的联系电话是？",
            conv_mobile,
            when=_archive_needs_address,
            keywords=["联系方式", "联系电话", "联系人电话"],
        ),
        Field(
            "archive_hukou_choice",
            "hukou_choice",
            "户口迁移地址怎么填？可选：户口未迁入学校 / 暂无法提供，申请自迁 / 自填具体地址。",
            conv_hukou_choice,
            list(HUKOU.values()),
            keywords=["户口迁移地址", "户口地址", "户口"],
        ),
        Field(
            "archive_hukou_address",
            "hukou_address",
            "户口迁移的具体地址是？（精确到街道或门牌号）",
            conv_plain,
            when=_hukou_address,
            keywords=["户口具体地址", "户口迁移具体地址"],
        ),
        Field(
            "archive_hukou_transfer_type",
            "hukou_transfer_type",
            "户口迁移类型是？（选项同档案转寄类型，例如：签约单位接收、转回生源地）",
            conv_hukou_transfer,
            ["转回生源地", "签约单位接收", "托管单位接收", "升学本单位接收", "暂不确定"],
            keywords=["户口迁移类型", "户口类型"],
        ),
    ],
)

FORMS = {f.name: f for f in (PROFILE, DESTINATION, ARCHIVE)}
FORM_BY_PREFIX = {f.prefix: f for f in FORMS.values()}


def payload(form: Form, values: dict) -> dict:
    """API body from slot values (display strings), only for fields that are required and filled."""
    body: dict = {}
    for f in form.fields:
        raw = values.get(f.slot)
        if raw is None or not f.required(values):
            continue
        api_val, _ = f.conv(raw) if not isinstance(raw, list) else (raw, None)
        if f.optional and api_val is None:
            api_val = None  # answered "无": sent as null, which clears a stored value (saves are partial)
        elif api_val is None or api_val == "" or api_val == []:
            continue
        if f.api.startswith("unit."):
            body.setdefault("unit", {})[f.api[5:]] = api_val
        else:
            body[f.api] = api_val
    return body


def display_from_api(form: Form, record: dict) -> dict:
    """Slot values (display strings) from a backend record, for prefilling."""
    out = {}
    unit = record.get("unit") or {}
    for f in form.fields:
        v = unit.get(f.api[5:]) if f.api.startswith("unit.") else record.get(f.api)
        if v is None or v == "" or v == []:
            continue
        if f.api == "destination_type":
            v = DEST_TYPES.get(str(v), str(v))
        elif f.api == "hukou_choice":
            v = HUKOU.get(v, v)
        elif isinstance(v, list):
            v = "、".join(str(x) for x in v)
        out[f.slot] = str(v)
    return out
