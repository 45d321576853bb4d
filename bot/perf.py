"""Start-up performance patches for the Rasa 3.6 server (imported by `bot.channels`, see bench/findings.md).

1. `RemoteAction._validate_action_result` calls `jsonschema.validate(result, schema)` after every custom
   action, and `jsonschema.validate` first checks the large events schema against the meta-schema on every
   call: about half of Rasa's CPU on an action turn. We build the validator once; every action response is
   still validated against the same schema and an invalid one is still rejected with the same error.
2. `EndpointConfig.request` opens a new `aiohttp.ClientSession` (new pool, new TCP connection) per call to the
   action server. We hand out one long-lived session per event loop and endpoint instead, so action calls
   reuse keep-alive connections. The per-request `timeout` Rasa passes (capped by `cap_action_timeout`,
   ACTION_TIMEOUT) still applies to every call.
3. The SQL tracker store on SQLite opens and closes a connection for every query and fsyncs every turn, inside
   the event loop. We give it a small connection pool, WAL and synchronous=NORMAL.

Each patch checks that Rasa is the version it was written against and that the patched functions still look
the way it expects; otherwise it logs a warning and leaves Rasa alone. `PERF_PATCHES=0` disables them all.
"""

from __future__ import annotations

import inspect
import logging
from typing import Any

from contracts.settings import rasa as rasa_settings

logger = logging.getLogger(__name__)

EXPECTED_RASA = "3.6.21"
APPLIED: dict[str, bool] = {}  # patch name -> applied (for tests and the start-up log)


def _source(fn: Any) -> str:
    try:
        return inspect.getsource(fn)
    except (OSError, TypeError):
        return ""


def patch_action_validation() -> bool:
    """Validate action server responses with a validator built once per process."""
    from jsonschema import ValidationError, validators
    from rasa.core.actions import action as rasa_action

    remote = rasa_action.RemoteAction
    original = remote.__dict__.get("_validate_action_result")
    if getattr(original, "_perf_patched", False):
        return True
    src = _source(original)
    if (
        original is None
        or "validate(result, self.action_response_format_spec())" not in src
        or not callable(getattr(remote, "action_response_format_spec", None))
    ):
        logger.warning(
            "bot.perf: RemoteAction._validate_action_result is not the Rasa %s one; "
            "action responses keep Rasa's own (slow) validation",
            EXPECTED_RASA,
        )
        return False

    schema = remote.action_response_format_spec()
    cls = validators.validator_for(schema)
    cls.check_schema(schema)  # the meta-schema check Rasa repeats on every call, done once here
    validator = cls(schema)
    suffix = (
        ". Failed to validate Action server response from API, make sure your response from the "
        f"Action endpoint is valid. For more information about the format visit "
        f"{rasa_action.DOCS_BASE_URL}/custom-actions"
    )

    def _validate_action_result(self: Any, result: dict[str, Any]) -> bool:
        try:
            validator.validate(result)
        except ValidationError as e:
            e.message += suffix
            raise e
        return True

    _validate_action_result._perf_patched = True  # type: ignore[attr-defined]
    _validate_action_result._perf_original = original  # type: ignore[attr-defined]
    remote._validate_action_result = _validate_action_result
    return True


class _Borrowed:
    """`async with endpoint.session() as s:` on a shared session: entering lends it, leaving keeps it open."""

    def __init__(self, session: Any) -> None:
        self.session = session

    async def __aenter__(self) -> Any:
        return self.session

    async def __aexit__(self, *exc: Any) -> bool:
        return False


def patch_endpoint_sessions() -> bool:
    """One keep-alive aiohttp session per event loop and endpoint for `EndpointConfig.request`."""
    import asyncio

    from rasa.utils import endpoints as rasa_endpoints

    cfg = rasa_endpoints.EndpointConfig
    original = cfg.__dict__.get("session")
    if getattr(original, "_perf_patched", False):
        return True
    if (
        original is None
        or "aiohttp.ClientSession(" not in _source(original)
        or "async with self.session() as session" not in _source(cfg.__dict__.get("request"))
    ):
        logger.warning(
            "bot.perf: EndpointConfig.session/request are not the Rasa %s ones; "
            "each action call keeps opening its own HTTP client",
            EXPECTED_RASA,
        )
        return False

    sessions: dict[Any, Any] = {}

    def session(self: Any) -> Any:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # not inside a loop: Rasa's own behaviour (caller owns and closes it)
            return original(self)
        key = (id(loop), self.url, repr(sorted(self.headers.items())), repr(self.basic_auth))
        shared = sessions.get(key)
        if shared is None or shared.closed or shared._loop is not loop:
            shared = sessions[key] = original(self)
        return _Borrowed(shared)

    session._perf_patched = True  # type: ignore[attr-defined]
    session._perf_original = original  # type: ignore[attr-defined]
    session._perf_sessions = sessions  # type: ignore[attr-defined]
    cfg.session = session
    return True


def patch_sqlite_tracker_store() -> bool:
    """SQL tracker store on SQLite: keep connections open and skip the fsync per turn.

    Rasa creates the engine with SQLAlchemy's default for SQLite files (NullPool: open, configure and close a
    connection for every query session, several per turn) and the file's defaults (rollback journal, fsync on
    every commit), all inside the event loop. We rebuild the engine with a small connection pool, WAL and
    synchronous=NORMAL (a crash can lose the last turns, never corrupt the file) and a busy timeout.
    """
    import sqlalchemy as sa
    from rasa.core import tracker_store as rasa_ts

    store = rasa_ts.SQLTrackerStore
    original = store.__dict__.get("__init__")
    if getattr(original, "_perf_patched", False):
        return True
    src = _source(original)
    if original is None or "self.engine = sa.create_engine(" not in src or "self.sessionmaker =" not in src:
        logger.warning(
            "bot.perf: SQLTrackerStore.__init__ is not the Rasa %s one; SQLite tracker store left "
            "with its defaults",
            EXPECTED_RASA,
        )
        return False

    def _pragmas(dbapi_conn: Any, _rec: Any) -> None:
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA busy_timeout=10000")
        cur.close()

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        old = getattr(self, "engine", None)
        if old is None or old.dialect.name != "sqlite" or old.url.database in (None, "", ":memory:"):
            return
        with old.connect() as conn:  # persistent in the file: set once
            conn.exec_driver_sql("PRAGMA journal_mode=WAL")
        engine = sa.create_engine(
            old.url,
            poolclass=sa.pool.QueuePool,
            pool_size=2,
            max_overflow=4,
            connect_args={"check_same_thread": False},
        )
        sa.event.listen(engine, "connect", _pragmas)
        old.dispose()
        self.engine = engine
        self.sessionmaker = sa.orm.session.sessionmaker(bind=engine)

    __init__._perf_patched = True  # type: ignore[attr-defined]
    store.__init__ = __init__
    return True


def apply() -> dict[str, bool]:
    """Apply the patches once; never raises (a failed patch leaves Rasa as it is)."""
    if APPLIED:
        return APPLIED
    if not rasa_settings().perf_patches:
        APPLIED.update(action_validation=False, endpoint_sessions=False, sqlite_tracker_store=False)
        logger.info("bot.perf: disabled by PERF_PATCHES")
        return APPLIED
    try:
        import rasa
    except ImportError:  # not the Rasa environment
        return APPLIED
    if getattr(rasa, "__version__", None) != EXPECTED_RASA:
        logger.warning(
            "bot.perf: written for Rasa %s, found %s; performance patches not applied",
            EXPECTED_RASA,
            getattr(rasa, "__version__", "?"),
        )
        APPLIED.update(action_validation=False, endpoint_sessions=False, sqlite_tracker_store=False)
        return APPLIED
    for name, fn in (
        ("action_validation", patch_action_validation),
        ("endpoint_sessions", patch_endpoint_sessions),
        ("sqlite_tracker_store", patch_sqlite_tracker_store),
    ):
        try:
            APPLIED[name] = fn()
        except Exception:  # noqa: BLE001 - a performance patch must never stop the server
            logger.warning("bot.perf: patch %s failed; Rasa left unpatched there", name, exc_info=True)
            APPLIED[name] = False
    logger.info("bot.perf: %s", ", ".join(f"{k}={'on' if v else 'off'}" for k, v in APPLIED.items()))
    return APPLIED
