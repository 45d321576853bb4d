"""docs/api.md's reference part is generated from the OpenAPI schema and must match the running code."""

from __future__ import annotations

from backend import apidoc


def test_docs_api_md_is_in_sync_with_the_openapi_schema() -> None:
    doc = apidoc.DOC.read_text(encoding="utf-8")
    assert apidoc.BEGIN in doc and apidoc.END in doc
    assert apidoc.updated(doc, apidoc.render()) == doc, (
        "docs/api.md is out of date with the routes and models: run `.venv/bin/python -m backend.apidoc`"
    )


def test_every_json_route_of_the_records_api_declares_its_response_model() -> None:
    from fastapi.routing import APIRoute

    from backend.routers import knowledge, public, staff, student

    routes = [
        r for m in (student, staff, public, knowledge) for r in m.router.routes if isinstance(r, APIRoute)
    ]
    assert len(routes) > 30
    untyped = [
        f"{sorted(r.methods)} {r.path}"
        for r in routes
        if r.response_model is None and not r.path.startswith("/api/auth/cas/")
    ]  # redirects
    assert untyped == []


def test_generated_part_lists_models_and_enums() -> None:
    text = apidoc.render()
    for needle in (
        "### StatusOut",
        "### RecordState",
        "`college_approved`",
        "| `GET /api/me/status` | token |",
        "[`MailingCreatedOut`](#mailingcreatedout)",
    ):
        assert needle in text
