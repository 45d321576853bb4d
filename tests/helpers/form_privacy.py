"""Form answers never reach the staff turn log in clear (issue 21 §3): the profile form's personal answers,
the staff turn log as the staff page exports it, and the checks shared by tests/durability and
tests/cluster."""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Callable

import httpx

PLACEHOLDER = "（表单填写中的内容，不记录）"

# the personal answers of the profile form, and what to look for in the log (masking would hide the numbers
# anyway)
ANSWERS = [
    "河北省 石家庄市",
    "非困难生",
    "13812345678",
    "a@example.com",
    "wx_zhangwei",
    "李华",
    "2班",
    "张建国",
]
IN_CLEAR = ["河北省", "石家庄", "wx_zhangwei", "李华", "2班", "张建国", "example"]


def logged_questions(backend_url: str, student_id: str, n: int, timeout: float = 30) -> list[str]:
    """The student's questions in the staff turn log (waits until `n` are there)."""
    r = httpx.post(f"{backend_url}/api/auth/dev-login", json={"staff_id": "school-admin"}, trust_env=False)
    headers = {"Authorization": f"Bearer {r.json()['access_token']}"}
    deadline = time.monotonic() + timeout
    while True:
        text = httpx.get(
            f"{backend_url}/api/staff/insights/turns.csv",
            params={"days": 1},
            headers=headers,
            trust_env=False,
            timeout=30,
        ).text
        rows = [
            r for r in csv.reader(io.StringIO(text.lstrip("\ufeff"))) if len(r) > 3 and r[2] == student_id
        ]
        if len(rows) >= n or time.monotonic() > deadline:
            return [r[3] for r in rows]
        time.sleep(0.5)


def fill_profile_form(chat: Callable[[str], str], in_the_middle: Callable[[], None] | None = None) -> None:
    """Open the profile form and answer every question with ANSWERS through chat(text) -> reply;
    `in_the_middle` runs once the form asks its second question (e.g. a restart of Rasa)."""
    assert "政治面貌" in chat("帮我填写个人信息")
    assert "生源所在地" in chat("群众")
    if in_the_middle:
        in_the_middle()
    assert "困难生" in chat(ANSWERS[0])  # the form goes on where it stopped
    for answer in ANSWERS[1:]:
        chat(answer)


def assert_answers_kept_out_of_the_log(backend_url: str, student_id: str) -> list[str]:
    """The form's answers are logged as the placeholder, none of them in clear; returns the logged
    questions."""
    questions = logged_questions(backend_url, student_id, 2 + len(ANSWERS))
    assert questions.count(PLACEHOLDER) == 1 + len(ANSWERS), questions
    logged = "\n".join(questions)
    for clear in IN_CLEAR:
        assert clear not in logged, (clear, questions)
    return questions
