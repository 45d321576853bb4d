"""contracts/: the modules both environments import (issue 22 §4) import only the standard library (PyJWT in
`tokens`, PyYAML inside one function of `production`), nothing of the repository's other packages, and import
and run on Rasa's Python 3.10 as on the backend's 3.11."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CONTRACTS = ROOT / "contracts"
PYTHONS = {"3.11": sys.executable, "3.10": str(ROOT / ".venv-rasa" / "bin" / "python")}
# the only imports beyond the standard library, by module
ALLOWED = {"tokens": {"jwt"}, "production": {"yaml"}}
REPOSITORY = ("backend", "bot", "actions", "deploy", "ops", "system", "scripts", "bench", "eval", "tests")

# Imports every module, checks what came along, and runs each once; prints a JSON report.
PROBE = r"""
import json, pkgutil, sys, importlib
before = set(sys.modules)  # what the interpreter (and site hooks) loaded already
import contracts
names = sorted(m.name for m in pkgutil.iter_modules(contracts.__path__))
for n in names:
    importlib.import_module("contracts." + n)
loaded = sorted({m.split(".")[0] for m in set(sys.modules) - before})
from contracts import demo, env, forms, logs, masking, nlg, production, settings, spec_terms, tokens
from contracts import vocabulary as V
t = tokens.mint_action_token("2025000005", "student", "s" * 40, 9999)
claims = tokens.decode(t, "s" * 40, tokens.ACTIONS_AUDIENCE)
try:
    tokens.decode(t, "s" * 40)  # an action token is no web token
    web_refused = False
except tokens.InvalidToken:
    web_refused = True
print(json.dumps({
    "version": "%d.%d" % sys.version_info[:2],
    "modules": names,
    "loaded": loaded,
    "action_token": [
        claims["sub"], claims["role"], claims["aud"], claims["exp"] - claims["iat"], web_refused
    ],
    "mask": masking.mask("电话 138-1234-5678"),
    "redact": logs.redact("GET /token?secret=abc&x=1"),
    "fill": nlg.interpolate("A栋{room}号", {"room": "10[2]"}),
    "label": V.mailing_reason_message("too_early", "2026-10-09"),
    "terms": [h.term.name for h in spec_terms.find_items("档案邮寄怎么申请")],
    "production": len(production.problems({"APP_ENV": "production", "AUTH_SECRET": demo.AUTH_SECRET})),
    "rasa": [
        settings.rasa({}).backend_url, settings.rasa({"CHAT_RATE_PER_CLIENT": "x"}).chat_rate_per_client
    ],
    "number": [env.env_int("N", 5, env={"N": "7"}), env.env_float("N", 1.5, minimum=2, env={})],
    "forms": list(forms.INTERRUPTING),
}, ensure_ascii=False))
"""


def _imports(path: Path) -> set[str]:
    """Top-level names of every import in `path` (module level and inside functions); relative ones as ''."""
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            out.add("" if node.level else (node.module or "").split(".")[0])
    return out


def test_contracts_import_the_standard_library_only() -> None:
    modules = sorted(CONTRACTS.glob("*.py"))
    assert len(modules) >= 12, modules
    for path in modules:
        extra = _imports(path) - set(sys.stdlib_module_names) - {"__future__", "contracts"}
        assert extra <= ALLOWED.get(path.stem, set()), (path.name, extra)


@pytest.mark.parametrize("version", sorted(PYTHONS))
def test_contracts_import_and_run_in_both_environments(version: str) -> None:
    out = subprocess.run(
        [PYTHONS[version], "-c", PROBE],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
    )
    assert out.returncode == 0, out.stderr
    r = json.loads(out.stdout)
    assert r["version"] == version
    assert {p.stem for p in CONTRACTS.glob("*.py")} - {"__init__"} == set(r["modules"])
    stdlib = set(sys.stdlib_module_names)
    # nothing of the repository's other packages, no web, database or Rasa library
    assert not set(r["loaded"]) & set(REPOSITORY), r["loaded"]
    heavy = {
        "sqlalchemy",
        "pydantic",
        "fastapi",
        "starlette",
        "httpx",
        "rasa",
        "rasa_sdk",
        "sanic",
        "tensorflow",
    }
    assert not set(r["loaded"]) & heavy, r["loaded"]
    # beyond the standard library: PyJWT, with what it loads (cryptography for its RSA/EC algorithms when
    # installed; typing_extensions on 3.10)
    assert {m for m in r["loaded"] if m not in stdlib and not m.startswith("_")} <= {
        "contracts",
        "jwt",
        "cryptography",
        "typing_extensions",
    }, r["loaded"]
    # the action token: subject and role kept, audience "actions", lifetime capped at 300 s; never a web token
    assert r["action_token"] == ["2025000005", "student", "actions", 300, True]
    assert r["mask"].startswith("电话 ＊") and not any(c.isdigit() for c in r["mask"]), r["mask"]
    assert r["redact"] == "GET /token?secret=***&x=1"
    assert r["fill"] == "A栋10[2]号"
    assert "2026-10-09" in r["label"]
    assert r["terms"] == ["档案邮寄申请"]
    assert r["production"] > 1  # the demo secret among the problems
    assert r["rasa"] == ["http://127.0.0.1:8000", 120]  # a value that is no number: the default
    assert r["number"] == [7, 2.0] and isinstance(r["number"][1], float)
    assert r["forms"][:2] == ["stop_form", "correct_field"]
