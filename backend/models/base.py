"""The declarative base every table derives from (core/db.py re-exports it for Alembic and the engine)."""

from __future__ import annotations

from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    pass
