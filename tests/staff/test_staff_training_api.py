"""From a failed question to a better answer (issue 14 §5) over HTTP against the real backend: attach a
question to an FAQ answer or to a new one, export where `make train` reads (checked with Rasa's own
readers)."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from tests.backend.helpers import INTEGRATION_KEY, ROOT, err, ok, start_backend, stop_backend


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("training")
    out = tmp / "repo"
    shutil.copytree(ROOT / "data", out / "data")
    server = start_backend(f"sqlite:///{tmp}/app.db", tmp, extra_env={"STAFF_TRAINING_DIR": str(out)})
    server.out = out
    yield server
    stop_backend(server)


def school(srv):
    return srv.staff("school-admin")


def test_only_school_staff_attach_create_and_export(srv):
    body = {"question": "奖学金什么时候发", "answer_key": "utter_faq/login"}
    for path, b in (
        ("/api/staff/training-examples", body),
        ("/api/staff/answers", {"topic": "abc_x", "text": "t"}),
        ("/api/staff/training-examples/export", None),
    ):
        with srv.staff("counselor-physics") as c:
            err(c.post(path, json=b), 403, "forbidden")
        with srv.student("2025000001") as c:
            err(c.post(path, json=b), 403, "forbidden")
        err(srv.client().post(path, json=b), 401, "not_authenticated")
    with srv.staff("counselor-physics") as c:
        assert ok(c.get("/api/staff/training-examples"))["items"] == []


@pytest.mark.parametrize(
    "body,field,code",
    [
        ({"question": "奖学金什么时候发", "answer_key": "utter_greet"}, "answer_key", "not_faq"),
        ({"question": "奖学金什么时候发", "answer_key": "utter_faq/nope"}, "answer_key", "not_faq"),
        ({"question": "   ", "answer_key": "utter_faq/login"}, "question", "required"),
        (
            {"question": "我的手机＊＊＊＊＊＊＊＊＊＊＊怎么改", "answer_key": "utter_faq/login"},
            "question",
            "masked",
        ),
    ],
)
def test_bad_attachments(srv, body, field, code):
    with school(srv) as c:
        b = err(c.post("/api/staff/training-examples", json=body), 422, "validation_error")
    assert b["fields"][0]["field"] == field and b["fields"][0]["code"] == code


def test_new_answer_attach_and_export_for_make_train(srv):
    with school(srv) as c:
        err(c.post("/api/staff/answers", json={"topic": "Bad-Name", "text": "x"}), 422, "validation_error")
        err(c.post("/api/staff/answers", json={"topic": "login", "text": "x"}), 409, "already_exists")
        new = ok(
            c.post(
                "/api/staff/answers",
                json={
                    "topic": "scholarship_time",
                    "text": "奖学金发放时间请咨询学生资助中心。",
                    "source": "学生资助中心通知",
                },
            )
        )
        assert new["key"] == "utter_faq/scholarship_time" and new["version"] == 1
        # served at once by the NLG endpoint (for when the retrained model predicts it)
        r = srv.client().post(
            "/api/nlg",
            json={"response": "utter_faq/scholarship_time", "tracker": {"slots": {}}},
            headers={"X-Integration-Key": INTEGRATION_KEY},
        )
        assert ok(r)["text"] == "奖学金发放时间请咨询学生资助中心。\n依据：学生资助中心通知"
        ex = ok(
            c.post(
                "/api/staff/training-examples",
                json={"question": "奖学金  什么时候发", "answer_key": "utter_faq/scholarship_time"},
            )
        )
        assert ex["question"] == "奖学金 什么时候发" and ex["exported_at"] is None
        ok(
            c.post(
                "/api/staff/training-examples",
                json={"question": "审核一般要多久", "answer_key": "utter_faq/review_levels"},
            )
        )
        known = ok(
            c.post(
                "/api/staff/training-examples",
                json={
                    "question": "学校平台怎么登录",  # in data/nlu/faq.yml
                    "answer_key": "utter_faq/login",
                },
            )
        )
        assert known["already_in_training_data"] is True and ex["already_in_training_data"] is False
        again = ok(
            c.post(
                "/api/staff/training-examples",
                json={"question": "审核一般要多久", "answer_key": "utter_faq/review_levels"},
            )
        )
        assert ok(c.get("/api/staff/training-examples"))["pending"] == 3 and again["id"]
        out = ok(c.post("/api/staff/training-examples/export"))
        assert out["files"] == ["data/nlu/staff_examples.yml", "bot/domain/staff_answers.yml"]
        assert out["examples"] == 2 and out["new_answers"] == 1 and out["skipped_known"] == 1
        assert ok(c.get("/api/staff/training-examples"))["pending"] == 0
        audit = ok(c.get("/api/staff/audit", params={"limit": 1000}))["items"]
        assert {"create", "attach"} <= {
            a["action"] for a in audit if a["entity"] in ("answer", "training_example")
        }
    # Rasa's own readers accept what was written
    check = subprocess.run(
        [
            str(ROOT / ".venv-rasa" / "bin" / "python"),
            "-c",
            """
import json, sys
from rasa.shared.nlu.training_data.loading import load_data
from rasa.shared.core.domain import Domain
td = load_data(sys.argv[1])
d = Domain.from_path(sys.argv[2])
print(json.dumps({"examples": sorted((m.get("intent"), m.get("response_selector_key") or "", m.get("text"))
                                     for m in td.intent_examples),
                  "responses": sorted(d.responses)}, ensure_ascii=False))
""",
            str(srv.out / "data/nlu/staff_examples.yml"),
            str(srv.out / "bot/domain/staff_answers.yml"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert check.returncode == 0, check.stderr[-2000:]
    got = json.loads(check.stdout.strip().splitlines()[-1])
    texts = {e[2] for e in got["examples"]}
    assert texts == {"奖学金 什么时候发", "审核一般要多久"} and {e[0] for e in got["examples"]} == {"faq"}
    assert got["responses"] == ["utter_faq/scholarship_time"]
    # the CLI writes the same files
    r = srv.cli("export-training", extra_env={"STAFF_TRAINING_DIR": str(srv.out)})
    assert r.returncode == 0 and "'examples': 2" in r.stdout, r.stdout + r.stderr
