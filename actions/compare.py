"""action_compare: "X和Y有什么区别" / "该走X还是Y" for two change forms, two 档案转寄类型 or the two
platforms.

Table-driven: the names and their one-line descriptions come from contracts/spec_terms.py (taken from the
process document), so every pair of menu items or archive types is answered without its own example.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from contracts import spec_terms as S

CHANGE_FORMS = ("改签申请（单位变更）", "毕业去向修改（单位不变）", "户档信息修改", "个人信息完善")
# the wording around the compared items is in bot/domain/compare.yml, one response per kind of item
RESPONSES = {
    "form": "utter_compare_forms",
    "archive_type": "utter_compare_archive_types",
    "field_kind": "utter_compare_archive_types",
    "platform": "utter_compare_platforms",
}


def compare_reply(text: str, entity_values: list[str]) -> tuple[str, str]:
    """(response, {items}): the compared names with their one-line descriptions, one per line."""
    terms = S.compared(text)
    if len(terms) < 2:
        terms = []
        for v in entity_values:
            t = S.ITEM_BY_NAME.get(v)
            if t is not None and t not in terms and (not terms or t.group == terms[0].group):
                terms.append(t)
    if len(terms) < 2:  # "这几种类型有什么区别": the whole kind the message is about
        kind = (
            "archive_type"
            if "类型" in text or any(t.group == "archive_type" for t in terms)
            else "platform"
            if "平台" in text
            else "form"
        )
        names = {"form": CHANGE_FORMS}.get(kind)
        terms = [t for t in S.ITEMS if t.group == kind and (names is None or t.name in names)]
    items = "\n".join(f"· {t.name}：{t.about}。" for t in terms)
    return RESPONSES.get(terms[0].group, "utter_compare"), items


class ActionCompare(Action):
    def name(self) -> str:
        return "action_compare"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        msg = tracker.latest_message or {}
        values = [e.get("value") for e in msg.get("entities") or [] if e.get("entity") == "spec_item"]
        response, items = compare_reply(msg.get("text") or "", values)
        dispatcher.utter_message(response=response, items=items)
        return []
