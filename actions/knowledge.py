"""The knowledge base's answer (issue 20 §2): the entry bot/nlu/knowledge.py matched, from the parse data."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher


class ActionAnswerKnowledge(Action):
    def name(self) -> str:
        return "action_answer_knowledge"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        entry = (tracker.latest_message or {}).get("knowledge") or {}
        if entry.get("answer"):
            dispatcher.utter_message(
                response="utter_knowledge", answer=entry["answer"], source=entry.get("source") or ""
            )
        else:  # no entry matched this message (a story or a replayed turn): the general fallback
            dispatcher.utter_message(response="utter_default")
        return []
