"""The retrieval baseline on a small project of its own, served over real HTTP and scored by
eval/chat_eval.py."""

import json
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from bench.baseline import Baseline, intent_actions, load_examples, strip_annotations

ROOT = Path(__file__).resolve().parents[2]
CHAT_EVAL = ROOT / "eval" / "chat_eval.py"  # the project's runner


def test_parsing(project):
    assert strip_annotations("[毕业去向](record)审核通过了吗") == "毕业去向审核通过了吗"
    ex = load_examples(project / "data" / "nlu")
    assert ("毕业去向审核通过了吗", "ask_status") in ex
    assert all(intent != "phone" for _, intent in ex)  # regex blocks are not examples
    acts = intent_actions(project / "data")
    assert acts == {"greet": "utter_greet", "ask_status": "action_show_status", "faq": "utter_faq"}


def test_answers(project):
    bot = Baseline.from_project(project)
    assert bot.nearest("推荐表丢了还能补办吗")[0] == "faq/lost_form"
    assert bot.answer("u", "推荐表丢了还能补办吗")[0]["text"].startswith("推荐表遗失补办")
    msg = bot.answer("u", "档案可以寄给家属吗")[0]
    assert msg["text"] == "收件人不能是本人或家属。" and msg["buttons"][0]["title"] == "查看邮寄要求"
    assert bot.answer("u", "你好")[0]["text"].startswith("你好")
    assert bot.answer("u", "我的审核进度到哪了") == []  # a custom action: the baseline has no answer
    assert bot.answer("u", "天气")[0]["text"] == "抱歉，我不太明白。"  # nothing in common: fallback


def test_served_and_scored_by_chat_eval(baseline_url, tmp_path):
    url = baseline_url
    req = urllib.request.Request(
        url + "/webhooks/rest/webhook", data=b"not json", headers={"content-type": "application/json"}
    )
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(req, timeout=5)
    assert e.value.code == 400 and json.loads(e.value.read())["code"] == "bad_json"

    cases = tmp_path / "cases.jsonl"
    cases.write_text(
        "\n".join(
            json.dumps(c, ensure_ascii=False)
            for c in [
                {"id": "faq-1", "turns": [{"say": "推荐表遗失了能补吗", "expect_any": [["补办"]]}]},
                {
                    "id": "faq-2",
                    "login": "2025000005",
                    "turns": [
                        {
                            "say": "档案收件人可以是家属吗",
                            "expect_any": [["家属"]],
                            "expect_none": ["条件回复"],
                        }
                    ],
                },
                {"id": "act-1", "turns": [{"say": "我的审核进度到哪了", "expect_any": [["审核"]]}]},
            ]
        ),
        encoding="utf-8",
    )
    out = subprocess.run(
        [
            sys.executable,
            str(CHAT_EVAL),
            str(cases),
            "--bot",
            url + "/webhooks/rest/webhook",
            "--backend",
            url,
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert "faq: 2/2" in out.stdout and "act: 0/1" in out.stdout, out.stdout + out.stderr
