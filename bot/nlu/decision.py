"""The answer / clarify / abstain decision as a pure function (no Rasa import: the tests and eval/calibrate.py use
it directly). The NLU component that applies it, and the design: bot/nlu/confidence.py; thresholds: docs/nlu.md
"Round 5" (read from cross-validation predictions by eval/calibrate.py)."""
from __future__ import annotations

from typing import Any, Dict, Optional, Sequence, Tuple

FALLBACK = "nlu_fallback"
OOD_INTENTS = ("near_domain", "out_of_scope")
# intents whose own flow answers the student (the decision leaves them alone): conversation, form and action turns
OWN_FLOW = {"greet", "goodbye", "thanks", "affirm", "deny", "bot_challenge", "stop_form", "correct_field",
            "handoff", "choose_topic", "fill_profile", "fill_destination", "fill_archive", "apply_mailing",
            FALLBACK, *OOD_INTENTS}
ROUTED = 0.999  # a router's decision has confidence 1.0
# Read from the held-out predictions by eval/calibrate.py (docs/nlu.md "Round 5"): answer when the top answer's
# probability is at least `answer`; otherwise ask between the top two when together they reach `clarify_pair`
# and the second reaches `clarify_second`; abstain when the near-domain classes reach `near`.
THRESHOLDS = {"answer": 0.45, "clarify_pair": 0.5, "clarify_second": 0.1, "near": 0.4}

Ranking = Sequence[Tuple[Optional[str], float]]


def decide(intent: Optional[str], intent_conf: float, ranking: Ranking, answers: Ranking,
           th: Dict[str, float] = THRESHOLDS) -> Tuple[str, Any]:
    """("answer", the FAQ key or the intent) | ("clarify", [key1, key2]) | ("abstain", None)."""
    if intent in OWN_FLOW or intent is None:
        return "answer", intent
    routed = intent_conf >= ROUTED
    p_near = sum(c for name, c in ranking if name in OOD_INTENTS)
    if intent != "faq":
        if not routed and intent_conf < th["answer"] and p_near >= th["near"]:
            return "abstain", None
        return "answer", intent
    if not answers:
        return "abstain", None
    k1, p1 = answers[0]
    if routed and p1 >= ROUTED:  # a name alone: its own answer (SpecRouter)
        return "answer", k1
    if not routed and p_near >= th["near"]:
        return "abstain", None
    if p1 >= th["answer"]:
        return "answer", k1
    if len(answers) > 1:
        k2, p2 = answers[1]
        if p2 >= th["clarify_second"] and p1 + p2 >= th["clarify_pair"]:
            return "clarify", [k1, k2]
    return "abstain", None
