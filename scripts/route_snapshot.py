"""Snapshot of the backend's HTTP answers, to prove a restructuring changed no behaviour.

Starts the real backend (system.System, a fresh SQLite database, TODAY pinned, demo data seeded), signs in as
a student, a counselor, school staff and the integration key, calls every GET route of the OpenAPI (path
parameters taken from the seed, plus one that does not exist) as each of them and anonymously, then POSTs/PUTs
a few bad bodies, and writes {"METHOD path as who": [status, json]} sorted to a file, with `/openapi.json`'s
paths and methods beside it. Values that change from run to run (tokens, the real time of day) are masked.

    .venv/bin/python -m scripts.route_snapshot /tmp/before.json
"""

from __future__ import annotations

import json
import re
import sys
import tempfile
from pathlib import Path

import httpx

from system import System

TODAY = "2026-11-30"
INTEGRATION_KEY = "snapshot-integration-key"
STUDENT, COUNSELOR, SCHOOL = "2025000004", "counselor-physics", "school-admin"
_TIME = re.compile(r"^(\d{4}-\d\d-\d\d)[T ]\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:?\d\d)?$")
_JWT = re.compile(r"^[\w-]+\.[\w-]+\.[\w-]+$")
_TIME_IN_TEXT = re.compile(r"(\d{4}-\d\d-\d\d)[T ]\d\d:\d\d:\d\d(\.\d+)?(\+08:00|Z)?")


def mask(value):
    """The value with run-dependent parts replaced: times of day, tokens, bind codes."""
    if isinstance(value, dict):
        return {k: ("<code>" if k == "code" and _is_bind_code(value) else mask(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [mask(v) for v in value]
    if isinstance(value, str):
        if _TIME.match(value):
            return _TIME.sub(r"\1T<time>", value)
        if _JWT.match(value) and len(value) > 40:
            return "<token>"
        return _TIME_IN_TEXT.sub(r"\1T<time>", value)
    return value


def _is_bind_code(d: dict) -> bool:
    return "expires_at" in d and isinstance(d.get("code"), str)


def answer(r: httpx.Response):
    try:
        body = r.json()
    except ValueError:
        body = r.text
    return [r.status_code, mask(body)]


def first(items, *keys):
    """The first item's value at keys (a list answer or a dict with an `items` list)."""
    if isinstance(items, dict):
        items = (
            items.get("items")
            or items.get("records")
            or next((v for v in items.values() if isinstance(v, list)), [])
        )
    for it in items or []:
        v = it
        for k in keys:
            v = v.get(k) if isinstance(v, dict) else None
        if v is not None:
            return v
    return None


def snapshot(base: str) -> dict:
    http = httpx.Client(base_url=base, timeout=60, trust_env=False)

    def login(body: dict) -> dict:
        r = http.post("/api/auth/dev-login", json=body)
        r.raise_for_status()
        return {"Authorization": f"Bearer {r.json()['access_token']}"}

    who = {
        "anonymous": {},
        "student": login({"student_id": STUDENT}),
        "counselor": login({"staff_id": COUNSELOR}),
        "school": login({"staff_id": SCHOOL}),
        "integration": {"X-Integration-Key": INTEGRATION_KEY},
    }
    spec = http.get("/openapi.json").json()
    school = who["school"]
    records = http.get("/api/staff/records", params={"kind": "destination"}, headers=school).json()
    params = {
        "kind": first(records, "kind") or "destination",
        "rid": first(records, "id") or 1,
        "mid": first(http.get("/api/staff/mailing", headers=school).json(), "id") or 1,
        "key": first(http.get("/api/staff/answers", headers=school).json(), "key") or "utter_greet",
        "entry_id": first(http.get("/api/staff/knowledge", headers=school).json(), "id") or 1,
        "deadline_id": first(http.get("/api/staff/notices/deadlines", headers=school).json(), "id") or 1,
        "sid": STUDENT,
        "student_id": STUDENT,
        "form": "profile",
    }
    missing = {
        "rid": 999999,
        "mid": 999999,
        "key": "utter_no_such",
        "entry_id": 999999,
        "deadline_id": 999999,
        "sid": "2099999999",
        "kind": "nosuch",
    }
    query = {  # the required query parameters, and a few optional ones
        "/api/staff/records": ["kind=destination", "kind=archive&state=submitted", "kind=change"],
        "/api/staff/notices/deadlines/preview": ["audience=all", "audience=nosuch"],
        "/api/staff/audit": ["", "student_id=2025000004"],
        "/api/staff/insights": ["", "days=30"],
        "/api/calendar/next-workday": ["", "on=2026-10-01"],
    }
    out: dict = {}
    for path, ops in sorted(spec["paths"].items()):
        if "get" not in ops:
            continue
        names = re.findall(r"{(\w+)}", path)
        variants = [params] + ([{**params, **missing}] if names else [])
        for values in variants:
            for q in query.get(path, [""]):
                url = path.format(**{n: values[n] for n in names}) + (f"?{q}" if q else "")
                for name, headers in who.items():
                    out[f"GET {url} as {name}"] = answer(http.get(url, headers=headers))
    bad = [
        ("POST", "/api/auth/dev-login", None, {}),
        ("POST", "/api/auth/dev-login", None, {"student_id": "1" * 300}),
        ("POST", "/api/validation/profile", None, {"phone": "123"}),
        ("POST", "/api/validation/nosuch", None, {}),
        ("PUT", "/api/me/profile", "student", {"phone": "abc", "email": "x"}),
        ("PUT", "/api/me/destination", "student", {"category": "no-such-category"}),
        ("PUT", "/api/me/archive", "student", {"postal_code": "12"}),
        ("POST", "/api/me/change-requests", "student", {"form": "nosuch"}),
        ("POST", "/api/staff/records/destination/999999/review", "school", {"decision": "maybe"}),
        ("POST", "/api/staff/mailing/999999/ship", "school", {}),
        ("POST", "/api/staff/answers", "school", {}),
        ("PUT", f"/api/staff/answers/{params['key']}", "school", {"texts": "not a list"}),
        ("POST", "/api/staff/training-examples", "school", {}),
        ("POST", "/api/staff/knowledge", "school", {"title": ""}),
        ("POST", "/api/feedback", "student", {"rating": "bad-value"}),
        ("POST", "/api/integration/feedback", "integration", {}),
        ("POST", "/api/integration/turns", "integration", {"turns": "x"}),
        ("POST", "/api/integration/national/confirmations", "integration", {}),
        ("POST", "/api/integration/wechat/bind", "integration", {"openid": "", "code": "x"}),
        ("POST", "/api/integration/wechat/notices", "integration", {}),
        ("POST", "/api/me/notices/read", "student", {"ids": "x"}),
        ("PUT", "/api/me/notices/settings", "student", {"wechat": "maybe"}),
        ("POST", "/api/staff/notices/deadlines", "school", {}),
        ("POST", "/api/integration/handoff", "integration", {}),
        ("POST", "/api/integration/handoff/inbound", "integration", {}),
        ("POST", "/api/integration/handoff/bot", "integration", {}),
        ("POST", f"/api/staff/handoff/{STUDENT}/reply", "school", {}),
        ("POST", "/api/nlg", None, {"template": 5}),
    ]
    for method, url, name, body in bad:
        r = http.request(method, url, json=body, headers=who[name] if name else {})
        out[f"{method} {url} as {name or 'anonymous'} {json.dumps(body, sort_keys=True)}"] = answer(r)
    good = [  # successful writes, last: ingestion, feedback, the notice setting, mark read, a staff example
        (
            "POST",
            "/api/integration/turns",
            "integration",
            {
                "turns": [
                    {
                        "channel": "web",
                        "conversation": "anon:snap1",
                        "question": "手机13812345678怎么\x00办",
                        "intent": "faq",
                        "confidence": 0.9,
                        "answer_key": "utter_faq/login",
                    }
                ]
            },
        ),
        (
            "POST",
            "/api/feedback",
            "student",
            {"conversation": "student:snap", "question": "档案", "answer": "回答", "rating": "up"},
        ),
        ("PUT", "/api/me/notices/settings", "student", {"wechat_enabled": False}),
        ("POST", "/api/me/notices/read", "student", {"ids": [1, 2, 3]}),
        ("GET", "/api/me/notices", "student", None),
        ("GET", "/api/staff/insights/turns.csv?days=30", "school", None),
    ]
    for method, url, name, body in good:
        r = http.request(method, url, json=body, headers=who[name])
        out[f"{method} {url} as {name} {json.dumps(body, sort_keys=True, ensure_ascii=False)} (write)"] = (
            answer(r)
        )
    routes = sorted(f"{m.upper()} {p}" for p, ops in spec["paths"].items() for m in ops)
    http.close()
    return {"openapi_routes": routes, "answers": dict(sorted(out.items()))}


def main() -> None:
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "route_snapshot.json")
    with tempfile.TemporaryDirectory() as tmp:
        system = System(
            database_url=f"sqlite:///{tmp}/snapshot.db",
            log_dir=Path(tmp) / "log",
            env={
                "TODAY": TODAY,
                "TODAY_FILE": None,
                "DEMO_MODE": "1",
                "API_DOCS": "1",
                "INTEGRATION_KEY": INTEGRATION_KEY,
                "AUTH_SECRET": "snapshot-secret",
                "NOTICE_WORKER": "0",
                "HANDOFF_WORKER": "0",
                "HANDOFF_SWEEP": "0",
            },
        )
        try:
            system.prepare_database(seed=True)
            system.start_backend(timeout=60)
            data = snapshot(system.backend_url)
        finally:
            system.stop()
    target.write_text(json.dumps(data, ensure_ascii=False, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print(f"{len(data['answers'])} answers, {len(data['openapi_routes'])} routes -> {target}")


if __name__ == "__main__":
    main()
