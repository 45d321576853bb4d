"""Backups and restores of everything the system keeps (issue 23 §5): `python -m backend.cli backup [DIR]` and
`python -m backend.cli restore BACKUP --yes`.

What: the app's database (DATABASE_URL: records, mailing requests, handoff sessions and messages, answers and
their history, the turn log, notices) and Rasa's conversations (TRACKER_DB_URL; default: tracker.db beside a
SQLite app database, else the app's PostgreSQL database itself, as the launcher sets it).
How, with the databases' own tools:
- SQLite: the online backup API (`sqlite3.Connection.backup`): a consistent copy while the processes run; the
  restore writes the copy back through the same API (page by page, under SQLite's locks).
- PostgreSQL: `pg_dump --format=custom` and `pg_restore --clean --if-exists --single-transaction` (Debian's
  postgresql-client; its major version must be at least the server's, checked before anything is written).
A backup is a directory: one file per database and manifest.json (when, which parts, the rows of every table).
A restore checks each table's row count against the manifest afterwards.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from backend.core.config import ROOT, settings


class BackupError(Exception):
    """A backup or restore that cannot be done; the message says why and what to do."""


@dataclass
class Part:
    name: str  # "app" or "tracker"
    url: str

    @property
    def sqlite(self) -> bool:
        return self.url.startswith("sqlite")

    @property
    def path(self) -> Path:
        return Path(make_url(self.url).database or "")

    @property
    def file(self) -> str:
        return f"{self.name}.sqlite3" if self.sqlite else f"{self.name}.dump"


def _same_database(a: str, b: str) -> bool:
    ua, ub = make_url(a), make_url(b)
    return (ua.get_backend_name(), ua.host, ua.port, ua.database) == (
        ub.get_backend_name(),
        ub.host,
        ub.port,
        ub.database,
    )


def parts(database_url: str | None = None, tracker_url: str | None = None) -> list[Part]:
    app = database_url or settings.database_url
    tracker = tracker_url or settings.tracker_db_url
    if not tracker:
        tracker = (
            f"sqlite:///{Path(make_url(app).database or '').parent / 'tracker.db'}"
            if app.startswith("sqlite")
            else app
        )
    tracker = tracker.replace("postgresql+psycopg2://", "postgresql+psycopg://")
    found = [Part("app", app)]
    if not _same_database(app, tracker):
        found.append(Part("tracker", tracker))
    return found


def table_counts(url: str) -> dict[str, int]:
    if url.startswith("sqlite") and not Path(make_url(url).database or "").exists():
        return {}
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        with engine.connect() as c:
            return {
                t: c.execute(text(f'SELECT count(*) FROM "{t}"')).scalar_one()
                for t in sorted(inspect(c).get_table_names())
            }
    finally:
        engine.dispose()


# --- PostgreSQL's tools -------------------------------------------------------------------------------------
def _pg_env_args(url: str) -> tuple[dict, list[str]]:
    u = make_url(url)
    env = {**os.environ}
    if u.password:
        env["PGPASSWORD"] = str(u.password)  # not on the command line, where `ps` would show it
    args = ["-h", u.host or "127.0.0.1", "-p", str(u.port or 5432), "-U", u.username or "postgres"]
    return env, args


def _server_major(url: str) -> int:
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        with engine.connect() as c:
            return int(c.execute(text("SHOW server_version_num")).scalar_one()) // 10000
    finally:
        engine.dispose()


def pg_tool(name: str, url: str) -> str:
    """pg_dump/pg_restore whose major version is at least the server's (a newer server's dump cannot be read
    by an older client): the server's own version's from /usr/lib/postgresql when installed, else PATH's."""
    server = _server_major(url)
    candidates = [
        p
        for p in sorted(
            Path("/usr/lib/postgresql").glob(f"*/bin/{name}"),
            key=lambda p: int(re.sub(r"\D", "", p.parent.parent.name) or 0),
            reverse=True,
        )
    ]
    if found := shutil.which(name):
        candidates.append(Path(found))
    for exe in candidates:
        out = subprocess.run([str(exe), "--version"], capture_output=True, text=True).stdout
        m = re.search(r"(\d+)(?:\.\d+)?", out)
        if m and int(m.group(1)) >= server:
            return str(exe)
    raise BackupError(
        f"{name} for PostgreSQL {server} or newer not found: apt-get install postgresql-client-{server} "
        f"(Debian's postgresql-client)"
    )


def sqlite_copy(source: Path, target: Path) -> None:
    """SQLite's online backup API: a consistent copy, page by page under SQLite's locks, while others use
    it."""
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    dst = sqlite3.connect(target, timeout=30)
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()


# --- backup -------------------------------------------------------------------------------------------------
def backup(dest: Path | None = None, database_url: str | None = None, tracker_url: str | None = None) -> Path:
    """Write a backup directory (default backups/<timestamp> under the repository's var/); its path."""
    now = dt.datetime.now(dt.timezone.utc)
    dest = Path(dest or ROOT / "var" / "backups" / now.strftime("%Y%m%d-%H%M%S"))
    if dest.exists() and any(dest.iterdir()):
        raise BackupError(f"{dest} exists and is not empty: give a new directory")
    dest.mkdir(parents=True, exist_ok=True)
    manifest: dict = {"created_at": now.isoformat(timespec="seconds"), "parts": {}}
    for part in parts(database_url, tracker_url):
        if part.sqlite:
            if not part.path.exists():
                continue  # no conversation yet: nothing to keep
            sqlite_copy(part.path, dest / part.file)
        else:
            env, args = _pg_env_args(part.url)
            run = subprocess.run(
                [
                    pg_tool("pg_dump", part.url),
                    *args,
                    "--format=custom",
                    "--no-owner",
                    "--file",
                    str(dest / part.file),
                    make_url(part.url).database or "postgres",
                ],
                env=env,
                capture_output=True,
                text=True,
            )
            if run.returncode:
                raise BackupError(f"pg_dump failed: {run.stderr.strip()[-500:]}")
        manifest["parts"][part.name] = {
            "file": part.file,
            "kind": "sqlite" if part.sqlite else "postgresql",
            "tables": table_counts(part.url),
        }
    (dest / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False), encoding="utf-8")
    return dest


# --- restore ------------------------------------------------------------------------------------------------
def restore(src: Path, database_url: str | None = None, tracker_url: str | None = None) -> dict:
    """Replace the databases' contents with the backup's (stop the backend, the action server and Rasa first).
    Returns {part: {table: rows}} after the restore; BackupError when a count differs from the manifest."""
    src = Path(src)
    try:
        manifest = json.loads((src / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise BackupError(f"{src} is not a backup (manifest.json: {e})") from e
    result = {}
    for part in parts(database_url, tracker_url):
        saved = manifest["parts"].get(part.name)
        if saved is None:
            continue
        if (saved["kind"] == "sqlite") != part.sqlite:
            raise BackupError(
                f"the backup's {part.name} database is {saved['kind']}; {part.url.split(':')[0]} "
                "is configured: restore into the same kind of database"
            )
        if part.sqlite:
            part.path.parent.mkdir(parents=True, exist_ok=True)
            sqlite_copy(src / saved["file"], part.path)
        else:
            env, args = _pg_env_args(part.url)
            run = subprocess.run(
                [
                    pg_tool("pg_restore", part.url),
                    *args,
                    "--clean",
                    "--if-exists",
                    "--no-owner",
                    "--single-transaction",
                    "--dbname",
                    make_url(part.url).database or "postgres",
                    str(src / saved["file"]),
                ],
                env=env,
                capture_output=True,
                text=True,
            )
            if run.returncode:
                raise BackupError(f"pg_restore failed: {run.stderr.strip()[-500:]}")
        counts = table_counts(part.url)
        wrong = {t: (n, counts.get(t)) for t, n in saved["tables"].items() if counts.get(t) != n}
        if wrong:
            raise BackupError(
                f"{part.name}: rows differ from the backup after the restore (table: saved, now): {wrong}"
            )
        result[part.name] = counts
    return result
