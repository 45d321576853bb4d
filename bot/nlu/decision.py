"""The answer / clarify / abstain decision as a pure function (no Rasa import: the tests and eval/calibrate.py
use it directly). The NLU component that applies it, and the design: bot/nlu/confidence.py; thresholds:
docs/nlu.md "Round 5" (read from cross-validation predictions by eval/calibrate.py)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

FALLBACK = "nlu_fallback"
OOD_INTENTS = ("near_domain", "out_of_scope")
# intents whose own flow answers the student (the decision leaves them alone): conversation, form and action
# turns, campus questions (utter_out_of_scope is itself an honest "not mine")
OWN_FLOW = {
    "greet",
    "goodbye",
    "thanks",
    "affirm",
    "deny",
    "bot_challenge",
    "stop_form",
    "correct_field",
    "handoff",
    "choose_topic",
    "fill_profile",
    "fill_destination",
    "fill_archive",
    "apply_mailing",
    "out_of_scope",
    FALLBACK,
}
ROUTED = 0.999  # a router's decision has confidence 1.0
# Read from the held-out predictions by eval/calibrate.py (docs/nlu.md "Round 5"). A question is a FAQ
# question when the classifier gives `faq` at least `faq_min` (else: near-domain, abstain); it is answered
# when its top answer reaches `answer`; otherwise the top two are asked about when together they reach
# `clarify_pair` and the second reaches `clarify_second`; else abstain. Another intent below `answer` abstains
# when the near-domain classes reach `near`.
THRESHOLDS = {"answer": 0.45, "clarify_pair": 0.5, "clarify_second": 0.05, "near": 0.3, "faq_min": 0.4}

Ranking = Sequence[tuple[str | None, float]]


def decide(
    intent: str | None,
    intent_conf: float,
    ranking: Ranking,
    answers: Ranking,
    th: dict[str, float] = THRESHOLDS,
) -> tuple[str, Any]:
    """("answer", the FAQ key or the intent) | ("clarify", [key1, key2]) | ("abstain", None).

    A FAQ answer may be given although `near_domain` ranked first (the question is likely a FAQ question with
    a sure answer); ("answer", "near_domain") is the near-domain flow, itself an abstention."""
    if intent in OWN_FLOW or intent is None:
        return "answer", intent
    routed = intent_conf >= ROUTED
    probs: dict[str | None, float] = {}
    for name, c in ranking:
        probs.setdefault(name, c)
    if intent not in ("faq", "near_domain"):
        p_near = sum(probs.get(n, 0.0) for n in OOD_INTENTS)
        if not routed and intent_conf < th["answer"] and p_near >= th["near"]:
            return "abstain", None
        return "answer", intent
    if not routed and probs.get("faq", 0.0) < th["faq_min"]:
        return ("answer", "near_domain") if intent == "near_domain" else ("abstain", None)
    if not answers:
        return "abstain", None
    k1, p1 = answers[0]
    if p1 >= th["answer"] or (routed and p1 >= ROUTED):
        return "answer", k1
    if len(answers) > 1:
        k2, p2 = answers[1]
        if p2 >= th["clarify_second"] and p1 + p2 >= th["clarify_pair"]:
            return "clarify", [k1, k2]
    return "abstain", None
