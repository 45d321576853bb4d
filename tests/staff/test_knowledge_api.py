"""The knowledge base staff grow (issue 20 §2): the staff API and Rasa's snapshot, over HTTP against the real
backend (SQLite, and PostgreSQL with TEST_POSTGRES_URL): who may do what, validation with Chinese messages and
machine-readable reasons, history and audit, concurrent edits, retirement keeps history and leaves the
snapshot."""

from __future__ import annotations

import concurrent.futures as cf
import re
import uuid

from tests.backend.helpers import INTEGRATION_KEY, err, ok

KEY = {"X-Integration-Key": INTEGRATION_KEY}
CJK = re.compile(r"[\u4e00-\u9fff]")


def body(**over):
    tag = uuid.uuid4().hex[:6]
    return {
        "questions": [f"学校体检报告{tag}去哪里领", f"体检报告{tag}在哪拿"],
        "answer": "体检报告由校医院发放。",
        "source": "校医院通知",
        **over,
    }


def snapshot(srv, since=None):
    params = {"since": since} if since is not None else {}
    return ok(srv.client().get("/api/integration/knowledge", params=params, headers=KEY))


def test_seeded_entries_have_sources_and_are_live(srv):
    with srv.staff("counselor-physics") as c:
        listing = ok(c.get("/api/staff/knowledge"))
    assert listing["can_edit"] is False and listing["total"] >= 10
    seeded = {e["questions"][0]: e for e in listing["items"]}
    fee = next(e for q, e in seeded.items() if "人才中心" in q and "交费" in q)
    assert "保管费" in fee["answer"] and "流动人员人事档案" in fee["source"]
    baodao = next(e for e in listing["items"] if "教学〔2022〕5号" in e["source"])
    assert "毕业去向登记" in baodao["answer"]
    assert all(
        e["source"] and e["created_by"] == "seed" for e in listing["items"] if e["created_by"] == "seed"
    )
    snap = snapshot(srv)
    assert snap["changed"] is True and {e["id"] for e in snap["entries"]} >= {fee["id"], baodao["id"]}
    assert snapshot(srv, since=snap["revision"]) == {
        "revision": snap["revision"],
        "changed": False,
        "entries": None,
    }


def test_only_school_staff_change_it(srv):
    with srv.staff("counselor-physics") as c:
        e = err(c.post("/api/staff/knowledge", json=body()), 403, "forbidden")
        assert CJK.search(e["message"])
        some = ok(c.get("/api/staff/knowledge"))["items"][0]
        err(
            c.request(
                "PATCH",
                f"/api/staff/knowledge/{some['id']}",
                json={"base_version": some["version"], "answer": "改"},
            ),
            403,
            "forbidden",
        )
        err(c.delete(f"/api/staff/knowledge/{some['id']}"), 403, "forbidden")
        assert ok(c.get(f"/api/staff/knowledge/{some['id']}"))["can_edit"] is False
    with srv.student("2025000001") as st:
        err(st.get("/api/staff/knowledge"), 403, "forbidden")
        err(st.post("/api/staff/knowledge", json=body()), 403, "forbidden")
    with srv.client() as anon:
        err(anon.get("/api/staff/knowledge"), 401, "not_authenticated")
        err(anon.post("/api/staff/knowledge", json=body()), 401, "not_authenticated")
        err(anon.get("/api/integration/knowledge"), 401, "not_authenticated")
        err(
            anon.get("/api/integration/knowledge", headers={"X-Integration-Key": "nope"}),
            401,
            "not_authenticated",
        )
    with srv.staff("school-admin") as c:  # a staff token is not the integration key
        err(c.get("/api/integration/knowledge"), 401, "not_authenticated")


def test_bad_input_is_a_clear_4xx_and_nothing_is_saved(srv):
    with srv.staff("school-admin") as c:
        before = ok(c.get("/api/staff/knowledge"))["total"]
        rev = snapshot(srv)["revision"]
        cases = [
            (body(questions=[]), "questions", "required"),
            (body(questions=["  ", ""]), "questions", "required"),
            (body(questions=["社保"]), "questions.0", "too_short"),
            (body(questions=["毕业后社保怎么交" + "啊" * 100]), "questions.0", "too_long"),
            (body(questions=["毕业后社保怎么交", "毕业后，社保怎么交？"]), "questions.1", "duplicate"),
            (body(questions=[f"第{i}种问法是什么呢" for i in range(21)]), "questions", "too_many"),
            (body(answer="   "), "answer", "required"),
            (body(answer="长" * 2001), "answer", "too_long"),
            (body(source=""), "source", "required"),
            (body(source="源" * 201), "source", "too_long"),
        ]
        for payload, field, code in cases:
            e = err(c.post("/api/staff/knowledge", json=payload), 422, "validation_error")
            assert any(f["field"] == field and f["code"] == code for f in e["fields"]), (field, code, e)
            assert CJK.search(e["message"]), e
        for bad in (
            {"questions": "不是列表", "answer": "a", "source": "b"},
            {"answer": "a", "source": "b"},
            {**body(), "extra": 1},
            [1, 2],
        ):
            err(c.post("/api/staff/knowledge", json=bad), 422, "validation_error")
        # a wording another live entry already has: 409 naming that entry
        fee = next(
            e
            for e in ok(c.get("/api/staff/knowledge"))["items"]
            if "档案放人才中心要不要交费" in e["questions"]
        )
        e = err(
            c.post("/api/staff/knowledge", json=body(questions=["档案放人才中心，要不要交费？"])),
            409,
            "duplicate_question",
        )
        assert e["entry_id"] == fee["id"] and str(fee["id"]) in e["message"]
        err(c.get("/api/staff/knowledge/999999"), 404, "not_found")
        err(
            c.request("PATCH", "/api/staff/knowledge/999999", json={"base_version": 1, "answer": "x"}),
            404,
            "not_found",
        )
        err(c.delete("/api/staff/knowledge/0"), 422, "validation_error")
        assert ok(c.get("/api/staff/knowledge"))["total"] == before
        assert snapshot(srv, since=rev)["changed"] is False


def test_create_edit_retire_with_history_audit_and_snapshot(srv):
    with srv.staff("school-admin") as c:
        b = body()
        rev0 = snapshot(srv)["revision"]
        r = c.post(
            "/api/staff/knowledge",
            json={**b, "questions": ["  " + b["questions"][0] + "  ", "", b["questions"][1]]},
        )
        created = ok(r, 201)
        eid = created["id"]
        assert (
            created["version"] == 1 and created["questions"] == b["questions"] and created["retired"] is False
        )
        assert created["created_by"] == "school-admin" and created["can_edit"] is True
        assert [h["version"] for h in created["history"]] == [1]
        snap = snapshot(srv, since=rev0)
        assert snap["changed"] and any(e["id"] == eid and e["answer"] == b["answer"] for e in snap["entries"])

        # edit: only what is sent changes; a stale base_version is 409; no change is 422 no_change
        edited = ok(
            c.request(
                "PATCH",
                f"/api/staff/knowledge/{eid}",
                json={"base_version": 1, "answer": "体检报告由校医院在开学后发放。", "note": "补充时间"},
            )
        )
        assert (
            edited["version"] == 2
            and edited["questions"] == b["questions"]
            and edited["source"] == b["source"]
        )
        assert [(h["version"], h["note"]) for h in edited["history"]] == [(2, "补充时间"), (1, "新建")]
        e = err(
            c.request(
                "PATCH", f"/api/staff/knowledge/{eid}", json={"base_version": 1, "answer": "旧版本上改"}
            ),
            409,
            "wrong_state",
        )
        assert e["current_version"] == 2
        err(
            c.request(
                "PATCH",
                f"/api/staff/knowledge/{eid}",
                json={"base_version": 2, "answer": "体检报告由校医院在开学后发放。"},
            ),
            422,
            "no_change",
        )
        e = err(
            c.request(
                "PATCH", f"/api/staff/knowledge/{eid}", json={"base_version": 2, "questions": ["体检"]}
            ),
            422,
            "validation_error",
        )
        assert e["fields"][0]["field"] == "questions.0"
        rev1 = snapshot(srv)["revision"]
        assert next(x for x in snapshot(srv)["entries"] if x["id"] == eid)["answer"].endswith("开学后发放。")

        # retire: stays with its history, leaves the snapshot, cannot be edited or retired again
        retired = ok(c.delete(f"/api/staff/knowledge/{eid}", params={"base_version": 2}))
        assert (
            retired["retired"] is True
            and retired["version"] == 3
            and retired["history"][0]["retired"] is True
        )
        snap = snapshot(srv, since=rev1)
        assert snap["changed"] and all(x["id"] != eid for x in snap["entries"])
        err(c.delete(f"/api/staff/knowledge/{eid}"), 409, "wrong_state")
        err(
            c.request("PATCH", f"/api/staff/knowledge/{eid}", json={"base_version": 3, "answer": "复活"}),
            409,
            "wrong_state",
        )
        listing = ok(c.get("/api/staff/knowledge", params={"q": b["questions"][0]}))
        assert [(x["id"], x["retired"]) for x in listing["items"]] == [(eid, True)]
        assert (
            ok(c.get("/api/staff/knowledge", params={"q": b["questions"][0], "include_retired": False}))[
                "total"
            ]
            == 0
        )
        # its wordings are free again for a new entry
        again = ok(c.post("/api/staff/knowledge", json={**b, "answer": "新的回答。"}), 201)
        assert again["id"] != eid

        audit = [
            a
            for a in ok(c.get("/api/staff/audit", params={"limit": 1000}))["items"]
            if a["entity"] == "knowledge" and a["entity_id"] == str(eid)
        ]
        assert [a["action"] for a in audit] == ["create", "edit", "retire"] or [
            a["action"] for a in audit
        ] == ["retire", "edit", "create"]
        edit_row = next(a for a in audit if a["action"] == "edit")
        assert edit_row["actor_id"] == "school-admin" and edit_row["before"]["answer"] == b["answer"]
        assert edit_row["after"]["answer"].endswith("开学后发放。")


def test_two_editors_saving_the_same_version_one_wins(srv):
    with srv.staff("school-admin") as c:
        eid = ok(c.post("/api/staff/knowledge", json=body()), 201)["id"]

    def save(i):
        with srv.staff("school-admin") as c:
            return c.request(
                "PATCH", f"/api/staff/knowledge/{eid}", json={"base_version": 1, "answer": f"版本{i}。"}
            )

    with cf.ThreadPoolExecutor(8) as pool:
        codes = sorted(r.status_code for r in pool.map(save, range(8)))
    assert codes.count(200) == 1 and set(codes) == {200, 409}, codes
    with srv.staff("school-admin") as c:
        d = ok(c.get(f"/api/staff/knowledge/{eid}"))
    assert d["version"] == 2 and [h["version"] for h in d["history"]] == [2, 1]


def test_seed_import_never_brings_back_a_retired_entry(srv):
    with srv.staff("school-admin") as c:
        probation = next(
            e for e in ok(c.get("/api/staff/knowledge"))["items"] if "试用期最长多久" in e["questions"]
        )
        if not probation["retired"]:
            ok(c.delete(f"/api/staff/knowledge/{probation['id']}"))
    r = srv.cli("migrate")
    assert r.returncode == 0, r.stderr
    with srv.staff("school-admin") as c:
        items = [e for e in ok(c.get("/api/staff/knowledge"))["items"] if "试用期最长多久" in e["questions"]]
    assert [(e["id"], e["retired"]) for e in items] == [(probation["id"], True)]
