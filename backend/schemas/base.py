"""The bases: one for every request body (`BaseIn`: unknown fields refused), one for responses read from ORM
rows (`_Out`), the date/time serialisers and the page envelope."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from pydantic import (
    BaseModel,
    ConfigDict,
    PlainSerializer,
)

from backend.core import clock


class BaseIn(BaseModel):
    model_config = ConfigDict(extra="forbid")


def ts(value: dt.datetime | None) -> str | None:
    """A timestamp as the API shows it: Asia/Shanghai, seconds, with the offset."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=clock.TZ)
    return value.astimezone(clock.TZ).isoformat(timespec="seconds")


def ds(value: dt.date | None) -> str | None:
    return value.isoformat() if value else None


Stamp = Annotated[dt.datetime | None, PlainSerializer(ts, return_type=str | None)]


Day = Annotated[dt.date | None, PlainSerializer(ds, return_type=str | None)]


class _Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class Page(BaseModel):
    total: int
    limit: int
    offset: int
