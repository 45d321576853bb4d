"""Engine and sessions. One engine per process.

SQLite: a session that may write takes the write lock up front (BEGIN IMMEDIATE), so concurrent writers queue
instead of deadlocking on a lock upgrade. Read-only requests (GET/HEAD) begin deferred: in WAL mode they read
a snapshot without waiting for writers or for each other. A read-only session that tries to write fails loudly
(it would otherwise risk SQLITE_BUSY under load). PostgreSQL needs neither and is unchanged.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

from fastapi import Request
from sqlalchemy import create_engine, event
from sqlalchemy.engine import CursorResult, Engine, Result
from sqlalchemy.orm import Session, sessionmaker

from backend.core.config import settings
from backend.models.base import Base  # noqa: F401  (Alembic and the tests find the tables through it)

DEFERRED = "deferred_begin"  # execution option: begin a SQLite transaction without the write lock
READ_ONLY_METHODS = frozenset({"GET", "HEAD"})


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_conn, _rec):  # pragma: no cover - driver hook
            dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        @event.listens_for(engine, "begin")
        def _on_begin(conn):  # pragma: no cover - driver hook
            if conn.get_execution_options().get(DEFERRED):
                conn.exec_driver_sql("BEGIN")
            else:
                # Take the write lock up front: no lock-upgrade deadlocks under concurrent requests.
                conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)


def rowcount(result: Result[Any]) -> int:
    """The rows an UPDATE/DELETE matched: Session.execute returns a CursorResult for them, typed as Result."""
    return cast(CursorResult[Any], result).rowcount


engine = make_engine(settings.database_url)
read_engine = engine.execution_options(**{DEFERRED: True})  # same pool, deferred BEGIN on SQLite
SessionLocal = sessionmaker(bind=engine, expire_on_commit=False)


@event.listens_for(SessionLocal, "before_flush")
def _no_writes_when_read_only(session: Session, _ctx, _instances) -> None:
    if session.info.get("read_only") and (session.new or session.dirty or session.deleted):
        raise RuntimeError("write in a read-only (GET) session: use POST/PUT/DELETE for changes")


def read_session() -> Session:
    """A session for reads only (no write lock on SQLite)."""
    return SessionLocal(bind=read_engine, info={"read_only": True})


def get_session(request: Request) -> Iterator[Session]:
    """One session per request (shared by the auth dependencies); read-only for GET/HEAD."""
    with read_session() if request.method in READ_ONLY_METHODS else SessionLocal() as session:
        yield session
