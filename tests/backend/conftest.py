"""Fixtures for the backend tests (helpers in tests/backend/helpers.py)."""

from __future__ import annotations

import pytest

from tests.backend.helpers import BASE_TODAY, database_urls, start_backend, stop_backend


@pytest.fixture(scope="session", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_kind(request) -> str:
    return request.param


@pytest.fixture(scope="session")
def server(db_kind, tmp_path_factory):
    tmp = tmp_path_factory.mktemp(f"backend-{db_kind}")
    db_url, drop = database_urls(tmp, db_kind)
    srv = start_backend(db_url, tmp)
    yield srv
    stop_backend(srv)
    drop()


@pytest.fixture
def srv(server):
    """The shared backend, with "today" reset to BASE_TODAY after the test."""
    server.set_today(BASE_TODAY)
    yield server
    server.set_today(BASE_TODAY)
