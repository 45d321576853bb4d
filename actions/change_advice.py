"""action_change_advice: which change form fits, and - for a signed-in student - what to do in their state."""
from __future__ import annotations

import re
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.backend import AuthFailed, BackendError, NotSignedIn, StudentApi
from actions.texts import CHANGE_KIND_NAMES, RECORD_NAMES
from bot.nlu import spec_terms as S

INTENT_KIND = {
    "change_unit": "unit_change",
    "change_unit_info": "destination_edit",
    "change_archive": "archive_edit",
    "change_personal": "personal_info",
}
KIND_RECORD = {"unit_change": "destination", "destination_edit": "destination", "archive_edit": "archive"}

GENERAL = {
    "unit_change": ("换了单位（单位名称或毕业去向类型变了），请在学校平台“手续办理”→“改签申请（单位变更）”里提交，"
                    "经学院、学校两级审核通过后，一个工作日后同步到国家平台，再按最新信息到国家平台确认。"),
    "destination_edit": ("单位没变、只是单位地址、联系人、联系方式、行业等其他信息有误，请在学校平台“手续办理”→"
                         "“毕业去向修改（单位不变）”里修改，经院校两级审核通过后，一个工作日后同步到国家平台。"),
    "archive_edit": ("档案接收单位、档案地址等户档信息要改，请在学校平台“手续办理”→“户档信息修改”里修改，经院校两级审核。"
                     "注意：档案地址要精确到街道或门牌号，不能是家庭住址，接收人不能是本人或家属。"),
    "personal_info": ("政治面貌、手机号、邮箱等个人信息，请在学校平台“手续办理”→“个人信息完善”里更新后点“提交”。"
                      "也可以对我说“填写个人信息”，我在这里帮你改。"),
}
NOT_REVIEWED_YET = re.compile(r"(还?没|未|没有)(被)?(辅导员|老师|学院)?(审|看|批|通过)")
UNREVIEWED_HINT = {
    "unit_change": "如果你的毕业去向登记还没被辅导员审核，也可以直接在“毕业去向登记”里修改后重新提交。",
    "destination_edit": "如果你的毕业去向登记还没被辅导员审核，也可以直接在“毕业去向登记”里修改后重新提交。",
    "archive_edit": "如果户档信息登记还没被辅导员审核，可以直接在“户档信息登记”里修改后重新提交。",
}


def field_from_tracker(tracker: Tracker) -> Optional[S.Term]:
    """The platform field the latest message names (entity `spec_field` from bot.nlu.spec_router), if any."""
    for e in (tracker.latest_message or {}).get("entities") or []:
        if e.get("entity") == "spec_field" and e.get("value") in S.FIELD_BY_NAME:
            return S.FIELD_BY_NAME[e["value"]]
    return None


def roster_advice(field: S.Term) -> str:
    return (f"“{field.name}”是学校按学籍信息带出的，“个人信息完善”里只需填写带*的字段，这一项不能自己改。"
            f"如果显示有误，请联系辅导员或学院就业工作负责老师核对更正。")


def kind_from_tracker(tracker: Tracker) -> str:
    intent = ((tracker.latest_message or {}).get("intent") or {}).get("name") or ""
    return INTENT_KIND.get(intent, "unit_change")


def personal_advice(kind: str, status: dict) -> str:
    form = CHANGE_KIND_NAMES[kind]
    text = GENERAL[kind]
    if (status.get("destination") or {}).get("state") == "school_approved":
        text = ("你的毕业去向已经审核通过，政治面貌、手机号等个人信息的修改要在学校平台“手续办理”→“个人信息完善”里提交，"
                "作为变更申请经学院、学校两级审核后生效。也可以对我说“填写个人信息”，我在这里帮你提交。")
    for c in status.get("pending_changes") or []:
        if c.get("kind") == kind:
            text += f"\n你已有一条“{form}”在审核中（{c.get('state_label') or c.get('state')}），请等审核结果。"
    return text


def record_advice(kind: str, status: dict) -> str:
    form = CHANGE_KIND_NAMES[kind]
    record = KIND_RECORD[kind]
    rec_name = RECORD_NAMES[record]
    rec = status.get(record) or {}
    state = rec.get("state") or "not_started"
    nat = status.get("national") or {}
    sync = status.get("sync") or {}

    for c in status.get("pending_changes") or []:
        if c.get("kind") == kind and c.get("state") in ("submitted", "college_approved"):
            return (f"你已经提交过一条“{form}”，目前{c.get('state_label') or '在审核中'}，请等待院校两级审核结果；"
                    f"审核通过后一个工作日同步到国家平台。")

    if state in ("not_started", "type_chosen", "filled"):
        return (f"你的{rec_name}还没有提交，直接在学校平台“{rec_name}”里填写正确的信息再提交就行，"
                f"不需要走“{form}”。也可以对我说“填写{rec_name[:-2]}”在这里填。")
    if state == "submitted":
        return (f"你的{rec_name}已提交、辅导员还没审核，可以直接在学校平台“{rec_name}”里修改后重新提交，"
                f"不需要走“{form}”。")
    if state in ("college_rejected", "school_rejected"):
        who = "学院" if state == "college_rejected" else "学校"
        reason = rec.get("rejection_reason") or "未注明"
        return (f"你的{rec_name}{who}审核未通过（原因：{reason}），直接在学校平台“{rec_name}”里改正后重新提交即可，"
                f"不需要走“{form}”。")
    # reviewed: only the change request remains
    text = (f"你的{rec_name}已经通过审核，不能直接修改了，请在学校平台“手续办理”→“{form}”里提交变更，"
            f"经学院、学校两级审核通过后，一个工作日后同步到国家平台。")
    if nat.get("confirmed") or nat.get("needs_reconfirm"):
        text += "你已经在国家平台确认过毕业去向：变更审核通过并同步后，需要再到国家平台确认一次。"
    elif sync.get("synced"):
        text += "同步后请按最新信息到国家平台确认毕业去向。"
    if kind == "archive_edit":
        text += "档案地址要精确到街道或门牌号，不能是家庭住址，接收人不能是本人或家属。"
    return text


async def advise(kind: str, dispatcher: CollectingDispatcher, tracker: Tracker) -> None:
    """The change path for `kind`; a field named in the message (spec table) decides the path instead."""
    field = field_from_tracker(tracker)
    prefix = ""
    if field is not None:
        if field.path == S.ROSTER:
            dispatcher.utter_message(text=roster_advice(field))
            return
        kind = field.path
        prefix = {"工作单位": "", "毕业去向类型": "毕业去向类型（就业形式）要改："}.get(field.name, f"“{field.name}”要改：")
    api = StudentApi(tracker)
    status: Optional[dict] = None
    note = ""
    if api.signed_in:
        try:
            status = await api.get("/api/me/status") or {}
        except AuthFailed:
            note = "（你的登录已过期，重新登录后我可以按你的办理进度具体说明。）"
        except NotSignedIn:
            pass
        except BackendError:
            note = "（暂时查不到你的办理进度，以上是通用做法。）"
    if status is None:
        text = GENERAL[kind]
        said = (tracker.latest_message or {}).get("text") or ""
        if kind in UNREVIEWED_HINT and NOT_REVIEWED_YET.search(said):
            # "辅导员还没看，我还能自己改吗": that case first
            record = RECORD_NAMES[KIND_RECORD[kind]]
            text = (f"辅导员还没审核的话，可以直接在学校平台“{record}”里修改后重新提交，不需要走"
                    f"“{CHANGE_KIND_NAMES[kind]}”；已经审核了再走变更。") + text
        elif kind in UNREVIEWED_HINT:
            text += UNREVIEWED_HINT[kind]
        text += note or "登录后我可以按你的办理进度告诉你具体怎么做。"
    elif kind == "personal_info":
        text = personal_advice(kind, status)
    else:
        text = record_advice(kind, status)
    dispatcher.utter_message(text=prefix + text)


class ActionChangeAdvice(Action):
    def name(self) -> Text:
        return "action_change_advice"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        await advise(kind_from_tracker(tracker), dispatcher, tracker)
        return []
