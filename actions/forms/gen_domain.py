"""Write bot/domain/forms.yml from actions/forms/spec.py: `python -m actions.forms.gen_domain [--check]`."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from actions.forms.spec import FORMS
from contracts.forms import INTERRUPTING

OUT = Path(__file__).resolve().parents[2] / "bot" / "domain" / "forms.yml"


def q(s: str) -> str:
    return json.dumps(s, ensure_ascii=False)


def render() -> str:
    lines = [
        "# GENERATED from actions/forms/spec.py by `python -m actions.forms.gen_domain`: edit the spec, not "
        "this.",
        "# The validation actions (validate_<form>) ask the questions with the responses",
        "# utter_form_ask_<slot> (not utter_ask_<slot>: Rasa's form would send that a second time);",
        "# staff edit them like any answer.",
        'version: "3.1"',
        "",
        "intents:",
        "- fill_profile",
        "- fill_destination",
        "- fill_archive",
        "- stop_form",
        "- correct_field",
        "",
        "slots:",
    ]
    for form in FORMS.values():
        for f in form.fields:
            lines += [
                f"  {f.slot}:",
                "    type: text",
                "    influence_conversation: false",
                "    mappings:",
                "    - type: from_text",
                f"      not_intent: [{', '.join(INTERRUPTING)}]",
                "      conditions:",
                f"      - active_loop: {form.name}",
                f"        requested_slot: {f.slot}",
            ]
        c = form.confirm_slot
        lines += [f"  {c}:", "    type: bool", "    influence_conversation: false", "    mappings:"]
        for intent, val in (("affirm", "true"), ("deny", "false")):
            lines += [
                "    - type: from_intent",
                f"      intent: {intent}",
                f"      value: {val}",
                "      conditions:",
                f"      - active_loop: {form.name}",
                f"        requested_slot: {c}",
            ]
    # set by action_correct_field: the chat form that holds the answer a student corrects after it ended (the
    # rules in data/rules/forms.yml reopen that form); None when no form holds it (the action then gave
    # advice)
    lines += ["  reopen_form:", "    type: categorical", "    values:"] + [f"    - {f}" for f in FORMS]
    lines += ["    influence_conversation: true", "    mappings:", "    - type: custom"]
    lines += ["", "forms:"]
    for form in FORMS.values():
        lines += [f"  {form.name}:", "    required_slots:"] + [
            f"    - {s}" for s in form.slots + [form.confirm_slot]
        ]
    lines += ["", "responses:"]
    for form in FORMS.values():
        for f in form.fields:
            lines += [f"  utter_form_ask_{f.slot}:", f"    - text: {q(f.question)}"]
            if f.buttons:
                lines.append("      buttons:")
                for b in f.buttons:
                    lines += [f"        - title: {q(b)}", f"          payload: {q(b)}"]
    lines += ["", "actions:"]
    for form in FORMS.values():
        lines.append(f"- validate_{form.name}")
    lines += ["- action_form_finished", "- action_form_paused", "- action_correct_field", ""]
    return "\n".join(lines)


def main() -> int:
    text = render()
    if "--check" in sys.argv:
        ok = OUT.exists() and OUT.read_text(encoding="utf-8") == text
        print(
            "forms.yml is up to date" if ok else "forms.yml is stale: run python -m actions.forms.gen_domain"
        )
        return 0 if ok else 1
    OUT.write_text(text, encoding="utf-8")
    print(f"wrote {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
