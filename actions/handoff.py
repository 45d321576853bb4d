"""action_handoff (转人工/找老师): the student's college employment contact, or the general one."""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.backend import AuthFailed, BackendError, StudentApi, request

FALLBACK = ("我这里暂时查不到老师的联系方式。紧急情况请联系你所在学院负责就业工作的老师，"
            "或到学校就业指导中心咨询；也可以稍后再对我说“转人工”。")


def contact_text(c: dict, title: str) -> str:
    parts = [title]
    name = c.get("name") or c.get("office") or ""
    college = c.get("college") or c.get("college_name") or ""
    who = "".join(x for x in (college, name) if x)
    if who:
        parts.append(f"· 联系人：{who}")
    for key, label in (("phone", "电话"), ("email", "邮箱"), ("office_hours", "办公时间"), ("hours", "办公时间"),
                       ("office_location", "地点"), ("location", "地点"), ("website", "网站")):
        if c.get(key):
            parts.append(f"· {label}：{c[key]}")
    return "\n".join(parts)


def pick_contact(body: Any) -> Optional[dict]:
    if not isinstance(body, dict):
        return None
    for key in ("contact", "general"):
        if isinstance(body.get(key), dict):
            return body[key]
    return body if any(k in body for k in ("phone", "email", "name")) else None


class ActionHandoff(Action):
    def name(self) -> Text:
        return "action_handoff"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        api = StudentApi(tracker)
        note = ""
        if api.signed_in:
            try:
                contact = pick_contact(await api.get("/api/me/contact"))
                if contact:
                    dispatcher.utter_message(text=contact_text(
                        contact, "我这边是智能助手，人工咨询请联系你所在学院负责就业工作的老师：")
                        + "\n说明你的学号和遇到的问题，老师会帮你处理。")
                    return []
            except AuthFailed:
                note = "\n（你的登录已过期，重新登录后我可以给你所在学院老师的联系方式。）"
            except BackendError:
                dispatcher.utter_message(text=FALLBACK)
                return []
        try:
            _, body = await request("GET", "/api/contacts")
            general = pick_contact(body)
        except BackendError:
            general = None
        if not general:
            dispatcher.utter_message(text=FALLBACK)
            return []
        text = contact_text(general, "人工咨询可以联系学校就业指导中心的老师：")
        if not note:
            text += "\n登录后我可以给你所在学院负责就业工作的老师的联系方式。"
        dispatcher.utter_message(text=text + note)
        return []
