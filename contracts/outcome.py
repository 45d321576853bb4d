"""A turn's outcome, from the turn's Rasa events (dicts, as Rasa's event broker sends them): answered /
clarified / abstained / fallback / handoff. The Rasa server's metrics (ops/rasa_metrics.py) label turns with
it; the turn log (bot/turnlog.py) marks fallback and handoff turns with the same names.

- handoff: the student asked for a person (intent `handoff`, or the action_handoff action ran);
- clarified / abstained: the NLU decision step's outcome (bot/nlu/decision.py:
  parse_data["uncertain"]["outcome"] is "clarify" or "abstain");
- fallback: the fallback intents, actions and response below;
- answered: everything else (also when the NLU decision wrote "answered" or nothing).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

UNCERTAIN = "uncertain"  # the parse_data key of the NLU decision step (bot/nlu/decision.py)
FALLBACK_ACTIONS = {"action_default_fallback", "action_two_stage_fallback", "action_uncertain"}
FALLBACK_INTENTS = {"nlu_fallback", "out_of_scope", "near_domain"}  # near_domain: the abstention (issue 20)
FALLBACK_RESPONSES = {"utter_default"}
HANDOFF_ACTIONS = {"action_handoff"}
HANDOFF_INTENTS = {"handoff"}
DECISIONS = {"clarify": "clarified", "abstain": "abstained"}
OUTCOMES = ("answered", "clarified", "abstained", "fallback", "handoff")


def turn_outcome(events: Iterable[dict[str, Any]]) -> tuple[str | None, str]:
    """(intent name, outcome) of the turn whose events (from its `user` event on) are given."""
    intent, decision, fallback, handoff = None, None, False, False
    for e in events:
        kind = e.get("event")
        if kind == "user":
            parse = e.get("parse_data") or {}
            intent = (parse.get("intent") or {}).get("name")
            decision = DECISIONS.get(str((parse.get(UNCERTAIN) or {}).get("outcome")))
            fallback = intent in FALLBACK_INTENTS
            handoff = intent in HANDOFF_INTENTS
        elif kind == "action":
            name = e.get("name")
            fallback = fallback or name in FALLBACK_ACTIONS
            handoff = handoff or name in HANDOFF_ACTIONS
        elif kind == "bot":
            fallback = fallback or (e.get("metadata") or {}).get("utter_action") in FALLBACK_RESPONSES
    if handoff:
        return intent, "handoff"
    if decision:
        return intent, decision
    return intent, "fallback" if fallback else "answered"
