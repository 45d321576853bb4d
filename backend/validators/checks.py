"""Field checks: the national check algorithms (统一社会信用代码, 身份证号), phone, e-mail, postal code vs
province, the archive address and recipient rules. `FieldError` is the error every check returns."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import asdict, dataclass


@dataclass
class FieldError:
    field: str
    code: str
    message: str

    def dict(self) -> dict:
        return asdict(self)


# --- 统一社会信用代码 (GB 32100-2015) ---------------------------------------------------
CREDIT_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
CREDIT_WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]


def credit_code_check_char(first17: str) -> str:
    total = sum(CREDIT_ALPHABET.index(c) * w for c, w in zip(first17, CREDIT_WEIGHTS, strict=False))
    return CREDIT_ALPHABET[(31 - total % 31) % 31]


def check_credit_code(
    code: str, field: str = "unit.credit_code", allow_checksum_override: bool = False
) -> list[FieldError]:
    code = (code or "").strip().upper()
    if len(code) != 18:
        return [
            FieldError(
                field,
                "credit_code_length",
                f"统一社会信用代码应为18位，您填写的是{len(code)}位。请对照单位营业执照或调档函重新填写。",
            )
        ]
    bad = sorted({c for c in code if c not in CREDIT_ALPHABET})
    if bad:
        return [
            FieldError(
                field,
                "credit_code_chars",
                f"统一社会信用代码含有不允许的字符：{'、'.join(bad)}（代码不使用字母I、O、S、V、Z）。"
                "请检查是否把数字0/1/5/2误写成了字母。",
            )
        ]
    if code[17] != credit_code_check_char(code[:17]) and not allow_checksum_override:
        return [
            FieldError(
                field,
                "credit_code_checksum",
                "统一社会信用代码校验位不正确，可能有字符抄错。请对照营业执照逐位核对；若确为早期试点代码，"
                "请联系学院就业工作负责老师，由学校人工核验后放行。",
            )
        ]
    return []


# --- 居民身份证号码 (GB 11643-1999) ------------------------------------------------------
ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]


def id_check_digit(first17: str) -> str:
    return "10X98765432"[sum(int(c) * w for c, w in zip(first17, ID_WEIGHTS, strict=False)) % 11]


def check_id_number(value: str, field: str = "id_number") -> list[FieldError]:
    v = (value or "").strip().upper()
    if not re.fullmatch(r"\d{17}[\dX]", v):
        return [FieldError(field, "id_number_format", "身份证号应为18位：前17位是数字，最后一位是数字或X。")]
    try:
        dt.date(int(v[6:10]), int(v[10:12]), int(v[12:14]))
    except ValueError:
        return [FieldError(field, "id_number_birth", "身份证号第7至14位的出生日期不是有效日期，请核对。")]
    if v[17] != id_check_digit(v[:17]):
        return [
            FieldError(
                field, "id_number_checksum", "身份证号校验位不正确，可能有数字抄错，请对照身份证逐位核对。"
            )
        ]
    return []


# --- simple formats --------------------------------------------------------------------------
MOBILE_RE = re.compile(r"^1[3-9]\d{9}$")
LANDLINE_RE = re.compile(r"^0\d{2,3}-?\d{7,8}(-\d{1,6})?$")
EMAIL_RE = re.compile(r"^[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}$")
WECHAT_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{5,19}$")
EMS_RE = re.compile(r"^(\d{13}|[A-Z]{2}\d{9}[A-Z]{2})$")


def check_mobile(value: str, field: str, label: str) -> list[FieldError]:
    if not MOBILE_RE.match((value or "").strip()):
        return [
            FieldError(field, "mobile_format", f"{label}应为11位手机号码，以13-19开头，例如13812345678。")
        ]
    return []


def check_phone(value: str, field: str, label: str) -> list[FieldError]:
    v = (value or "").strip().replace(" ", "")
    if MOBILE_RE.match(v) or LANDLINE_RE.match(v):
        return []
    return [
        FieldError(
            field,
            "phone_format",
            f"{label}应为11位手机号码或带区号的固定电话，例如13812345678或010-68912345。",
        )
    ]


def check_email(value: str, field: str, label: str = "邮箱") -> list[FieldError]:
    if not EMAIL_RE.match((value or "").strip()):
        return [
            FieldError(field, "email_format", f"{label}格式不正确，应类似 name@example.com，请检查@和域名。")
        ]
    return []


# --- provinces and postal codes --------------------------------------------------------------
PROVINCE_POSTAL: dict[str, tuple[str, ...]] = {
    "北京": ("10",),
    "上海": ("20",),
    "天津": ("30",),
    "重庆": ("40",),
    "河北": ("05", "06", "07"),
    "山西": ("03", "04"),
    "内蒙古": ("01", "02"),
    "辽宁": ("11", "12"),
    "吉林": ("13",),
    "黑龙江": ("15", "16"),
    "江苏": ("21", "22"),
    "安徽": ("23", "24"),
    "山东": ("25", "26", "27"),
    "浙江": ("31", "32"),
    "江西": ("33", "34"),
    "福建": ("35", "36"),
    "湖南": ("41", "42"),
    "湖北": ("43", "44"),
    "河南": ("45", "46", "47"),
    "广东": ("51", "52"),
    "广西": ("53", "54"),
    "贵州": ("55", "56"),
    "海南": ("57",),
    "四川": ("61", "62", "63", "64"),
    "云南": ("65", "66", "67"),
    "陕西": ("71", "72"),
    "甘肃": ("73", "74"),
    "宁夏": ("75",),
    "青海": ("81",),
    "新疆": ("83", "84"),
    "西藏": ("85",),
}


def province_of(address: str) -> str | None:
    a = (address or "").strip()
    for p in PROVINCE_POSTAL:
        if a.startswith(p):
            return p
    return None


def check_postal_code(code: str, address: str | None, field: str = "postal_code") -> list[FieldError]:
    c = (code or "").strip()
    if not re.fullmatch(r"\d{6}", c):
        return [FieldError(field, "postal_code_format", "邮政编码应为6位数字（可以0开头），例如100081。")]
    prov = province_of(address or "")
    if prov and c[:2] not in PROVINCE_POSTAL[prov]:
        want = "、".join(f"{p}开头" for p in PROVINCE_POSTAL[prov])
        return [
            FieldError(
                field,
                "postal_code_province",
                f"邮政编码{c}与地址所在的{prov}不符（{prov}的邮政编码以{want}），请核对邮编或地址。",
            )
        ]
    return []


_STREET_RE = re.compile(r"(路|街|大街|大道|道|巷|胡同|弄|里|村|镇|乡|园区|开发区)")
_NUMBER_RE = re.compile(r"(\d+|[一二三四五六七八九十百]+)\s*(号|号楼|栋|幢|座|层|室|单元)")
_HOME_WORDS = ("家中", "家里", "住宅", "老家", "寓所", "本人家")


def _norm(s: str) -> str:
    return re.sub(r"[\s,，。.、\-—()（）#]", "", s or "")


def check_precise_address(value: str, field: str, label: str) -> list[FieldError]:
    v = (value or "").strip()
    if not province_of(v):
        return [
            FieldError(
                field,
                "address_province",
                f"{label}请从省（自治区、直辖市）写起，例如“北京市海淀区中关村南大街5号”。",
            )
        ]
    if not _STREET_RE.search(v) or not _NUMBER_RE.search(v):
        return [
            FieldError(
                field,
                "address_not_precise",
                f"{label}必须精确到街道和门牌号（例如“……路/街……号”），请补充街道名称和门牌号。",
            )
        ]
    return []


def check_not_home(value: str, home_address: str | None, field: str) -> list[FieldError]:
    v = _norm(value)
    home = _norm(home_address or "")
    if any(w in value for w in _HOME_WORDS) or (home and (v == home or (len(home) >= 8 and home in v))):
        return [
            FieldError(
                field,
                "address_is_home",
                "档案接收地址不能是家庭住址：档案只能寄往有档案管理权限的单位或公共就业人才服务机构，"
                "请填写接收单位的地址。",
            )
        ]
    return []


# Kinship words: found anywhere in the recipient ("张伟的妈妈", "我爸", "王阿姨"). Only words of two or more
# characters, plus 爸 and 妈 (not used in given names), count inside a name: the single characters
# 哥/姐/弟/妹/叔/舅/ 姑/伯/父/母 occur in ordinary names (刘叔平, 马哥华) and in how colleagues are addressed
# (赵姐), so alone they count only as the whole entry. 叔叔/阿姨/舅舅 are refused although a unit's staff may
# be called so informally: the recipient must be a named person of the receiving unit anyway.
_KINSHIP_WORDS = (
    "爸",
    "妈",
    "父亲",
    "母亲",
    "父母",
    "家长",
    "家属",
    "家人",
    "亲属",
    "亲戚",
    "本人",
    "自己",
    "哥哥",
    "姐姐",
    "弟弟",
    "妹妹",
    "兄弟",
    "姐妹",
    "兄长",
    "大哥",
    "二哥",
    "大姐",
    "二姐",
    "爱人",
    "丈夫",
    "妻子",
    "老公",
    "老婆",
    "媳妇",
    "配偶",
    "儿子",
    "女儿",
    "爷爷",
    "奶奶",
    "祖父",
    "祖母",
    "外公",
    "外婆",
    "姥姥",
    "姥爷",
    "外祖",
    "叔叔",
    "叔父",
    "婶婶",
    "婶子",
    "阿姨",
    "姨父",
    "姨夫",
    "小姨",
    "大姨",
    "舅舅",
    "舅父",
    "舅母",
    "小舅",
    "姑姑",
    "姑父",
    "姑丈",
    "伯伯",
    "伯父",
    "伯母",
    "大伯",
    "岳父",
    "岳母",
    "公公",
    "婆婆",
    "表哥",
    "表姐",
    "表弟",
    "表妹",
    "堂哥",
    "堂姐",
    "堂弟",
    "堂妹",
    "嫂子",
    "姐夫",
    "妹夫",
    "弟媳",
)
_KINSHIP_ALONE = ("我", "父", "母", "哥", "姐", "弟", "妹", "叔", "舅", "姑", "伯", "姨", "兄", "嫂")
_FAMILY_WORDS = _KINSHIP_WORDS  # kept for callers of the old name


def is_kinship(name: str) -> bool:
    """True when the recipient names a family member rather than a person ("张伟的妈妈", "舅舅", "本人")."""
    n = re.sub(r"[\s·•.。,，、()（）\[\]【】:：\-_]", "", name or "")
    return n in _KINSHIP_ALONE or any(w in n for w in _KINSHIP_WORDS)


def check_recipient(
    name: str, phone: str, student: dict, name_field: str, phone_field: str
) -> list[FieldError]:
    errs: list[FieldError] = []
    n = (name or "").strip()
    msg = "档案接收人不能是毕业生本人或家属（紧急联系人视为家属），请填写接收单位负责档案的老师或工作人员。"
    family_names = {student.get("name"), student.get("emergency_contact_name")} - {None, ""}
    if n in family_names or is_kinship(n):
        errs.append(FieldError(name_field, "recipient_is_family", msg))
    phones = {student.get("mobile"), student.get("emergency_contact_phone")} - {None, ""}
    if (phone or "").strip() in phones:
        errs.append(
            FieldError(
                phone_field,
                "recipient_phone_is_family",
                "档案联系人电话与您本人或紧急联系人的电话相同；接收人不能是本人或家属，请填写接收单位的联系电话。",
            )
        )
    return errs


def _required(value, field: str, label: str) -> list[FieldError]:
    if value is None or (isinstance(value, str) and not value.strip()) or value == []:
        return [FieldError(field, "required", f"请填写{label}。")]
    return []


def _choice(value: str, choices, field: str, label: str) -> list[FieldError]:
    if value not in choices:
        shown = "、".join(list(choices)[:12])
        return [
            FieldError(
                field, "invalid_choice", f"{label}“{value}”不在可选范围内，请从以下选项中选择：{shown}。"
            )
        ]
    return []


def _length(value: str, field: str, label: str, max_len: int = 100) -> list[FieldError]:
    if isinstance(value, str) and len(value) > max_len:
        return [FieldError(field, "too_long", f"{label}最多{max_len}个字，请精简。")]
    return []


PROFILE_MAX = {"counselor_name": 50, "class_name": 50, "emergency_contact_name": 50, "wechat": 40}
