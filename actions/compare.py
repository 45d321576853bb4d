"""action_compare: "X和Y有什么区别" / "该走X还是Y" for two change forms, two 档案转寄类型 or the two platforms.

Table-driven: the names and their one-line descriptions come from bot/nlu/spec_terms.py (taken from the
process document), so every pair of menu items or archive types is answered without its own example.
"""
from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot.nlu import spec_terms as S

FORMS_HINT = ("怎么选：单位换了（单位名称或毕业去向类型变了）走“改签申请（单位变更）”；单位没换、只是单位其他信息有误走"
              "“毕业去向修改（单位不变）”；档案和户口信息走“户档信息修改”；政治面貌、手机等本人信息走“个人信息完善”。"
              "登记还没被辅导员审核时，直接在“毕业去向登记”或“户档信息登记”里改后重新提交即可。")
TYPES_HINT = ("按你的去向和能提供的审核材料选；选错了，辅导员审核前直接在“户档信息登记”里改，审核后走“户档信息修改”。")
PLATFORM_HINT = "顺序是先在学校平台登记、经院校两级审核，一个工作日后同步到国家平台，再到国家平台确认；信息有误只在学校平台改。"
CHANGE_FORMS = ("改签申请（单位变更）", "毕业去向修改（单位不变）", "户档信息修改", "个人信息完善")
HINTS = {"form": FORMS_HINT, "archive_type": TYPES_HINT, "platform": PLATFORM_HINT, "field_kind": TYPES_HINT}


def compare_text(text: str, entity_values: List[str]) -> str:
    terms = S.compared(text)
    if len(terms) < 2:
        terms = []
        for v in entity_values:
            t = S.ITEM_BY_NAME.get(v)
            if t is not None and t not in terms and (not terms or t.group == terms[0].group):
                terms.append(t)
    if len(terms) < 2:  # "这几种类型有什么区别": the whole kind the message is about
        kind = ("archive_type" if "类型" in text or any(t.group == "archive_type" for t in terms) else
                "platform" if "平台" in text else "form")
        names = {"form": CHANGE_FORMS}.get(kind)
        terms = [t for t in S.ITEMS if t.group == kind and (names is None or t.name in names)]
    lines = ["区别如下："] + [f"· {t.name}：{t.about}。" for t in terms]
    lines.append(HINTS.get(terms[0].group, ""))
    return "\n".join(line for line in lines if line)


class ActionCompare(Action):
    def name(self) -> Text:
        return "action_compare"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        msg = tracker.latest_message or {}
        values = [e.get("value") for e in msg.get("entities") or [] if e.get("entity") == "spec_item"]
        dispatcher.utter_message(text=compare_text(msg.get("text") or "", values))
        return []
