"""The three forms (个人信息完善, 毕业去向登记 with its unit, 户档信息登记) and the EMS number, checked field
by field with the rules of checks.py; messages in Chinese."""

from __future__ import annotations

from backend.validators.checks import (
    EMS_RE,
    MOBILE_RE,
    PROFILE_MAX,
    WECHAT_RE,
    FieldError,
    _choice,
    _length,
    _required,
    check_credit_code,
    check_email,
    check_mobile,
    check_not_home,
    check_phone,
    check_postal_code,
    check_precise_address,
    check_recipient,
    province_of,
)
from contracts import vocabulary as V


# --- forms -------------------------------------------------------------------------------------
def validate_profile(data: dict, student: dict, partial: bool = False) -> list[FieldError]:
    errs: list[FieldError] = []
    for key, label in V.PERSONAL_FIELDS.items():
        if key not in data or data[key] is None:
            if not partial:
                errs += _required(None, key, label)
            continue
        v = data[key]
        if not isinstance(v, str):
            errs.append(FieldError(key, "type", f"{label}应为文字。"))
            continue
        if not v.strip():
            errs += _required(v, key, label)
            continue
        errs += _length(v, key, label, PROFILE_MAX.get(key, 100))
        if key == "political_status":
            errs += _choice(v, V.POLITICAL_STATUSES, key, label)
        elif key == "hardship_category":
            errs += _choice(v, V.HARDSHIP_CATEGORIES, key, label)
        elif key == "origin_place" and not province_of(v):
            errs.append(
                FieldError(
                    key,
                    "origin_place_province",
                    "生源所在地请从省份写起，例如“北京市 东城区”。生源地是高考前的户口所在地。",
                )
            )
        elif key in ("mobile", "emergency_contact_phone"):
            errs += check_mobile(v, key, label)
        elif key == "email":
            errs += check_email(v, key)
        elif key == "wechat" and not (WECHAT_RE.match(v) or MOBILE_RE.match(v)):
            errs.append(
                FieldError(
                    key,
                    "wechat_format",
                    "微信号应为6-20位字母、数字、下划线或减号并以字母开头，也可以填绑定的手机号。",
                )
            )
    name = student.get("name")
    if data.get("emergency_contact_name") and data.get("emergency_contact_name") == name:
        errs.append(
            FieldError(
                "emergency_contact_name",
                "emergency_is_self",
                "紧急联系人不能是本人，请填写家人或其他可联系的人。",
            )
        )
    mobile = data.get("mobile", student.get("mobile"))
    if data.get("emergency_contact_phone") and data.get("emergency_contact_phone") == mobile:
        errs.append(
            FieldError(
                "emergency_contact_phone", "emergency_is_self", "紧急联系人手机号不能与本人手机号相同。"
            )
        )
    return errs


def validate_unit(unit: dict, partial: bool = False, override_code: str | None = None) -> list[FieldError]:
    errs: list[FieldError] = []
    if not isinstance(unit, dict):
        return [FieldError("unit", "type", "单位信息格式不正确。")]
    for key in unit:
        if key not in V.UNIT_FIELDS:
            errs.append(FieldError(f"unit.{key}", "unknown_field", f"单位信息中没有“{key}”这一项。"))
    for key, label in V.UNIT_FIELDS.items():
        f = f"unit.{key}"
        v = unit.get(key)
        if v is None or (isinstance(v, str) and not v.strip()):
            if not partial and key in V.UNIT_REQUIRED:
                errs += _required(None, f, label)
            continue
        if not isinstance(v, str):
            errs.append(FieldError(f, "type", f"{label}应为文字。"))
            continue
        errs += _length(v, f, label, 200 if key in ("address", "remark") else 100)
        if key == "credit_code":
            errs += check_credit_code(
                v, f, allow_checksum_override=bool(override_code) and v.strip().upper() == override_code
            )
        elif key == "contact_phone":
            errs += check_phone(v, f, label)
        elif key == "contact_email":
            errs += check_email(v, f, "单位邮箱")
        elif key == "industry":
            errs += _choice(v, V.INDUSTRIES, f, label)
        elif key == "nature":
            errs += _choice(v, V.UNIT_NATURES, f, label)
        elif key == "job_category":
            errs += _choice(v, V.JOB_CATEGORIES, f, label)
        elif key == "location" and not province_of(v):
            errs.append(
                FieldError(f, "address_province", "单位所在地请从省（直辖市）写起，例如“北京市昌平区”。")
            )
    return errs


def validate_destination(
    data: dict, partial: bool = False, override_code: str | None = None
) -> list[FieldError]:
    errs: list[FieldError] = []
    t = data.get("destination_type")
    if t is None:
        if not partial:
            errs += _required(None, "destination_type", "毕业去向类型")
        return errs + (validate_unit(data["unit"], True, override_code) if data.get("unit") else [])
    t = str(t)
    if t not in V.DESTINATION_TYPES:
        codes = "、".join(f"{k} {v}" for k, v in V.DESTINATION_TYPES.items())
        return [
            FieldError(
                "destination_type",
                "invalid_choice",
                f"毕业去向类型“{t}”不存在，请从以下选项中选择：{codes}。",
            )
        ]
    if t in V.UNIT_TYPES:
        errs += validate_unit(data.get("unit") or {}, partial, override_code)
    elif data.get("unit"):
        errs.append(
            FieldError(
                "unit",
                "unit_not_applicable",
                f"去向类型“{V.DESTINATION_TYPES[t]}”不填写单位信息，请删去单位信息或改选就业类去向。",
            )
        )
    return errs


def validate_archive(data: dict, student: dict, partial: bool = False) -> list[FieldError]:
    errs: list[FieldError] = []
    t = data.get("transfer_type")
    for key in data:
        if key not in V.ARCHIVE_FIELDS:
            errs.append(FieldError(key, "unknown_field", f"户档信息中没有“{key}”这一项。"))
    for key, label in V.ARCHIVE_FIELDS.items():
        v = data.get(key)
        if key == "evidence":
            continue
        if v is not None and not isinstance(v, str):
            errs.append(FieldError(key, "type", f"{label}应为文字。"))
        elif isinstance(v, str):
            errs += _length(v, key, label, 200)
    if errs:
        return errs
    if t is None:
        if not partial:
            errs += _required(None, "transfer_type", "档案转寄类型")
    elif t not in V.ARCHIVE_TYPES:
        errs += _choice(t, V.ARCHIVE_TYPES, "transfer_type", "档案转寄类型")
        t = None
    needs_address = t in V.ARCHIVE_TYPES_NEEDING_ADDRESS
    # evidence required by the type (the document's table)
    if t:
        accepted = V.ARCHIVE_TYPES[t]["evidence"]
        ev = data.get("evidence")
        if ev is not None and (not isinstance(ev, list) or not all(isinstance(x, str) for x in ev)):
            errs.append(FieldError("evidence", "type", '审核材料应为材料名称列表，例如["录取通知书"]。'))
        elif accepted and not (set(ev or []) & set(accepted)) and not (partial and ev is None):
            errs.append(
                FieldError(
                    "evidence",
                    "evidence_required",
                    f"档案转寄类型“{t}”需要提供审核材料：{'或'.join(accepted)}。请上传后在此注明。",
                )
            )
        if t == "转回生源地" and not student.get("origin_place"):
            errs.append(
                FieldError(
                    "transfer_type",
                    "origin_place_missing",
                    "选择“转回生源地”需要先在“个人信息完善”中填写生源所在地（高考前户口所在地）。",
                )
            )
    for key in V.ARCHIVE_ADDRESS_FIELDS:
        v = data.get(key)
        label = V.ARCHIVE_FIELDS[key]
        if v is None or not str(v).strip():
            if needs_address and not partial:
                errs += _required(None, key, label)
            continue
    if data.get("address"):
        errs += check_precise_address(data["address"], "address", "档案转寄地址")
        errs += check_not_home(data["address"], student.get("home_address"), "address")
    if data.get("postal_code"):
        errs += check_postal_code(data["postal_code"], data.get("address"))
    if data.get("contact_phone"):
        errs += check_phone(data["contact_phone"], "contact_phone", "联系人联系方式")
    if data.get("contact_name") or data.get("contact_phone"):
        errs += check_recipient(
            data.get("contact_name") or "",
            data.get("contact_phone") or "",
            student,
            "contact_name",
            "contact_phone",
        )
    hc = data.get("hukou_choice")
    if hc is None:
        if not partial:
            errs += _required(None, "hukou_choice", "户口迁移地址")
    elif hc not in V.HUKOU_CHOICES:
        errs.append(
            FieldError(
                "hukou_choice",
                "invalid_choice",
                "户口迁移地址请选择：not_moved_in（户口未迁入学校）、self_move（暂无法提供，申请自迁）"
                "或 address（自填具体地址）。",
            )
        )
    elif hc == "address":
        if not data.get("hukou_address"):
            if not partial:
                errs += _required(None, "hukou_address", "户口迁移具体地址")
        else:
            errs += check_precise_address(data["hukou_address"], "hukou_address", "户口迁移地址")
    elif data.get("hukou_address"):
        errs.append(
            FieldError(
                "hukou_address",
                "not_applicable",
                "只有选择“自填具体地址”时才填写户口迁移具体地址，请删去或改选。",
            )
        )
    ht = data.get("hukou_transfer_type")
    if ht is None:
        if not partial:
            errs += _required(None, "hukou_transfer_type", "户口迁移类型")
    else:
        errs += _choice(ht, V.ARCHIVE_TYPES, "hukou_transfer_type", "户口迁移类型")
    return errs


def check_ems(no: str) -> list[FieldError]:
    if not EMS_RE.match((no or "").strip().upper()):
        return [
            FieldError("ems_no", "ems_format", "EMS单号应为13位数字（如1151234567890）或2字母+9数字+2字母。")
        ]
    return []
