"""The decision between answering, asking which of two topics is meant, and abstaining (issue 20; design, the
held-out reliability table and how the thresholds were read from it: docs/nlu.md "Round 5"; thresholds
computed by eval/calibrate.py from cross-validation predictions).

The out-of-domain detector is the classifier itself: its `near_domain` class is trained on several hundred
near-domain questions the process document does not answer (data/nlu/abstain.yml; national policy, city rules,
other offices' business), beside `out_of_scope` (campus life). The decision reads, for one message:
- p_near: the probability of those two classes in the intent ranking;
- for a FAQ question, the top two answers' probabilities p1, p2.
Outcomes:
- answer: the classifier's (or a router's) intent as it is;
- clarify (a FAQ question): p1 below the answer threshold, but the top two answers together are likely and the
  second is not negligible -> intent `nlu_fallback` with parse-data key `uncertain` = {"outcome": "clarify",
  "options": [key1, key2]}: action_uncertain asks which one (buttons), action_answer_topic answers the choice;
- abstain: the near-domain classes are likely, or the answer is too unsure -> `nlu_fallback` with
  {"outcome": "abstain"}: action_uncertain says the documents do not cover it and who can answer.
A router's rule decision (confidence 1.0: a name from the document, a field with a change word, ...) is kept,
and so is whatever a form's open question receives (the form's to take). In the pipeline after the routers,
before the FallbackClassifier (which still catches garbled input) and the knowledge base's retriever (which
may answer an abstained question from a staff entry).
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

from bot.nlu.decision import FALLBACK, ROUTED, THRESHOLDS, decide
from bot.nlu.spec_router import FIELD_ENTITY, ITEM_ENTITY, _asks_form_slot
from contracts import spec_terms as S
from contracts.outcome import UNCERTAIN  # the parse-data key of a clarify or abstain decision

# the kinds of names action_compare compares without both names in the message ("这几种类型有什么区别")
COMPARED_KIND = re.compile(r"类型|平台|改签|修改|变更|菜单|申请|登记")
SHORT = 4  # at most this many characters besides fillers: a name, never asked back


def _answers(message: Message) -> list[tuple[str | None, float]]:
    sel = (message.get("response_selector") or {}).get("faq") or {}
    ranking = [
        (r.get("intent_response_key"), float(r.get(PREDICTED_CONFIDENCE_KEY) or 0.0))
        for r in sel.get("ranking") or []
    ]
    chosen = sel.get("response") or {}
    if ranking and chosen.get("intent_response_key") and chosen["intent_response_key"] != ranking[0][0]:
        # a router replaced the answer (SpecRouter's name alone): it leads
        ranking.insert(0, (chosen["intent_response_key"], float(chosen.get(PREDICTED_CONFIDENCE_KEY) or 0.0)))
    return ranking


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class ConfidenceGate(GraphComponent):
    """Answer, clarify or abstain (module docstring). No training; a few comparisons per message."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {}  # the thresholds are code (bot/nlu/decision.py): changing them needs no retraining

    def __init__(self, config: dict[str, Any]) -> None:
        self.th = {k: float(config.get(k, v)) for k, v in THRESHOLDS.items()}

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> ConfidenceGate:
        return cls(config)

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data

    def process(self, messages: list[Message], tracker: DialogueStateTracker | None = None) -> list[Message]:
        if _asks_form_slot(tracker):  # whatever the form's open question receives is the form's to take
            return messages
        for m in messages:
            self._process(m)
        return messages

    @staticmethod
    def _name_alone(message: Message) -> bool:
        """Nothing but one of the document's names (and fillers): "手续办理", "托管单位接收？" is a question
        about that name, which the routers and the classifier already answer; asking back would only repeat
        it."""
        text = message.get(TEXT) or ""
        spans = [
            (e["start"], e["end"])
            for e in message.get(ENTITIES) or []
            if e.get("entity") in (FIELD_ENTITY, ITEM_ENTITY) and "start" in e
        ]
        if not spans:
            return False
        rest = "".join(ch for i, ch in enumerate(text) if not any(a <= i < b for a, b in spans))
        return len(S.FILLERS.sub("", rest)) <= 2

    @staticmethod
    def _two_names(message: Message, text: str) -> bool:
        """What action_compare can compare: two of the document's names of one kind, or a kind by its word."""
        items = {e.get("value") for e in message.get(ENTITIES) or [] if e.get("entity") == ITEM_ENTITY}
        archive_type = any(getattr(S.ITEM_BY_NAME.get(v), "group", None) == "archive_type" for v in items)
        return (
            len(S.compared(text)) >= 2 or len(items) >= 2 or archive_type or bool(COMPARED_KIND.search(text))
        )

    def _process(self, message: Message) -> None:
        if self._name_alone(message):
            return
        top = message.get(INTENT) or {}
        intent, conf = top.get(INTENT_NAME_KEY), float(top.get(PREDICTED_CONFIDENCE_KEY) or 0.0)
        ranking = [
            (r.get(INTENT_NAME_KEY), float(r.get(PREDICTED_CONFIDENCE_KEY) or 0.0))
            for r in message.get(INTENT_RANKING_KEY) or []
        ]
        text = message.get(TEXT) or ""
        detail: Any  # the FAQ key or intent, the pair to clarify, or None
        if intent == "compare" and conf < ROUTED and not self._two_names(message, text):
            # "X和Y有什么区别" about things the document does not name as a pair (邮编和区号, offer和三方):
            # action_compare could only list the change forms
            outcome, detail = "abstain", None
        else:
            outcome, detail = decide(intent, conf, ranking, _answers(message), self.th, text)
        if outcome == "clarify" and len(S.FILLERS.sub("", text)) <= SHORT:
            outcome, detail = "answer", detail[0]  # a word or two: a name; asking back would only repeat it
        if outcome == "answer":
            if (
                top.get(INTENT_NAME_KEY) == "near_domain"
                and isinstance(detail, str)
                and detail.startswith("faq/")
            ):
                # likely a FAQ question with a sure answer after all: the FAQ rule answers it
                faq = {INTENT_NAME_KEY: "faq", PREDICTED_CONFIDENCE_KEY: dict(ranking).get("faq", 0.0)}
                message.set(INTENT, faq, add_to_output=True)
                message.set(
                    INTENT_RANKING_KEY,
                    [faq]
                    + [r for r in message.get(INTENT_RANKING_KEY) or [] if r.get(INTENT_NAME_KEY) != "faq"],
                    add_to_output=True,
                )
            return
        info: dict[str, Any] = {"outcome": outcome, "intent": top.get(INTENT_NAME_KEY)}
        if outcome == "clarify":
            info["options"] = detail
        fallback = {INTENT_NAME_KEY: FALLBACK, PREDICTED_CONFIDENCE_KEY: 1.0}
        message.set(INTENT, fallback, add_to_output=True)
        message.set(
            INTENT_RANKING_KEY, [fallback] + list(message.get(INTENT_RANKING_KEY) or []), add_to_output=True
        )
        message.set(UNCERTAIN, info, add_to_output=True)
