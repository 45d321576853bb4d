"""Fixtures for the handoff tests (issue 15 §2): the real backend over HTTP (SQLite, and PostgreSQL when
TEST_POSTGRES_URL is set), with office hours all day on working days so a test switches between in and out of
office hours by pinning "today" to a working day or a weekend."""

from __future__ import annotations

import pytest

from tests.backend.helpers import BASE_TODAY, database_urls, start_backend, stop_backend

assert BASE_TODAY.weekday() == 0


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def hsrv(request, tmp_path_factory):
    tmp = tmp_path_factory.mktemp(f"handoff-{request.param}")
    db_url, drop = database_urls(tmp, request.param)
    srv = start_backend(
        db_url,
        tmp,
        extra_env={
            "HANDOFF_HOURS": "00:00-24:00",
            "NOTICE_WORKER": "0",
            "HANDOFF_WORKER": "0",
            "HANDOFF_SWEEP": "0",
        },
    )  # timeouts at the next message here
    yield srv
    stop_backend(srv)
    drop()


@pytest.fixture
def srv(hsrv):
    hsrv.set_today(BASE_TODAY)
    yield hsrv
    hsrv.set_today(BASE_TODAY)
