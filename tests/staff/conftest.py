"""Fixtures for the staff tests: the real backend (uvicorn, migrated and seeded from empty) on SQLite and,
with TEST_POSTGRES_URL, on PostgreSQL (the same helpers as tests/backend)."""

from __future__ import annotations

import pytest

from tests.backend.helpers import database_urls, start_backend, stop_backend


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def srv(request, tmp_path_factory):
    tmp = tmp_path_factory.mktemp(f"staff-{request.param}")
    db_url, drop = database_urls(tmp, request.param)
    server = start_backend(db_url, tmp)
    yield server
    stop_backend(server)
    drop()
