"""Parsing chat_eval.py output and Rasa's cross-validation reports."""

import json

from bench.accuracy import merge_cases, parse_chat_eval, read_cv_reports

OUT = """FAIL faq-3: said '推荐表' -> '...'
faq: 2/3
oos: 1/1
latency ms: p50 31, p95 80, turns 4
pass rate 0.750
3 passed, 1 failed
"""


def test_parse_chat_eval():
    r = parse_chat_eval(OUT)
    assert r["pass_rate"] == 0.75 and r["total"] == 4 and r["by_category"] == {"faq": [2, 3], "oos": [1, 1]}
    assert r["failures"] == ["faq-3: said '推荐表' -> '...'"] and r["latency_p95_ms"] == 80


def test_merge_and_cv_reports(tmp_path):
    a = tmp_path / "a.jsonl"
    a.write_text('{"id": "x-1", "turns": []}\n\n{"id": "y", "cat": "c", "turns": []}\n', encoding="utf-8")
    out = tmp_path / "all.jsonl"
    assert merge_cases([a], out) == 2
    assert [json.loads(ln)["cat"] for ln in out.read_text().splitlines()] == ["x", "c"]
    (tmp_path / "intent_report.json").write_text(
        json.dumps(
            {
                "greet": {"f1-score": 1.0},
                "accuracy": 0.9,
                "weighted avg": {"f1-score": 0.91},
                "macro avg": {"f1-score": 0.8},
            }
        )
    )
    (tmp_path / "DIETClassifier_report.json").write_text(json.dumps({"micro avg": {"f1-score": 0.7}}))
    r = read_cv_reports(tmp_path)
    assert r["intent"] == {"weighted": 0.91, "macro": 0.8, "accuracy": 0.9}
    assert r["entities"] == {"DIETClassifier": {"micro": 0.7}}
