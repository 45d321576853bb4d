"""Rasa's response selection and filling, for the NLG endpoint (POST /api/nlg).

A port of Rasa 3.6's TemplatedNaturalLanguageGenerator / ResponseVariationFilter (rasa/core/nlg/response.py,
generator.py) and interpolator (rasa/core/nlg/interpolator.py), Apache-2.0, kept as close to the original as
possible so that a response answered by the backend is chosen and filled exactly as Rasa would: conditional
variations (slot conditions, case-insensitive for strings), channel-specific variations, `{slot}` variables
filled from the slots and the arguments of the call. Rasa itself is not installed in the backend's
environment.
"""

from __future__ import annotations

import copy
import random
import re
from typing import Any

RESPONSE_CONDITION = "condition"
CHANNEL = "channel"
KEYS_TO_INTERPOLATE = ("text", "image", "custom", "buttons", "attachment", "quick_replies")
# what the NLG endpoint may return (rasa.core.nlg.callback.nlg_response_format_spec)
RESPONSE_KEYS = ("text", "id", "buttons", "elements", "attachment", "image", "custom")
PLACEHOLDER = re.compile(r"{([^\n{}]+?)}")


def _matches_filled_slots(filled_slots: dict[str, Any], response: dict[str, Any]) -> bool:
    for constraint in response.get(RESPONSE_CONDITION, []) or []:
        name, value = constraint.get("name"), constraint.get("value")
        filled = filled_slots.get(name)
        if isinstance(filled, str) and isinstance(value, str):
            if filled.casefold() != value.casefold():
                return False
        elif filled != value:
            return False
    return True


def eligible_variations(
    variations: list[dict[str, Any]], output_channel: str, filled_slots: dict[str, Any]
) -> list[dict[str, Any]]:
    """ResponseVariationFilter.responses_for_utter_action: conditional+channel, then channel, then
    conditional, then the plain variations."""
    default = [v for v in variations if v.get(RESPONSE_CONDITION) is None]
    conditional = [
        v for v in variations if v.get(RESPONSE_CONDITION) and _matches_filled_slots(filled_slots, v)
    ]
    for group in (
        [v for v in conditional if v.get(CHANNEL) == output_channel],
        [v for v in default if v.get(CHANNEL) == output_channel],
        [v for v in conditional if v.get(CHANNEL) is None],
    ):
        if group:
            return group
    return [v for v in default if v.get(CHANNEL) is None]


def interpolate_text(response: str, values: dict[str, Any]) -> str:
    """rasa.core.nlg.interpolator.interpolate_text, with two differences: a stray brace leaves the text as it
    is (Rasa would raise), and a VALUE containing "0[" is filled in. Rasa looks for "0[" in the filled text to
    catch a {{escaped}} placeholder and then returns the response unfilled, so an answer such as an address
    "A栋10[2]号" put the raw "{lines}" in front of the student; here only the template's own text is
    checked."""
    try:
        text = PLACEHOLDER.sub(r"{0[\1]}", response)
        if "0[" in text.format({k: "" for k in values}):  # an escaped {{placeholder}}: Rasa's result
            return response.format({})
        return text.format(values)
    except (KeyError, ValueError, IndexError, AttributeError):
        return response


def interpolate(response: Any, values: dict[str, Any]) -> Any:
    if isinstance(response, str):
        return interpolate_text(response, values)
    if isinstance(response, dict):
        for k, v in response.items():
            if isinstance(v, dict):
                interpolate(v, values)
            elif isinstance(v, list):
                response[k] = [interpolate(i, values) for i in v]
            elif isinstance(v, str):
                response[k] = interpolate_text(v, values)
        return response
    if isinstance(response, list):
        return [interpolate(i, values) for i in response]
    return response


def generate(
    variations: list[dict[str, Any]],
    output_channel: str,
    filled_slots: dict[str, Any],
    arguments: dict[str, Any],
    response_id: str | None = None,
) -> dict[str, Any] | None:
    """The message for one response: a random eligible variation (the one with `response_id` when Rasa named
    one), its variables filled from the slots and arguments. None when no variation fits."""
    suitable = eligible_variations(variations, output_channel, filled_slots)
    if not suitable:
        return None
    chosen = next((v for v in suitable if response_id and v.get("id") == response_id), None)
    r = copy.deepcopy(chosen or random.choice(suitable))
    values = {**(filled_slots or {}), **(arguments or {})}
    if values:
        for key in KEYS_TO_INTERPOLATE:
            if key in r:
                r[key] = interpolate(r[key], values)
    return {k: r[k] for k in RESPONSE_KEYS if r.get(k) is not None}


def placeholders(text: str) -> set[str]:
    return set(PLACEHOLDER.findall(text or ""))


def stray_braces(text: str) -> bool:
    """Whether `text` has a brace that is not part of a {variable}."""
    return "{" in PLACEHOLDER.sub("", text) or "}" in PLACEHOLDER.sub("", text)
