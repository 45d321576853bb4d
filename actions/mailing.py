"""Archive-mailing request: check eligibility, show the archive details, submit only after confirmation."""
from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.backend import ApiError, AuthFailed, BackendError, NotSignedIn, StudentApi, say, turn_key
from actions.texts import MAILING_STATES, cn_date

PENDING = "mailing_pending"

ARCHIVE_LABELS = [
    ("transfer_type", "档案转寄类型"), ("unit_name", "档案转寄单位名称"), ("address", "档案转寄地址"),
    ("postal_code", "邮政编码"), ("contact_name", "档案转寄联系人"), ("contact_phone", "联系人联系方式"),
]


MAILING_HOWTO = ("档案邮寄申请：完成国家平台毕业去向确认一个工作日后，有档案邮寄需求的同学在学校平台“手续办理”左侧点"
                 "“档案邮寄申请”→“申请邮寄”，核对档案信息无误后点“确认并提交”。信息有误先到对应的修改菜单改好"
                 "（户档信息在“户档信息修改”）。用统一身份认证登录后对我说“申请档案邮寄”，我可以帮你查能否申请、核对信息并提交。")


def request_text(req: dict) -> str:
    state = MAILING_STATES.get(req.get("state"), req.get("state") or "已提交")
    text = f"你已经提交过档案邮寄申请，不需要重复提交。当前状态：{state}"
    if req.get("ems_no"):
        text += f"，EMS单号 {req['ems_no']}"
    return text + "。"


def ineligible_text(elig: dict) -> str:
    reason = elig.get("reason")
    msg = elig.get("reason_message") or ""
    frm = elig.get("eligible_from")
    if reason == "too_early" and frm:
        text = f"现在还不能申请档案邮寄：国家平台确认一个工作日后才能申请，你{cn_date(frm)}起可以申请。"
    elif reason == "not_confirmed":
        text = ("现在还不能申请档案邮寄：需要先在国家平台完成毕业去向确认，确认一个工作日后才能在学校平台申请。")
        if frm:
            text += f"（按目前进度最早{cn_date(frm)}起）"
    elif reason == "archive_not_approved":
        text = "现在还不能申请档案邮寄：你的户档信息登记还没有通过院校两级审核。"
    else:
        text = "现在还不能申请档案邮寄。"
        if frm:
            text += f"{cn_date(frm)}起可以申请。"
    if msg and reason not in ("too_early", "not_confirmed") and msg not in text:
        text += f"\n说明：{msg}"
    return text


def archive_text(archive: dict) -> str:
    lines = ["请核对档案将寄往的信息："]
    for key, label in ARCHIVE_LABELS:
        val = archive.get(key)
        if val:
            lines.append(f"· {label}：{val}")
    lines.append("信息无误请回复“确认提交”；有误请回复“先不提交”，再到学校平台“户档信息修改”里修改。")
    return "\n".join(lines)


class ActionMailingCheck(Action):
    def name(self) -> Text:
        return "action_mailing_check"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        api = StudentApi(tracker)
        if not api.signed_in:  # "档案邮寄" from someone not signed in: the how-to, then the offer
            dispatcher.utter_message(text=MAILING_HOWTO)
            return [SlotSet(PENDING, False)]
        try:
            data = await api.get("/api/me/mailing") or {}
        except BackendError as e:
            say(dispatcher, e)
            return [SlotSet(PENDING, False)]
        req = data.get("request")
        if req:
            dispatcher.utter_message(text=request_text(req))
            return [SlotSet(PENDING, False)]
        elig = data.get("eligibility") or {}
        if not elig.get("eligible"):
            dispatcher.utter_message(text=ineligible_text(elig))
            return [SlotSet(PENDING, False)]
        dispatcher.utter_message(
            text=archive_text(data.get("archive") or {}),
            buttons=[{"title": "确认提交", "payload": "/affirm"}, {"title": "先不提交", "payload": "/deny"}],
        )
        return [SlotSet(PENDING, True)]


class ActionMailingSubmit(Action):
    def name(self) -> Text:
        return "action_mailing_submit"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        api = StudentApi(tracker)
        try:
            status, body = await api.call("POST", "/api/me/mailing", json={},
                                          headers={"Idempotency-Key": turn_key(tracker, "mailing")})
        except ApiError as e:
            if e.code == "not_eligible":
                dispatcher.utter_message(text=ineligible_text(e.body.get("eligibility") or {
                    "reason": e.body.get("reason"), "eligible_from": e.body.get("eligible_from"),
                    "reason_message": e.message}))
            else:
                say(dispatcher, e)
            return [SlotSet(PENDING, False)]
        except BackendError as e:
            say(dispatcher, e)
            return [SlotSet(PENDING, False)]
        body = body or {}
        req = body.get("request") or body
        if body.get("already_submitted"):
            dispatcher.utter_message(text=request_text(req))
        else:
            dispatcher.utter_message(text="已提交档案邮寄申请。学校寄出后会生成EMS单号，之后问我“档案寄出了吗”就能查到。")
        return [SlotSet(PENDING, False)]


class ActionMailingCancel(Action):
    def name(self) -> Text:
        return "action_mailing_cancel"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        dispatcher.utter_message(text="好的，先不提交档案邮寄申请。如果档案信息有误，请在学校平台“户档信息修改”里修改，"
                                      "审核通过后再来申请。")
        return [SlotSet(PENDING, False)]


# --- "什么时候能申请档案邮寄": the general rule (utter_mailing_when) is answered to everyone by Rasa itself; this
# light follow-up adds the signed-in student's own date. It says NOTHING without a token, so an anonymous student
# gets exactly the FAQ answer, and that answer has already been sent when this action runs (action server down or
# slow: the student still has it).
HINT_TIMEOUT = 1.5  # seconds: an optional extra must not hold the FAQ answer for the full backend timeout
HINT_UNAVAILABLE = "（暂时查不到你本人的具体日期，稍后问我“我的进度”即可查看。）"


def date_hint_text(data: dict) -> str:
    req = data.get("request")
    if req:
        return "按你的办理进度：" + request_text(req)
    elig = data.get("eligibility") or {}
    if elig.get("eligible"):
        return "按你的办理进度：你现在就可以申请档案邮寄了，对我说“申请档案邮寄”即可。"
    frm = elig.get("eligible_from")
    if elig.get("reason") == "too_early" and frm:
        return f"按你的办理进度：你{cn_date(frm)}起可以申请档案邮寄。"
    return "按你的办理进度：" + ineligible_text(elig)


class ActionMailingDateHint(Action):
    def name(self) -> Text:
        return "action_mailing_date_hint"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        api = StudentApi(tracker)
        if not api.signed_in:
            return []
        try:
            _, data = await api.call("GET", "/api/me/mailing", timeout=HINT_TIMEOUT)
        except (AuthFailed, NotSignedIn, ApiError):
            return []  # no verified student (expired token, staff token): the general answer is all they get
        except BackendError:
            dispatcher.utter_message(text=HINT_UNAVAILABLE)
            return []
        dispatcher.utter_message(text=date_hint_text(data or {}))
        return []
