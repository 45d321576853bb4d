"""Issue 21 §4: personal numbers and e-mail addresses are masked in every spelling before they are stored, in
the turn log and in feedback, and so in the staff overview and the CSV exports: the regression corpus
tests/staff/data/mask_corpus.tsv (phone and ID numbers with . _ — – space separators, full-width, Chinese
numerals 〇/零/幺, partly masked ID numbers, abc＠qq．com ...) through the real backend on SQLite and
PostgreSQL."""

from __future__ import annotations

import csv
import io
import uuid
from pathlib import Path

import pytest

from contracts.masking import _view, mask
from tests.backend.helpers import INTEGRATION_KEY, ok

CORPUS = [
    line.split("\t")
    for line in (Path(__file__).parent / "data" / "mask_corpus.tsv").read_text(encoding="utf-8").splitlines()
    if line.strip() and not line.startswith("#")
]
assert len([c for c in CORPUS if c[0] != "keep"]) >= 50


def leaks(kind: str, text: str, secret: str, out: str) -> str | None:
    """What of the secret is still readable in `out` (None: nothing)."""
    if kind == "keep":
        return None if out == text else f"changed: {out}"
    view = _view(out)[0].lower()
    if kind == "email":
        local = secret.split("@")[0]
        return view if "@" in view or "(at)" in view or local in view else None
    digits = [c for c in view if c.isdigit()]
    return view if digits else None


@pytest.mark.parametrize("kind,text,secret", CORPUS, ids=[c[1] for c in CORPUS])
def test_corpus_spelling_is_masked(kind, text, secret):
    out = mask(text)
    assert leaks(kind, text, secret, out) is None, out
    if kind != "keep":
        assert "＊" in out and mask(out) == out  # masking twice changes nothing


def _label(tag: str, i: int) -> str:
    return f"{tag}{chr(97 + i // 26)}{chr(97 + i % 26)}|"  # letters only: masking leaves it alone


def _check(tag: str, cells: list[str]) -> int:
    """Every cell labelled with `tag` holds its corpus text masked; returns how many were checked."""
    n = 0
    for cell in cells:
        if cell.startswith(tag):
            label, stored = cell.split("|", 1)
            kind, text, secret = CORPUS[(ord(label[-2]) - 97) * 26 + ord(label[-1]) - 97]
            assert leaks(kind, text, secret, stored) is None, (text, stored)
            n += 1
    return n


def test_the_turn_log_and_its_exports_hold_no_spelling_of_a_secret(srv):
    tag = "".join(chr(ord("a") + int(c, 16)) for c in uuid.uuid4().hex[:8])
    turns = [
        {
            "at": srv.now().timestamp(),
            "channel": "web",
            "conversation": f"mask-{tag}-{i}",
            "question": _label(tag, i) + text,
            "intent": "faq",
            "confidence": 0.3,
            "answer_key": "utter_faq/login",
        }
        for i, (_, text, _) in enumerate(CORPUS)
    ]
    out = ok(
        srv.client().post(
            "/api/integration/turns", json={"turns": turns}, headers={"X-Integration-Key": INTEGRATION_KEY}
        )
    )
    assert out["stored"] == len(CORPUS) and out["rejected"] == 0
    picked = [
        0,
        4,
        13,
        17,
        24,
        36,
        44,
        49,
        51,
        53,
    ]  # feedback: question and comment (a few: feedback is limited)
    for i in picked:
        r = srv.client().post(
            "/api/feedback",
            json={
                "channel": "web",
                "conversation": f"mask-{tag}-fb{i}",
                "message_id": f"m{i}",
                "question": _label(tag, i) + CORPUS[i][1],
                "answer": "请登录学校平台。",
                "rating": "down",
                "reason": "没有帮助",
                "comment": _label(tag, i) + CORPUS[i][1],
            },
        )
        assert r.status_code == 200, r.text
    with srv.staff("school-admin") as c:
        turns_csv = c.get("/api/staff/insights/turns.csv", params={"days": 1}).text
        feedback_csv = c.get("/api/staff/insights/feedback.csv", params={"days": 1}).text
        overview = c.get("/api/staff/insights", params={"days": 1}).json()
    cells = [cell for row in csv.reader(io.StringIO(turns_csv.lstrip("\ufeff"))) for cell in row]
    assert _check(tag, cells) == len(CORPUS)
    cells = [cell for row in csv.reader(io.StringIO(feedback_csv.lstrip("\ufeff"))) for cell in row]
    assert _check(tag, cells) == 2 * len(picked)
    shown = [t["question"] for t in overview["low_confidence"]]
    assert _check(tag, shown) > 0


@pytest.mark.parametrize("db_kind", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_rows_stored_before_are_masked_by_the_migration(db_kind, tmp_path):
    """Migration 0009 masks turn-log and feedback rows stored in clear by the old masking."""
    import subprocess
    import sys

    from sqlalchemy import create_engine, text

    from tests.backend.helpers import ROOT, database_urls

    url, drop = database_urls(tmp_path, db_kind)
    env = {"PYTHONPATH": str(ROOT), "DATABASE_URL": url, "PATH": "/usr/bin:/bin"}
    alembic = [sys.executable, "-m", "alembic", "-c", str(ROOT / "backend" / "alembic.ini")]
    clear = [t for k, t, _ in CORPUS if k != "keep"]
    try:
        r = subprocess.run(alembic + ["upgrade", "0008"], cwd=ROOT, env=env, capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
        engine = create_engine(url)
        with engine.begin() as conn:
            for t in clear:
                conn.execute(
                    text(
                        "INSERT INTO turn_log (at, channel, conversation, question, fallback, handoff) "
                        "VALUES (CURRENT_TIMESTAMP, 'web', 'old', :q, false, false)"
                    ),
                    {"q": t},
                )
            conn.execute(
                text(
                    "INSERT INTO feedback (at, channel, conversation, message_id, question, answer, "
                    "rating, comment) VALUES (CURRENT_TIMESTAMP, 'web', 'old', 'm1', :q, :a, 'down', :c)"
                ),
                {"q": clear[0], "a": "请登录。", "c": clear[-1]},
            )
        r = subprocess.run(alembic + ["upgrade", "head"], cwd=ROOT, env=env, capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
        with engine.connect() as conn:
            stored = list(conn.execute(text("SELECT question FROM turn_log ORDER BY id")).scalars())
            fb = conn.execute(text("SELECT question, answer, comment FROM feedback")).one()
        engine.dispose()
        by_text = {t: (k, s) for k, t, s in CORPUS}
        assert len(stored) == len(clear)
        for orig, now in zip(clear, stored, strict=True):
            assert leaks(by_text[orig][0], orig, by_text[orig][1], now) is None, (orig, now)
        assert fb[0] == mask(clear[0]) and fb[1] == "请登录。" and fb[2] == mask(clear[-1])
    finally:
        drop()
