"""What the assistant says when it is not sure (issue 20; decision: bot/nlu/confidence.py, docs/nlu.md "Round
5").

action_uncertain (intents nlu_fallback and near_domain):
- the decision offered two close FAQ topics (parse-data key `uncertain`: {"outcome": "clarify", "options":
  [...]}) -> ask which one, with a button per topic (payload `/choose_topic{"topic": ...}`); the options are
  kept in the slot `clarify_options` so "第二个" is answered too;
- the question is near-domain or too unsure to answer (`near_domain`, or outcome "abstain") -> the documents
  do not cover it, who can answer it (the college's employment teacher, 转人工; for another office's business,
  that office: contracts/spec_terms.OFF_DOCUMENT_OWNERS), then the contact: a signed-in student's college
  contact, else the career center's (the same lookup as 转人工);
- anything else (the FallbackClassifier's own nlu_fallback: garbled or ambiguous short input) -> ask to
  rephrase.
action_answer_topic (intent choose_topic): the chosen topic's FAQ answer (by name, so the NLG adds its 依据
line).
"""

from __future__ import annotations

import re
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.handoff import ActionHandoff
from contracts.outcome import UNCERTAIN
from contracts.spec_terms import off_document_owner

OPTIONS_SLOT = "clarify_options"
# Short button titles of the FAQ topics (the answers are in bot/domain/faq.yml); a topic without a title is
# never offered as a choice.
TOPIC_TITLES = {
    "principle": "学校平台登记、国家平台确认的原则",
    "fix_wrong_info": "信息有误在哪里改",
    "login": "怎么登录学校平台",
    "login_problem": "登录不上怎么办",
    "menu_location": "“手续办理”菜单在哪",
    "overall_steps": "整体办理流程",
    "personal_info": "个人信息完善怎么填",
    "destination_steps": "毕业去向登记的步骤",
    "signing_info_fields": "签约信息要填什么",
    "archive_registration_fields": "户档信息登记要填什么",
    "edit_before_review": "提交后还能不能改",
    "review_levels": "院校两级审核",
    "rejected": "审核没通过怎么办",
    "sync_timing": "什么时候同步到国家平台",
    "national_confirm": "国家平台确认",
    "mailing_prereq": "申请档案邮寄的前提",
    "mailing_steps": "档案邮寄申请怎么操作",
    "mailing_time": "学校什么时候寄档案",
    "mailing_info_wrong": "邮寄时发现信息有误",
    "address_rules": "档案接收地址的要求",
    "home_address": "档案能不能寄到家里",
    "recipient_rules": "档案接收人能不能写自己",
    "hand_carry": "档案能不能自己带",
    "archive_types_overview": "档案转寄类型有哪些",
    "type_hometown": "转回生源地",
    "type_signed_unit": "签约单位接收",
    "type_custody": "托管单位接收（人才中心）",
    "type_superior": "上级主管单位接收",
    "type_further_same": "升学本单位接收（读本校）",
    "type_further_other": "升学外单位接收（读外校）",
    "type_uncertain": "暂不确定",
    "type_other_cases": "出国、待就业等选哪种类型",
    "shengyuandi": "生源地是什么",
    "hukou_choices": "户口迁移地址怎么填",
    "lost_tripartite": "三方协议/推荐表丢了",
    "archive_seal": "档案封存申请",
    "xuandiaosheng": "选调生报名推荐",
    "salary_passbook": "发薪存折申请",
    "baodaozheng": "报到证（已取消）",
    "credit_code": "统一社会信用代码",
    "postal_code": "邮政编码",
    "destination_categories": "毕业去向类型有哪些",
    "no_job_yet": "还没找到工作怎么登记",
    "emergency": "紧急情况找谁",
    "deadline": "登记截止时间",
    "gaiqian": "改签申请（单位变更）",
    "quxiang_xiugai": "毕业去向修改（单位不变）",
    "hudang_xiugai": "户档信息修改",
    "reconfirm_after_change": "修改后要重新确认吗",
    "mailing_cost": "档案邮寄的费用和时间",
}
FIRST = re.compile(r"第一|^\s*1\s*$|选\s*1|前(面|一)|上面")
SECOND = re.compile(r"第二|^\s*2\s*$|选\s*2|后(面|一)|下面")


def topic_of(key: Any) -> str | None:
    """The topic name of `faq/<topic>` or `<topic>` when it is a known FAQ topic, else None."""
    if not isinstance(key, str):
        return None
    name = key.split("/", 1)[1] if key.startswith("faq/") else key
    return name if name in TOPIC_TITLES else None


class ActionUncertain(Action):
    def name(self) -> str:
        return "action_uncertain"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        msg = tracker.latest_message or {}
        given = msg.get(UNCERTAIN)
        info: dict[str, Any] = given if isinstance(given, dict) else {}
        intent = (msg.get("intent") or {}).get("name")
        options = [t for t in (topic_of(k) for k in info.get("options") or []) if t]
        if info.get("outcome") == "clarify" and len(options) == 2 and options[0] != options[1]:
            lines = "\n".join(f"{i}. {TOPIC_TITLES[t]}" for i, t in enumerate(options, 1))
            buttons = [
                {"title": TOPIC_TITLES[t], "payload": f'/choose_topic{{"topic": "{t}"}}'} for t in options
            ]
            dispatcher.utter_message(response="utter_clarify", options=lines, buttons=buttons)
            return [SlotSet(OPTIONS_SLOT, options)]
        if intent == "near_domain" or info.get("outcome") == "abstain":
            dispatcher.utter_message(response="utter_abstain")
            owner = off_document_owner(msg.get("text") or "")
            if owner:  # another office's business (contracts/spec_terms.OFF_DOCUMENT_OWNERS): say whose
                dispatcher.utter_message(response="utter_abstain_owner", owner=owner)
            await ActionHandoff().contacts(dispatcher, tracker)
            return []
        dispatcher.utter_message(response="utter_default")
        return []


class ActionAnswerTopic(Action):
    def name(self) -> str:
        return "action_answer_topic"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        topic = topic_of(next(tracker.get_latest_entity_values("topic"), None))
        if topic is None:
            offered = [t for t in (topic_of(k) for k in tracker.get_slot(OPTIONS_SLOT) or []) if t]
            text = (tracker.latest_message or {}).get("text") or ""
            if len(offered) == 2:
                topic = offered[0] if FIRST.search(text) else offered[1] if SECOND.search(text) else None
        if topic is None:
            dispatcher.utter_message(response="utter_clarify_lost")
            return []
        dispatcher.utter_message(response=f"utter_faq/{topic}")
        return [SlotSet(OPTIONS_SLOT, None)]
