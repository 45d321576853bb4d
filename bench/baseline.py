"""The baseline: a nearest-example retrieval bot, which is what most university FAQ bots are.

It indexes the SAME training examples as the assistant (data/nlu/*.yml) with jieba + BM25, finds the example
closest to the question and answers with the response mapped to that example's intent:
- a retrieval intent `faq/x` answers with `utter_faq/x` from bot/domain/*.yml;
- any other intent answers with the plain response (`utter_*`) that the rules (or, failing that, the stories)
  run right after it, or with nothing when they run a custom action or a form;
- a question sharing no term with any example gets the domain's fallback response (`utter_default`, ...).
It has no memory, no sign-in and no back end: one question, one nearest example.

It speaks the Rasa REST channel's JSON (`POST /webhooks/rest/webhook` {"sender", "message", "metadata"} ->
[{"recipient_id", "text", "buttons"?}]), so eval/chat_eval.py scores it exactly like the real bot.

    .venv/bin/python -m bench.baseline --port 8501          # serve
    .venv/bin/python -m bench.baseline --ask "推荐表丢了能补吗"  # one answer on the console
"""

from __future__ import annotations

import argparse
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

ROOT = Path(__file__).resolve().parent.parent
FALLBACK_NAMES = ("utter_default", "utter_fallback", "utter_out_of_scope", "utter_ask_rephrase")
FALLBACK_TEXT = "抱歉，我不太明白您的问题。"

# [entity text](entity_name) / [entity text]{"entity": ...} -> entity text
_ENTITY = re.compile(r"\[([^\]]+)\](?:\([^)]*\)|\{[^}]*\})")
_PUNCT = set("，。！？、；：“”‘’（）《》【】…—·,.!?;:'\"()[]{}<>~`@#$%^&*-_=+|\\/ \t\r\n")


def strip_annotations(text: str) -> str:
    return _ENTITY.sub(r"\1", text).strip()


def _yaml_files(path: Path) -> list[Path]:
    if path.is_file():
        return [path]
    if not path.exists():
        return []
    return sorted(p for p in path.rglob("*") if p.suffix in (".yml", ".yaml"))


def _load(path: Path) -> dict:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError:
        return {}


def load_examples(nlu_dir: Path) -> list[tuple[str, str]]:
    """(example text, intent) for every training example, entity annotations removed."""
    out = []
    for f in _yaml_files(nlu_dir):
        for block in _load(f).get("nlu") or []:
            intent = block.get("intent") if isinstance(block, dict) else None
            if not intent:
                continue
            examples = block.get("examples") or ""
            if isinstance(examples, str):
                lines = [line.strip() for line in examples.splitlines()]
                items = [line[1:].strip() for line in lines if line.startswith("-")]
            else:  # list form: [{"text": ...}, ...]
                items = [e.get("text", "") if isinstance(e, dict) else str(e) for e in examples]
            out += [(strip_annotations(t), intent) for t in items if t.strip()]
    return out


def load_responses(domain_dir: Path) -> dict[str, list[dict]]:
    responses: dict[str, list[dict]] = {}
    for f in _yaml_files(domain_dir):
        for name, variants in (_load(f).get("responses") or {}).items():
            responses[name] = variants or []
    return responses


def intent_actions(data_dir: Path) -> dict[str, str]:
    """intent -> the first action run right after it; rules take precedence over stories."""
    from_rules: dict[str, str] = {}
    from_stories: dict[str, str] = {}
    for f in _yaml_files(data_dir):
        doc = _load(f)
        for key, target in (("rules", from_rules), ("stories", from_stories)):
            for item in doc.get(key) or []:
                steps = item.get("steps") or [] if isinstance(item, dict) else []
                for i, step in enumerate(steps):
                    if not isinstance(step, dict) or "intent" not in step:
                        continue
                    nxt = next(
                        (
                            s
                            for s in steps[i + 1 :]
                            if isinstance(s, dict) and ("action" in s or "intent" in s)
                        ),
                        None,
                    )
                    if nxt and "action" in nxt:
                        target.setdefault(step["intent"], nxt["action"])
    return {**from_stories, **from_rules}


def _plain_variant(variants: list[dict]) -> dict | None:
    """The first variant shown to everyone (no condition, no channel restriction)."""
    for v in variants:
        if isinstance(v, dict) and not v.get("condition") and not v.get("channel"):
            return v
    return variants[0] if variants else None


@dataclass
class Baseline:
    examples: list[tuple[str, str]]
    responses: dict[str, list[dict]]
    actions: dict[str, str]
    dictionary_dir: Path | None = None
    _bm25: object = field(default=None, init=False, repr=False)

    @classmethod
    def from_project(cls, root: Path = ROOT) -> Baseline:
        return cls(
            examples=load_examples(root / "data" / "nlu"),
            responses=load_responses(root / "bot" / "domain"),
            actions=intent_actions(root / "data"),
            dictionary_dir=root / "bot" / "dictionary",
        )

    def __post_init__(self):
        import jieba
        from rank_bm25 import BM25Okapi

        jieba.setLogLevel(60)
        if self.dictionary_dir and self.dictionary_dir.is_dir():  # the bot's own user dictionaries
            for f in sorted(self.dictionary_dir.iterdir()):
                if f.is_file():
                    jieba.load_userdict(str(f))
        if not self.examples:
            raise ValueError("no training examples found")
        self._bm25 = BM25Okapi([self.tokens(t) or ["<empty>"] for t, _ in self.examples])

    @staticmethod
    def tokens(text: str) -> list[str]:
        import jieba

        text = unicodedata.normalize("NFKC", text).lower()
        return [w for w in jieba.lcut_for_search(text) if w.strip() and not all(c in _PUNCT for c in w)]

    def nearest(self, text: str) -> tuple[str | None, float, str | None]:
        """(intent, score, example) of the closest training example; (None, 0, None) when nothing overlaps."""
        q = self.tokens(text)
        if not q:
            return None, 0.0, None
        scores = self._bm25.get_scores(q)
        best = max(range(len(scores)), key=scores.__getitem__)
        if scores[best] <= 0:
            return None, 0.0, None
        example, intent = self.examples[best]
        return intent, float(scores[best]), example

    def response_for(self, intent: str | None) -> dict | None:
        if intent is None:
            for name in FALLBACK_NAMES:
                if name in self.responses:
                    return _plain_variant(self.responses[name])
            return {"text": FALLBACK_TEXT}
        if "/" in intent:  # retrieval intent faq/x -> utter_faq/x
            return _plain_variant(self.responses.get(f"utter_{intent}", []))
        action = self.actions.get(intent)
        if action and action in self.responses:
            return _plain_variant(self.responses[action])
        return None  # handled by a custom action or a form: the baseline cannot do it

    def answer(self, sender: str, text: str) -> list[dict]:
        variant = self.response_for(self.nearest(text)[0])
        if not variant:
            return []
        msg = {"recipient_id": sender}
        for key in ("text", "buttons", "image", "custom"):
            if variant.get(key):
                msg[key] = variant[key]
        return [msg] if len(msg) > 1 else []


def create_app(bot: Baseline):
    app = FastAPI(title="retrieval baseline", docs_url=None, redoc_url=None)

    @app.get("/")
    async def health():
        return {"status": "ok", "examples": len(bot.examples)}

    @app.post("/webhooks/rest/webhook")
    async def webhook(request: Request):
        try:
            body = await request.json()
        except ValueError:
            return JSONResponse({"code": "bad_json", "message": "请求体不是 JSON"}, status_code=400)
        if not isinstance(body, dict) or not isinstance(body.get("message"), str):
            return JSONResponse({"code": "validation_error", "message": "缺少 message"}, status_code=422)
        return bot.answer(str(body.get("sender") or "default"), body["message"])

    @app.post("/api/auth/dev-login")  # lets chat_eval.py run login cases against the baseline alone
    async def dev_login():
        return {"access_token": "baseline-has-no-sign-in", "token_type": "bearer"}

    return app


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--root", type=Path, default=ROOT, help="project root holding data/ and bot/")
    ap.add_argument("--port", type=int, default=8501)
    ap.add_argument("--ask", help="print the answer to one question and exit")
    a = ap.parse_args(argv)
    bot = Baseline.from_project(a.root)
    if a.ask:
        intent, score, example = bot.nearest(a.ask)
        print(f"nearest: {example!r} ({intent}, bm25 {score:.2f})")
        print(bot.answer("console", a.ask))
        return 0
    import uvicorn

    uvicorn.run(create_app(bot), host="127.0.0.1", port=a.port, log_level="warning", access_log=False)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
