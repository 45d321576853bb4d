"""bench/report.py: the NLG cost row (issue 14 leftover) and updating one row of docs/benchmarks.md in
place."""

from __future__ import annotations

from bench import report

NLG = {
    "off": {"turns": 200, "p50_ms": 80.0, "p95_ms": 120.0, "mean_ms": 85.0},
    "nlg only": {"turns": 200, "p50_ms": 81.5, "p95_ms": 121.0, "mean_ms": 86.0, "extra_p50_ms": 1.5},
    "on": {"turns": 200, "p50_ms": 93.0, "p95_ms": 130.0, "mean_ms": 95.0, "extra_p50_ms": 13.0},
}

PAGE = """# Benchmarks

Hand-written note that must survive.

## Targets

| what | target | measured | met |
| --- | --- | --- | --- |
| FAQ turn p50, 1 client | <= 60 ms | 15 ms | yes |

## Accuracy
"""


def test_nlg_row_measures_the_extra_p50_and_misses_above_the_target():
    rows = [r for r in report.target_rows({"nlg_cost": NLG}) if r[0].startswith("NLG")]
    assert len(rows) == 1
    what, target, got, ok = rows[0]
    assert target == "<= 10 ms" and "+13.0 ms" in got and "NLG alone +1.5 ms" in got and ok is False
    fast = {**NLG, "on": {**NLG["on"], "p50_ms": 84.0, "extra_p50_ms": 4.0}}
    assert [r for r in report.target_rows({"nlg_cost": fast}) if r[0].startswith("NLG")][0][3] is True


def test_put_target_row_appends_then_replaces_leaving_the_page_alone(tmp_path):
    page = tmp_path / "benchmarks.md"
    page.write_text(PAGE, encoding="utf-8")
    report.put_target_row(page, ("NLG cost", "<= 10 ms", "+13.0 ms", False), "NLG")
    text = page.read_text(encoding="utf-8")
    assert (
        "| FAQ turn p50, 1 client | <= 60 ms | 15 ms | yes |\n"
        "| NLG cost | <= 10 ms | +13.0 ms | NO |\n\n## Accuracy" in text
    )
    report.put_target_row(page, ("NLG cost", "<= 10 ms", "+2.0 ms", True), "NLG")
    text = page.read_text(encoding="utf-8")
    assert text.count("| NLG cost") == 1 and "| NLG cost | <= 10 ms | +2.0 ms | yes |" in text
    assert "Hand-written note that must survive." in text and text.endswith("## Accuracy\n")


def test_save_results_writes_each_name_with_the_time_stamp(tmp_path, monkeypatch):
    monkeypatch.setattr(report, "RESULTS", tmp_path / "results")
    first = report.save_results({"x": "中文"}, "run-{stamp}.json", "latest.json")
    assert first.startswith("run-2") and first.endswith(".json") and "{" not in first
    assert (
        (tmp_path / "results" / first).read_text(encoding="utf-8")
        == (tmp_path / "results" / "latest.json").read_text(encoding="utf-8")
        == '{\n "x": "中文"\n}'
    )


def test_issue_12_targets_are_rows_of_the_table():
    res = {
        "resources": {"train_s": 200.0},
        "cv": {"reports": {"intent": {"weighted": 0.931}, "response_selection": {"weighted": 0.89}}},
    }
    rows = {r[0]: r for r in report.target_rows(res)}
    assert rows["training the whole bot (`rasa train --force`), 2 cores"][3] is False
    assert rows["NLU cross-validation, intent weighted F1"][2:] == ("0.931", True)
    assert rows["NLU cross-validation, FAQ answer weighted F1"][2:] == ("0.890", False)
