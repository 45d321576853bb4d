"""ResponseSelector that only runs on messages whose intent is a retrieval intent.

The stock ResponseSelector runs its network on every message, but its answer is only used when the intent
classifier predicted a retrieval intent (here `faq`, answered by `utter_faq`): for "我的审核进度到哪了" or
"好的" the selection is computed and thrown away. Profiled under load it was ~15 % of the Rasa server's CPU
per turn (bench/findings.md). This subclass skips those messages; FAQ messages get exactly the stock result.
Messages without an intent yet (no classifier before it) are processed as before, and so are messages whose
intent the classifier is unsure of (< UNSURE): a confident FAQ answer can then take them (bot/nlu/spec_router.py).
"""
from __future__ import annotations

from typing import List

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.selectors.response_selector import ResponseSelector
from rasa.shared.nlu.constants import INTENT, INTENT_NAME_KEY
from rasa.shared.nlu.training_data.message import Message


UNSURE = 0.5  # below this intent confidence the message is also given to the ResponseSelector


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class RetrievalIntentResponseSelector(ResponseSelector):
    """Selects a response only for messages classified as one of its retrieval intents."""

    def _selects_for(self, message: Message) -> bool:
        top = message.get(INTENT) or {}
        intent = top.get(INTENT_NAME_KEY)
        if intent is None:
            return True
        wanted = [self.retrieval_intent] if self.retrieval_intent else self.all_retrieval_intents
        # an intent the classifier is unsure of: the FAQ answer is computed too, and bot.nlu.spec_router's
        # SignedInRouter uses it when the FAQ retrieval is sure
        return intent in wanted or float(top.get("confidence") or 0.0) < UNSURE

    def process(self, messages: List[Message]) -> List[Message]:
        selected = [m for m in messages if self._selects_for(m)]
        if selected:
            super().process(selected)
        return messages
