"""The responses the custom actions send exist in the domain, and every action response of the domain is sent.

Rasa drops a message whose response it cannot find (no error, the student just gets nothing), so a misspelt
name in a branch no other test reaches would go unnoticed: every `utter_*` name in the actions' code is
checked here, and the names the actions build (per change kind, per form, per field) are expanded and checked
too.
"""

from __future__ import annotations

import ast
from pathlib import Path

from actions.forms.spec import FORMS
from actions.forms.validate import ask_response
from actions.uncertain import TOPIC_TITLES
from contracts import vocabulary as V
from system import ROOT
from tests.actions.helpers import domain_responses

ACTION_FILES = sorted(p for p in (ROOT / "actions").rglob("*.py") if p.name != "handoff.py")
# domain files whose responses only custom actions send (the rest are sent by rules and the response selector)
ACTION_DOMAIN_FILES = [
    "abstain.yml",
    "backend.yml",
    "change.yml",
    "compare.yml",
    "form_texts.yml",
    "forms.yml",
    "mailing.yml",
    "status.yml",
]
SENT_BY_RULES = {"utter_mailing_when"}


def literal_names() -> set[str]:
    names = set()
    for path in ACTION_FILES:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and node.value.startswith("utter_")
            ):
                names.add(node.value)
    return names


def built_names() -> set[str]:
    names = set()
    for kind in (V.ChangeKind.unit_change, V.ChangeKind.destination_edit, V.ChangeKind.archive_edit):
        names |= {f"utter_change_{kind}", f"utter_change_{kind}_unreviewed"}
    for state in ("", "_synced", "_confirmed"):
        names |= {f"utter_change_reviewed{state}", f"utter_change_reviewed{state}_archive"}
    for form in FORMS.values():
        names |= {f"utter_form_howto_{form.name}", f"utter_form_reviewed_{form.name}"}
        names |= {ask_response(f.slot) for f in form.fields}
    names |= {f"utter_faq/{topic}" for topic in TOPIC_TITLES}  # action_answer_topic: every topic it may offer
    return names


def test_every_response_the_actions_send_is_in_the_domain():
    known = set(domain_responses())
    complete = {n for n in literal_names() if not n.endswith(("_", "/"))}  # "utter_change_" etc.: built below
    assert complete - known == set()
    assert built_names() - known == set()


def test_every_action_response_in_the_domain_is_sent_by_an_action():
    import yaml

    declared = set()
    for name in ACTION_DOMAIN_FILES:
        data = yaml.safe_load(Path(ROOT / "bot" / "domain" / name).read_text(encoding="utf-8")) or {}
        declared |= set(data.get("responses") or {})
    assert declared - SENT_BY_RULES - literal_names() - built_names() == set()
