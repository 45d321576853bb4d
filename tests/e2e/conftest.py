"""Fixtures of the end-to-end tests: the real backend, action server and Rasa server (the session's `system`),
talked to through the REST channel as the seeded demo students (and as nobody)."""

import subprocess
import uuid

import pytest

from system import ROOT, VENV_PY, dev_login, say
from tests.e2e.helpers import text_of


@pytest.fixture
def chat(system):
    """chat(text, student=None) -> reply text; each test gets fresh conversations and freshly seeded data."""
    subprocess.run(
        [str(VENV_PY), "-m", "backend.cli", "seed"],
        cwd=ROOT,
        env=system.child_env(),
        check=True,
        capture_output=True,
    )
    sender = f"e2e-{uuid.uuid4().hex[:8]}"
    tokens = {}

    def _chat(text, student=None):
        token = None
        if student:
            if student not in tokens:
                tokens[student] = dev_login(system.backend_url, student)
                # a student's conversation outlives one test: start it afresh
                say(system.rest_webhook, sender, "/restart", tokens[student])
            token = tokens[student]
        return text_of(say(system.rest_webhook, sender, text, token))

    return _chat
