"""The deadlines API behind the staff page's 截止提醒 (issue 15 §1) over HTTP against the real backend
(SQLite, and PostgreSQL with TEST_POSTGRES_URL): the career center only, who a deadline concerns, who got it,
and a deadline sent twice at once (two clicks, two tabs, two backend processes) reminds the students once."""

from __future__ import annotations

import datetime as dt
from concurrent.futures import ThreadPoolExecutor

import httpx

from tests.backend.helpers import err, ok, start_backend, stop_backend


def due(srv, days: int) -> str:
    return (dt.date.fromisoformat(srv.today_file.read_text().strip()) + dt.timedelta(days=days)).isoformat()


def test_who_a_deadline_concerns_and_who_got_it(srv):
    with srv.staff("school-admin") as c:
        pv = ok(
            c.get(
                "/api/staff/notices/deadlines/preview",
                params={"audience": "destination_open", "college_code": "computer"},
            )
        )
        assert pv["count"] == 1 and [s["id"] for s in pv["students"]] == ["2025000002"]
        assert pv["students"][0]["college"] == "计算机学院" and pv["audience_label"].startswith(
            "毕业去向登记"
        )
        everyone = ok(c.get("/api/staff/notices/deadlines/preview", params={"audience": "all"}))["count"]
        assert everyone == 7
        r = c.post(
            "/api/staff/notices/deadlines",
            json={
                "title": "计算机学院去向登记截止",
                "due_on": due(srv, 10),
                "audience": "destination_open",
                "college_code": "computer",
            },
        )
        assert r.status_code == 201 and r.json()["students"] == 1, r.text
        did = r.json()["id"]
        d = ok(c.get(f"/api/staff/notices/deadlines/{did}"))
        assert [(s["id"], s["read"]) for s in d["recipients"]] == [("2025000002", False)]
        listed = ok(c.get("/api/staff/notices/deadlines"))
        assert listed["can_create"] and {"code": "computer", "name": "计算机学院"} in listed["colleges"]
        assert [x["students"] for x in listed["deadlines"] if x["id"] == did] == [1]
    # the student reads it: the career center sees it
    with srv.student("2025000002") as me:
        ids = [
            n["id"]
            for n in ok(me.get("/api/me/notices"))["notices"]
            if "计算机学院去向登记截止" in n["title"]
        ]
        assert ok(me.post("/api/me/notices/read", json={"ids": ids}))["marked"] == 1
    with srv.staff("school-admin") as c:
        assert [s["read"] for s in ok(c.get(f"/api/staff/notices/deadlines/{did}"))["recipients"]] == [True]
    # a counselor of that college may look, not create; another college's counselor does not find it
    with srv.staff("counselor-computer") as c:
        assert ok(c.get(f"/api/staff/notices/deadlines/{did}"))["students"] == 1
        assert not ok(c.get("/api/staff/notices/deadlines"))["can_create"]
        body = err(
            c.post(
                "/api/staff/notices/deadlines",
                json={"title": "本院截止", "due_on": due(srv, 5), "audience": "all"},
            ),
            403,
            "forbidden",
        )
        assert "学校就业指导中心" in body["message"]
        err(c.get("/api/staff/notices/deadlines/preview", params={"audience": "all"}), 403, "forbidden")
    with srv.staff("counselor-physics") as c:
        err(c.get(f"/api/staff/notices/deadlines/{did}"), 404, "not_found")
    with srv.student("2025000002") as me:
        err(me.get("/api/staff/notices/deadlines/preview", params={"audience": "all"}), 403, "forbidden")
    err(srv.client().get(f"/api/staff/notices/deadlines/{did}"), 401, "not_authenticated")


def test_bad_input_gets_a_clear_answer(srv):
    with srv.staff("school-admin") as c:
        for params in (
            {"audience": "everyone"},
            {},
            {"audience": "all", "college_code": "nope"},
            {"audience": "all", "college_code": "x" * 41},
        ):
            body = err(c.get("/api/staff/notices/deadlines/preview", params=params), 422, "validation_error")
            assert any("\u4e00" <= ch <= "\u9fff" for ch in body["message"])
        for bad in ("0", "abc", str(2**40), "-1"):
            err(c.get(f"/api/staff/notices/deadlines/{bad}"), 422, "validation_error")
        err(c.get("/api/staff/notices/deadlines/99999"), 404, "not_found")
        body = err(
            c.post(
                "/api/staff/notices/deadlines",
                json={"title": "毕业去向修改截止", "due_on": "2000-01-01", "audience": "all"},
            ),
            422,
            "validation_error",
        )
        assert body["fields"][0]["field"] == "due_on"


def test_the_same_deadline_sent_twice_at_once_reminds_once(srv, tmp_path):
    second = start_backend(srv.db_url, tmp_path, seed=False)  # a second process on the same database
    try:
        tok = srv.token(staff_id="school-admin")
        body = {"title": "全校档案材料截止", "due_on": due(srv, 12), "audience": "all"}
        clients = [
            httpx.Client(base_url=b, trust_env=False, timeout=60, headers={"Authorization": f"Bearer {tok}"})
            for b in (srv.base, second.base)
        ]
        with ThreadPoolExecutor(6) as pool:
            res = list(
                pool.map(lambda i: clients[i % 2].post("/api/staff/notices/deadlines", json=body), range(6))
            )
        for c in clients:
            c.close()
        assert sorted(r.status_code for r in res) == [201] + [409] * 5, [r.text for r in res]
        did = next(r.json()["id"] for r in res if r.status_code == 201)
        for r in res:
            if r.status_code == 409:
                assert r.json()["code"] == "duplicate_deadline" and r.json()["deadline_id"] == did
                assert "不会重复发送" in r.json()["message"]
        with srv.staff("school-admin") as c:
            assert ok(c.get(f"/api/staff/notices/deadlines/{did}"))["students"] == 7
            assert [d["title"] for d in ok(c.get("/api/staff/notices/deadlines"))["deadlines"]].count(
                "全校档案材料截止"
            ) == 1
        with srv.student("2025000001") as me:
            titles = [n["title"] for n in ok(me.get("/api/me/notices"))["notices"]]
            assert titles.count("截止提醒：全校档案材料截止") == 1
        # another date is another deadline
        with srv.staff("school-admin") as c:
            assert (
                c.post("/api/staff/notices/deadlines", json={**body, "due_on": due(srv, 13)}).status_code
                == 201
            )
    finally:
        stop_backend(second)
