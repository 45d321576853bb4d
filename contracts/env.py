"""Numbers and switches from the environment: the one parser the settings of each side use.

An unset or empty variable gives the default; a value that is not a number gives the default and a warning in
the log (a typo in a deployment must not stop a process nor silently mean 0); `minimum`/`maximum` bound it.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping

logger = logging.getLogger(__name__)

TRUE = frozenset({"1", "true", "yes", "on"})
FALSE = frozenset({"0", "false", "no", "off"})


def number(
    value: str | float | None,
    default: float,
    minimum: float | None = None,
    maximum: float | None = None,
    name: str = "value",
    kind: type[int] | type[float] = float,
) -> float:
    """`value` (a string, a number or None) as `kind` (float or int) within [minimum, maximum]."""
    try:
        n = kind(default) if value is None or value == "" else kind(value)
    except (TypeError, ValueError):
        logger.warning("%s=%r is not a number: using %s", name, value, default)
        n = kind(default)
    if minimum is not None:
        n = max(kind(minimum), n)
    if maximum is not None:
        n = min(kind(maximum), n)
    return n


def env_float(
    name: str,
    default: float,
    minimum: float | None = None,
    maximum: float | None = None,
    env: Mapping[str, str] | None = None,
) -> float:
    """The environment variable `name` as a float (see `number`)."""
    return number((os.environ if env is None else env).get(name), default, minimum, maximum, name)


def env_int(
    name: str,
    default: int,
    minimum: int | None = None,
    maximum: int | None = None,
    env: Mapping[str, str] | None = None,
) -> int:
    """The environment variable `name` as an int (see `number`; "2.5" is not one)."""
    return int(number((os.environ if env is None else env).get(name), default, minimum, maximum, name, int))


def env_flag(name: str, default: bool, env: Mapping[str, str] | None = None) -> bool:
    """The environment variable `name` as a switch: 1/true/yes/on, 0/false/no/off, else the default."""
    raw = ((os.environ if env is None else env).get(name) or "").strip().lower()
    return True if raw in TRUE else False if raw in FALSE else default


def env_str(name: str, default: str = "", env: Mapping[str, str] | None = None) -> str:
    """The environment variable `name`, or `default` when unset or empty."""
    return (os.environ if env is None else env).get(name) or default
