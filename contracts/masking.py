"""Masking of personal numbers and e-mail addresses in text staff read (turn log, feedback, their exports).

Students write numbers in many ways (issue 21 §4): `138.1234.5678`, `138_1234_5678`, `138—1234—5678`,
full-width `１３８１２３４５６７８`, Chinese numerals `一三八一二三四五六七八` (also 〇/零/幺 and the
financial 壹贰叁...), `abc＠qq．com`, partly masked ID numbers `110101********123X`. The text is first read
through a normalised view (NFKC per character, Chinese numerals as digits) that keeps, for each character of
the view, where it came from; the patterns run on the view and the matching stretches of the ORIGINAL text
become ＊, so everything else (full-width punctuation, Chinese numerals in ordinary words) is stored as
written.

- a number: digits (or `*`, the masking others already applied) with any of the separators below between them
  (at most 2 in a row), optionally ending in X (ID numbers); masked with at least 6 real digits, or 4 together
  with masking stars (a partly masked phone or ID number);
- an e-mail address: local part, `@` (also ＠ and `(at)`), domain with dots (also ． and 。), spaces allowed
  around `@` and the dots.
The regression corpus: tests/staff/data/mask_corpus.tsv (tests/staff/test_masking.py).
"""

from __future__ import annotations

import re
import unicodedata

MASK = "＊"
CN_DIGITS = {
    **dict.fromkeys("〇零", "0"),
    "幺": "1",
    **{c: str(i) for i, c in enumerate("一二三四五六七八九", 1)},
    **{c: str(i) for i, c in enumerate("壹贰叁肆伍陆柒捌玖", 1)},
}
_SEP = r"[\s._\-\u2010-\u2015\u2212\u30fc~·•/\\,，、:;()\[\]]"  # in the view: ．→. ＿→_ －→- ：→: ～→~
_NUMBER = re.compile(rf"[0-9*](?:{_SEP}{{0,2}}[0-9*])*(?:{_SEP}{{0,2}}[Xx](?![A-Za-z]))?")
_EMAIL = re.compile(
    r"[A-Za-z0-9._%+\-]+\s*(?:@|\(at\)|\[at\])\s*[A-Za-z0-9\-]+(?:\s*[.。]\s*[A-Za-z0-9\-]+)+", re.IGNORECASE
)
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def storable(text: str) -> str:
    """`text` without NUL and lone surrogates, which neither PostgreSQL nor SQLite text can hold."""
    return _UNSTORABLE.sub("", text)


def _view(text: str) -> tuple[str, list[int]]:
    """The normalised view of `text` and, per character of it, the index of the original character."""
    out: list[str] = []
    where: list[int] = []
    for i, ch in enumerate(text):
        norm = CN_DIGITS.get(ch) or unicodedata.normalize("NFKC", ch)
        out.append(norm)
        where.extend([i] * len(norm))
    return "".join(out), where


def _is_number(s: str) -> bool:
    digits = sum(c.isdigit() for c in s)
    return digits >= 6 or (digits >= 4 and "*" in s)


def spans(text: str) -> list[tuple[int, int]]:
    """Stretches [start, end) of `text` holding a personal number or an e-mail address, in order."""
    view, where = _view(text)
    found = [m.span() for m in _EMAIL.finditer(view)]
    taken = [False] * len(view)
    for a, b in found:
        taken[a:b] = [True] * (b - a)
    for m in _NUMBER.finditer(view):
        if not any(taken[m.start() : m.end()]) and _is_number(m.group(0)):
            found.append(m.span())
    return sorted((where[a], where[b - 1] + 1) for a, b in found if b > a)


def mask(text: str, limit: int = 1000) -> str:
    """`text` (NUL removed) with phone, ID, student or EMS numbers and e-mail addresses as ＊ (at most 11 per
    stretch, so the length of an ID number does not show), cut to `limit` characters."""
    text = storable(str(text or ""))
    out, last = [], 0
    for a, b in spans(text):
        if a < last:
            continue
        out += [text[last:a], MASK * min(b - a, 11)]
        last = b
    out.append(text[last:])
    return "".join(out)[:limit]
