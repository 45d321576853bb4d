"""Shared wording: record names, dates and state explanations in the student's terms."""
from __future__ import annotations

from typing import Any, Optional

RECORD_NAMES = {"destination": "毕业去向登记", "archive": "户档信息登记"}
STEP_NAMES = ["毕业去向类型", "填写信息", "填写完成已提交", "学院审核完成", "学校审核完成"]
CHANGE_KIND_NAMES = {
    "unit_change": "改签申请（单位变更）",
    "destination_edit": "毕业去向修改（单位不变）",
    "archive_edit": "户档信息修改",
    "personal_info": "个人信息完善",
}
MAILING_STATES = {"submitted": "已提交，等待寄出", "shipped": "已寄出", "delivered": "已送达"}
REVIEWED = {"college_approved", "school_approved"}
EDITABLE = {"not_started", "type_chosen", "filled", "submitted", "college_rejected", "school_rejected"}


def cn_date(d: Optional[str]) -> str:
    """'2026-11-25' -> '2026年11月25日'; anything else unchanged."""
    if not d or not isinstance(d, str):
        return ""
    parts = d[:10].split("-")
    if len(parts) == 3 and all(p.isdigit() for p in parts):
        return f"{int(parts[0])}年{int(parts[1])}月{int(parts[2])}日"
    return d


def record_line(kind: str, rec: dict[str, Any]) -> str:
    name = RECORD_NAMES[kind]
    state = rec.get("state") or "not_started"
    label = rec.get("state_label") or state
    step = rec.get("step")
    if state == "not_started":
        return f"· {name}：还没有开始填写。请在学校平台“手续办理”→“{name}”里填写并提交，也可以让我在这里帮你填。"
    pos = f"第{step}步/共5步，" if isinstance(step, int) and 1 <= step <= 5 else ""
    line = f"· {name}：{pos}{label}。"
    if state in ("college_rejected", "school_rejected"):
        who = "学院" if state == "college_rejected" else "学校"
        reason = rec.get("rejection_reason") or "未注明"
        line += (f"\n  {who}审核未通过，原因：{reason}。请按原因在学校平台“{name}”里修改后再次提交，"
                 f"再由院校两级审核。")
    elif state in ("type_chosen", "filled"):
        line += "\n  还没有提交，填完后记得点“提交”。"
    elif state == "submitted":
        line += "\n  辅导员审核前你仍可以直接修改后重新提交。"
    return line
