"""NLU components: the platform's own names (contracts/spec_terms.py) as entities, and routing rules on top of
the statistical classifier (bot/nlu/linear_classifier.py, which sets the intent and ranks the faq answers of
every message). SpecRouter runs after it (rules 1, 2, 4-6), SignedInRouter after SpecRouter, before the
FallbackClassifier (rule 3 and: an unsure intent yields to a sure FAQ answer).

1. A field named with a change word ("单位行业选错了", "邮编写错了"), and not asking about its format or
   meaning ("信用代码一直提示格式不对"), is a change request for that field: the intent
   becomes the change_* intent of the field's path and the field is an entity (`spec_field`), so
   action_change_advice names the right form for every field of the document, trained on or not.
   Corrections inside a form (`correct_field`) and the personal actions are left alone.
2. Two names of one kind (two change forms, two 档案转寄类型, the two platforms) joined by a comparison word
   ("X和Y有什么区别", "该走X还是Y") become intent `compare` with both as `spec_item` entities.
3. A signed-in student (the channel put a verified student's token in the message metadata) asking a general
   question whose answer depends on their own state gets the personal intent: faq/rejected, overall_steps,
   review_levels, sync_timing, national_confirm -> check_status (the general answer without its sign-in hint,
   then their progress: rejection reason and where to fix it, dates), faq/mailing_prereq -> mailing_when (the
   rule, then their date).
4. An archive-type or menu name alone ("那签约单位接收呢") that the classifier is unsure about is a question
   about it: faq (with the answer the classifier ranked first).
5. apply_mailing (a request to submit the mailing) without a mailing word (寄/邮/档案/EMS/快递) is not one:
   every training example names the mailing, and the classifier read a bare "我要…" ("我要从哪开始办") as it;
   the next intent of the ranking is taken (the FallbackClassifier then asks back when that one is unsure).
6. check_status asking what to do ("审核被退回了我该做什么", "…怎么办") is a question with a general answer:
   faq (no check_status example asks it), with the answer the classifier ranked first; signed in, rule 3 still
   brings the student's own case (faq/rejected -> check_status after the general answer); not signed in, the
   general answer (which says what signing in adds) instead of only "please sign in".
7. "Why can't I mail my archive yet" ("怎么我现在还不能寄档案": a why with a can't and a mailing word,
   naming no destination or courier) is mailing_when, whatever the classifier made of it (it shares 寄档案
   with the home-address rule, faq/home_address, whose questions name where: "档案为什么不能寄到家里" stays
   there): the rule and, signed in, the student's own date (eval/cases/personal_v2.jsonl pv2-mailing-03).
Every message also gets the names it mentions as entities. No training; a dictionary scan (~0.1 ms).
While a form asks for a slot (the tracker has an active loop and a requested slot) no rule changes the intent:
whatever the student types is the form's to take (a question the form handles, or an answer); only a choice of
the platform's lists typed alone ("商业和服务业人员") that the classifier took for an intent the form refuses
becomes `faq`, an intent the form's from_text mapping accepts, and a stop word typed alone ("取消", "算了",
"退出": FORM_STOP) becomes `stop_form`, which pauses the form. Otherwise only the entities are added (a
question typed while the form asks is answered by the form's validation action, actions/forms/validate.py,
which then asks again). A signed-in student's own-case questions in their own words ("我的档案最后去哪个单位",
"我还缺什么": OWN_CASE) become check_status; every signed-in message carries the entity `signed_in` (the slot
of the signed-in answer variations).
"""

from __future__ import annotations

import re
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import (
    ENTITIES,
    INTENT,
    INTENT_NAME_KEY,
    INTENT_RANKING_KEY,
    PREDICTED_CONFIDENCE_KEY,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from contracts import spec_terms as S
from contracts.forms import INTERRUPTING

FIELD_ENTITY, ITEM_ENTITY = "spec_field", "spec_item"
# intents a field-change rule may replace: the ones that answer questions (never form turns or actions)
REROUTABLE = {
    "faq",
    "out_of_scope",
    "nlu_fallback",
    "change_unit",
    "change_unit_info",
    "change_archive",
    "change_personal",
    "check_status",
    "mailing_when",
    "greet",
    "bot_challenge",
    "handoff",
    "compare",
    None,
}
COMPARE_FROM = {
    "faq",
    "out_of_scope",
    "nlu_fallback",
    "change_unit",
    "change_unit_info",
    "change_archive",
    "change_personal",
    "check_status",
    "apply_mailing",
    "mailing_when",
    "fill_profile",
    "fill_destination",
    "fill_archive",
    "greet",
    "bot_challenge",
    "compare",
    None,
}
SHORT_MIN_CONFIDENCE = 0.6
# A signed-in routing needs the FAQ retrieval to be this sure of its answer, and never takes a form's choice
# typed alone: form answers ("非困难生", "农、林、牧、渔业") are classified faq with some answer at 4-20 %,
# and must reach the form (the routed intents are not form answers), while general questions get 40-97 %.
ROUTE_MIN_FAQ = 0.3
# the intents a form's from_text mapping refuses (not_intent in bot/domain/forms.yml)
FORM_BLOCKING = frozenset(INTERRUPTING)
# "取消", "算了", "退出" typed alone while a form asks: the classifier reads several as deny, an answer the
# forms' from_text mappings take; a form never traps a student, so these pause it (stop_form,
# data/rules/forms.yml)
FORM_STOP = frozenset(
    {
        "取消",
        "算了",
        "退出",
        "不填了",
        "先不填了",
        "先不填",
        "不填",
        "不弄了",
        "先不弄了",
        "不想填了",
        "别填了",
        "停",
        "停止",
        "取消填写",
        "退出填写",
        "退出填表",
        "不填了谢谢",
    }
)
HOW_CUE = re.compile(r"怎么办|咋办|怎么处理|如何处理|怎么弄|怎么改|该做什么|要做什么|该干嘛|该怎么|怎么整")
MAILING_WORD = re.compile(r"寄|邮|档案|ems|快递", re.I)  # every apply_mailing example has one
# rule 7: why the mailing cannot be applied for yet; a question naming where the archive goes or how it
# travels is about the address or courier rules instead ("为什么不能寄到家里", "为啥不能寄给本人",
# "为什么不能用顺丰寄")
MAILING_NOT_YET = re.compile(
    r"(?:为什么|为啥|怎么|咋|凭什么|什么原因)[^，。,？?]{0,8}(?:不能|不让|没法|没办法|无法|不可以|不给|不行)"
    r"[^，。,？?]{0,6}(?:寄|邮)|(?:为什么|为啥|怎么|咋)[^，。,？?]{0,10}(?:寄|申请|提交)不了"
)
MAILING_NAMED = re.compile(r"寄|邮")  # "选调生为啥申请不了" is not about the mailing
MAILING_WHERE = re.compile(r"(?:寄|邮|送)(?:到|回|给)|家|地址|本人|自己|顺丰|快递|机要|ems", re.I)


def _choices() -> frozenset:
    from contracts import vocabulary as C  # plain Python: the platform's own choice lists

    out = (
        set(C.POLITICAL_STATUSES)
        | set(C.HARDSHIP_CATEGORIES)
        | set(C.UNIT_NATURES)
        | set(C.INDUSTRIES)
        | set(C.JOB_CATEGORIES)
        | set(C.ARCHIVE_TYPES)
    )
    for table in (C.DESTINATION_TYPES, C.HUKOU_CHOICES):
        out |= {v for v in table.values() if isinstance(v, str)} | {k for k in table if isinstance(k, str)}
    return frozenset(_bare(c) for c in out)


def _bare(text: str) -> str:
    return "".join(ch for ch in text if not ch.isspace() and ch not in "。.!！")


FORM_CHOICES = _choices()
# an unsure intent (< UNSURE) yields to a sure FAQ answer (>= FAQ_SURE); the classifier's probabilities: held
# out in cross-validation, 4 % of the intents are below 0.5, and answers at >= 0.7 are right 95 % of the time
UNSURE, FAQ_SURE = 0.5, 0.7
# general questions whose answer depends on the student's own state: signed in, they get the general answer
# (action_check_status repeats it, see ROUTED_FROM) followed by their own case
CHANGE_INTENTS = {"change_unit", "change_unit_info", "change_archive", "change_personal"}
SIGNED_IN_ROUTES = {
    "faq/rejected": "check_status",
    "faq/overall_steps": "check_status",
    "faq/review_levels": "check_status",
    "faq/sync_timing": "check_status",
    "faq/national_confirm": "check_status",
    "faq/mailing_prereq": "mailing_when",
    "faq/mailing_time": "mailing_when",
}  # when the school mails: from the student's own dates
ROUTED_FROM = "routed_from"  # parse-data key: the FAQ answer a signed-in routing replaced
# the entity behind the slot `signed_in` (bot/domain/core.yml): answers that tell a visitor what signing in
# adds have a variation for signed-in students, chosen on this slot
SIGNED_IN_ENTITY = "signed_in"
# A signed-in student asking about their own record in their own words ("我的档案最后去哪个单位",
# "我还缺什么", "学校说我哪里填错了"): the classifier reads many of these as the general FAQ topic they share
# words with (the archive types, the receiver rules) or as out of scope; with a first-person word and one of
# these shapes of a question about one's own case, they get the student's case (action_check_status).
FIRST_PERSON = re.compile(r"我|俺|咱|本人")
OWN_CASE = re.compile(
    "|".join(
        [
            # where the archive goes
            r"档案.{0,8}(?:寄到|寄去|寄往|转到|转去|转往|去|到|落)了?(?:哪|什么地方|啥地方)",
            r"(?:接收|转寄)(?:单位|地址).{0,4}(?:是|叫|在)?(?:哪|什么|啥)",
            r"(?:接收人|联系人|收件人)(?:是|叫)?(?:谁|哪位|什么|啥)",
            r"填的(?:是)?(?:啥|什么|哪)",  # what did I fill in
            r"(?:还|都)(?:缺|差|剩)(?:什么|啥|哪|几)|(?:缺|差|剩)(?:些)?(?:什么|啥|哪些)",  # what is missing
            r"(?:哪些|什么|啥|哪).{0,6}没(?:填|交|弄|办|完成|提交)",
            # rejected
            r"(?:哪里|哪儿|哪项|什么地方|为什么|为啥|原因).{0,8}(?:填错|不对|没通过|不通过|没过|驳回|退回|打回)",
            r"(?:学校|学院|老师|辅导员|审核).{0,3}说我",
            # dates
            r"(?:哪天|哪一天|什么时候|啥时候|几号).{0,8}(?:同步|确认|审核|通过)[^，,。？?]{0,8}(?:的|了)[吗呀啊？?]?$",
            r"(?:同步|确认|审核|通过)(?:的|了)?.{0,4}(?:哪天|哪一天|什么时候|啥时候|几号)",
            r"(?:填好|交|提交|弄好|办好)了(?:吗|没)",
            # arrival
            r"档案.{0,6}(?:什么时候|啥时候|多久|几天|哪天)(?:能|才能|会|可以)?(?:到|寄到|送到|收到|寄出)",
            r"(?:接下来|下一步|然后|现在)我?(?:该|要|需要|得|应该)?(?:干嘛|干啥|做什么|干什么|做啥|办什么|弄什么|怎么办)",
        ]
    )
)
# asking where one's own case stands needs no first-person word ("档案邮寄到哪一步了", "档案签收了吗")
OWN_PROGRESS = re.compile(
    r"到哪一?步了|办到哪了|走到哪了|什么状态|啥状态|寄出(?:去)?了?(?:吗|没)|签收了?(?:吗|没)"
    r"|(?:快递|EMS|邮件|包裹|档案)(?:现在)?(?:到哪|寄到哪|在哪)",
    re.I,
)
# the intents such a question may have been read as (never a form turn, a mailing request or another action)
OWN_CASE_FROM = {
    "faq",
    "out_of_scope",
    "nlu_fallback",
    "correct_field",
    "greet",
    "goodbye",
    "thanks",
} | CHANGE_INTENTS


def _signed_in(message: Message) -> bool:
    meta = message.get("metadata")
    return isinstance(meta, dict) and bool(meta.get("token")) and meta.get("role", "student") == "student"


def _asks_form_slot(tracker: DialogueStateTracker | None) -> bool:
    if tracker is None:
        return False
    try:
        return bool(tracker.active_loop_name) and bool(tracker.get_slot("requested_slot"))
    except Exception:  # a tracker without the slot (no forms in the domain)
        return False


def _faq_answer(message: Message) -> dict[str, Any]:
    """The selected FAQ answer of the message (the classifier's `response_selector`), {} when there is
    none."""
    selector = message.get("response_selector") or {}
    sel = selector.get("faq") or selector.get("default") or {}
    answer = sel.get("response")
    return answer if isinstance(answer, dict) else {}


def _faq_confidence(message: Message) -> float:
    return float(_faq_answer(message).get("confidence") or 0.0)


def _faq_key(message: Message) -> str | None:
    return _faq_answer(message).get("intent_response_key") or None


@DefaultV1Recipe.register(
    [DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR],
    is_trainable=False,
)
class SpecRouter(GraphComponent):
    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> SpecRouter:
        return cls()

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data

    @staticmethod
    def _set_intent(message: Message, name: str) -> None:
        # the classifier's own guesses stay in the ranking at half weight, so the FallbackClassifier's
        # ambiguity check does not undo the decision
        ranking = [
            {**r, PREDICTED_CONFIDENCE_KEY: 0.5 * float(r.get(PREDICTED_CONFIDENCE_KEY) or 0.0)}
            for r in (message.get(INTENT_RANKING_KEY) or [])
            if r.get(INTENT_NAME_KEY) != name
        ]
        top = {INTENT_NAME_KEY: name, PREDICTED_CONFIDENCE_KEY: 1.0}
        message.set(INTENT, top, add_to_output=True)
        message.set(INTENT_RANKING_KEY, [top] + ranking, add_to_output=True)

    def process(self, messages: list[Message], tracker: DialogueStateTracker | None = None) -> list[Message]:
        # the graph passes the conversation's tracker (rasa.engine.recipes.default_recipe: a `tracker`
        # argument of process); None in `rasa test nlu` and /model/parse
        in_form = _asks_form_slot(tracker)
        for m in messages:
            self._process(m, in_form)
        return messages

    def _process(self, message: Message, in_form: bool = False) -> None:
        text = message.get(TEXT) or ""
        if not text:
            return
        intent = (message.get(INTENT) or {}).get(INTENT_NAME_KEY)
        items = S.find_items(text)
        fields = S.find_fields(text, items)
        ents = list(message.get(ENTITIES) or [])
        for h in fields:
            ents.append(
                {
                    "entity": FIELD_ENTITY,
                    "value": h.term.name,
                    "start": h.start,
                    "end": h.end,
                    "extractor": "SpecRouter",
                }
            )
        for h in items:
            ents.append(
                {
                    "entity": ITEM_ENTITY,
                    "value": h.term.name,
                    "start": h.start,
                    "end": h.end,
                    "extractor": "SpecRouter",
                }
            )
        if fields or items:
            message.set(ENTITIES, ents, add_to_output=True)
        if in_form:
            if (
                intent in CHANGE_INTENTS
                and fields
                and S.CHANGE_CUE.search(text)
                and not S.ABOUT_CUE.search(text)
            ):
                # "班级改成10[2]班" while a form asks: a correction of the answers given in this chat (the
                # forms' correct_field handling), not a question about the platform's change forms
                self._set_intent(message, "correct_field")
                return
            if intent != "stop_form" and _bare(text).rstrip("吧啊呀啦哈") in FORM_STOP:
                self._set_intent(message, "stop_form")
                return
            if intent in FORM_BLOCKING and _bare(text) in FORM_CHOICES:
                # one of the platform's choices typed alone answers the open question ("商业和服务业人员" is
                # not a handoff): `faq` is an intent the forms' from_text mappings accept
                self._set_intent(message, "faq")
            return
        if intent == "apply_mailing" and not MAILING_WORD.search(text):
            # "我要从哪开始办": the classifier may read "我要…" as the mailing request; every apply_mailing
            # example names the mailing, so without a mailing word the next intent of the ranking is taken
            nxt = next(
                (
                    r
                    for r in (message.get(INTENT_RANKING_KEY) or [])
                    if r.get(INTENT_NAME_KEY) not in ("apply_mailing", None)
                ),
                None,
            )
            if nxt is not None:
                message.set(
                    INTENT,
                    {
                        INTENT_NAME_KEY: nxt[INTENT_NAME_KEY],
                        PREDICTED_CONFIDENCE_KEY: nxt.get(PREDICTED_CONFIDENCE_KEY),
                    },
                    add_to_output=True,
                )
                message.set(
                    INTENT_RANKING_KEY,
                    [r for r in message.get(INTENT_RANKING_KEY) if r.get(INTENT_NAME_KEY) != "apply_mailing"],
                    add_to_output=True,
                )
                intent = nxt[INTENT_NAME_KEY]

        if (
            intent in REROUTABLE | {"ask_knowledge"}
            and intent != "mailing_when"
            and MAILING_NOT_YET.search(text)
            and MAILING_NAMED.search(text)
            and not MAILING_WHERE.search(text)
        ):
            self._set_intent(message, "mailing_when")  # rule 7
            return
        field = S.change_field(text, items) if intent in REROUTABLE else None
        if field is not None:
            self._set_intent(message, S.PATH_INTENT[field.path])
            return
        if intent in COMPARE_FROM and S.compared(text):
            self._set_intent(message, "compare")
            return
        if intent == "check_status" and HOW_CUE.search(
            text
        ):  # after rules 1-2: "单位名称错了怎么改" is a change
            self._set_intent(message, "faq")
            return
        conf = float((message.get(INTENT) or {}).get(PREDICTED_CONFIDENCE_KEY) or 0.0)
        named = S.find_fields(text, items)
        if (
            len(named) == 1
            and not items
            and intent in CHANGE_INTENTS
            and not S.CHANGE_CUE.search(text)
            and "了" not in text  # "我入党了" reports a change
            and len(S.FILLERS.sub("", text[: named[0].start] + text[named[0].end :])) <= 2
        ):
            # a field name alone ("生源地") asks what it is, it does not report a mistake
            self._set_intent(message, "faq")
            return
        if len(items) == 1 and items[0].term.group in S.FAQ_GROUPS:
            rest = S.FILLERS.sub("", text[: items[0].start] + text[items[0].end :])
            if len(rest) <= 2:  # "那签约单位接收呢", "托管单位接收？", "档案邮寄": the name alone
                self._name_alone(message, items[0].term.name, intent, conf, exact=not rest)

    def _name_alone(self, message: Message, name: str, intent: str | None, conf: float, exact: bool) -> None:
        """A menu, archive type or platform named alone: the request to do it when the assistant does it for
        the student (and can answer the student, signed in or not), else the question about it, answered with
        its own FAQ answer (contracts/spec_terms.ALONE_ANSWER), whatever topic the classifier ranked first."""
        action = S.ALONE_ACTION.get(name)
        if (
            action is not None
            and intent == action
            and (_signed_in(message) or action in S.HOWTO_WITHOUT_SIGN_IN)
        ):
            return
        if action in S.HOWTO_WITHOUT_SIGN_IN and exact and not _signed_in(message):
            # "档案邮寄" alone, not signed in: the action's how-to and offer, whatever topic the classifier
            # ranked (its FAQ neighbours, e.g. faq/mailing_time, share the words)
            self._set_intent(message, action)
            return
        if not (
            intent in ("out_of_scope", None)
            or conf < SHORT_MIN_CONFIDENCE
            or intent == action
            or (intent == "faq" and exact)
        ):
            return
        self._set_intent(message, "faq")
        # the name's own answer only when nothing but the name (and fillers) is there: "学校平台怎么登录"
        # keeps the topic the classifier found for 登录
        key = S.ALONE_ANSWER.get(name) if exact else None
        answer = _faq_answer(message)  # the dict inside the message's response_selector: updated in place
        if key and answer and answer.get("intent_response_key") != key:
            answer.update(
                {
                    "intent_response_key": key,
                    "utter_action": f"utter_{key}",
                    "responses": [],
                    PREDICTED_CONFIDENCE_KEY: 1.0,
                }
            )


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class SignedInRouter(SpecRouter):
    """After SpecRouter: an unsure intent yields to a sure FAQ answer; a signed-in student's general
    question about their own state -> their case."""

    def process(self, messages: list[Message], tracker: DialogueStateTracker | None = None) -> list[Message]:
        try:
            was_signed_in = bool(tracker and tracker.get_slot(SIGNED_IN_ENTITY))
        except Exception:  # a tracker without the slot
            was_signed_in = False
        for m in messages:
            signed_in = _signed_in(m)
            if signed_in or was_signed_in:  # sets the slot; False only clears it (a visitor needs no entity)
                ents = list(m.get(ENTITIES) or [])
                ents.append(
                    {
                        "entity": SIGNED_IN_ENTITY,
                        "value": signed_in,
                        "start": 0,
                        "end": 0,
                        "extractor": "SignedInRouter",
                    }
                )
                m.set(ENTITIES, ents, add_to_output=True)
        return super().process(messages, tracker)

    @staticmethod
    def _asks_own_case(message: Message, intent: str | None, text: str) -> bool:
        """A signed-in student's question about their own record, whatever general topic it shares words with.
        mailing_when without a mailing word ("我的审核啥时候能好") is one about the case's dates."""
        from_ok = intent in OWN_CASE_FROM or (intent == "mailing_when" and not MAILING_WORD.search(text))
        return (
            from_ok
            and _signed_in(message)
            and bool((FIRST_PERSON.search(text) and OWN_CASE.search(text)) or OWN_PROGRESS.search(text))
        )

    def _process(self, message: Message, in_form: bool = False) -> None:
        top = message.get(INTENT) or {}
        intent = top.get(INTENT_NAME_KEY)
        text = message.get(TEXT) or ""
        if in_form:
            # inside a form too: check_status is answered and the form asks again (data/rules/status.yml); no
            # answer to a form's question has these shapes
            if self._asks_own_case(message, intent, text):
                self._set_intent(message, "check_status")
            return
        if (
            intent != "faq"
            and float(top.get(PREDICTED_CONFIDENCE_KEY) or 0.0) < UNSURE
            and _faq_confidence(message) >= FAQ_SURE
        ):
            # the classifier is unsure, the FAQ retrieval is sure: a question with a known answer
            self._set_intent(message, "faq")
            intent = "faq"
        if self._asks_own_case(message, intent, text):
            self._set_intent(message, "check_status")
            return
        if (
            intent == "faq"
            and _signed_in(message)
            and _faq_confidence(message) >= ROUTE_MIN_FAQ
            and _bare(message.get(TEXT) or "") not in FORM_CHOICES
        ):
            key = _faq_key(message) or ""
            target = SIGNED_IN_ROUTES.get(key)
            if target:
                self._set_intent(message, target)
                message.set(ROUTED_FROM, key, add_to_output=True)
