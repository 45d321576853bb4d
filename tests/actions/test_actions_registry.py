"""The action server can load the package and knows every action the domain names."""

from pathlib import Path

import yaml
from rasa_sdk.executor import ActionExecutor

ROOT = Path(__file__).resolve().parents[2]


def test_every_domain_action_is_registered():
    ex = ActionExecutor()
    ex.register_package("actions")
    names = set(ex.actions)
    wanted = set()
    for f in (ROOT / "bot" / "domain").glob("*.yml"):
        wanted |= {
            a
            for a in (yaml.safe_load(f.read_text(encoding="utf-8")) or {}).get("actions", [])
            if a.startswith(("action_", "validate_"))
        }
    assert wanted, "no custom actions in the domain?"
    assert wanted <= names, wanted - names
