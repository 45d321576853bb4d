"""Command line: `python -m backend.cli {migrate,seed,confirm,run,backup,restore,...}`."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

from alembic import command
from alembic.config import Config

from backend.core.config import settings


def alembic_config() -> Config:
    return Config(str(Path(__file__).parent / "alembic.ini"))


def migrate() -> None:
    command.upgrade(alembic_config(), "head")
    _import_answers()
    _import_knowledge()


def _import_answers() -> dict:
    """The domain's responses the database lacks (answers staff edit, issue 14); staff edits are kept."""
    from backend.core.db import SessionLocal
    from backend.services.answers import import_domain

    with SessionLocal() as s:
        return import_domain(s)


def _import_knowledge() -> dict:
    """The knowledge base's seed entries the database never had (issue 20 §2); staff changes are kept."""
    from backend.core.db import SessionLocal
    from backend.services.knowledge import import_seed

    with SessionLocal() as s:
        return import_seed(s)


def _seed(reset: bool) -> dict:
    from backend.core.db import SessionLocal
    from backend.seed import seed

    with SessionLocal() as s:
        out = seed(s, reset=reset)
    if out.get("seeded", True):
        from backend.services.insights import (
            seed_demo,  # a few days of logged questions and feedback for the staff page
        )

        with SessionLocal() as s:
            out.update(seed_demo(s))
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m backend.cli", description="School-platform backend commands")
    sub = ap.add_subparsers(dest="cmd", required=True)
    sub.add_parser("migrate", help="build/upgrade the schema (Alembic)")
    sub.add_parser(
        "purge",
        help="delete logged turns, feedback and closed handoff sessions older than "
        "TURN_LOG_RETENTION_DAYS (180)",
    )
    sub.add_parser(
        "export-training", help="write staff-attached questions and answers where `make train` reads them"
    )
    sp = sub.add_parser("seed", help="(re)create the demo students 2025000001-7, staff and contacts")
    sp.add_argument("--keep", action="store_true", help="do nothing if the demo students exist")
    ip = sub.add_parser("import-roster", help="import roster rows (JSON list) provided by the school")
    ip.add_argument("path")
    cp = sub.add_parser("confirm", help="record a national-platform confirmation (demo)")
    cp.add_argument("student_id")
    cp.add_argument("--on", help="confirmation date YYYY-MM-DD (default today)")
    bp = sub.add_parser(
        "backup",
        help="copy the app's database and Rasa's conversations into a new directory "
        "(SQLite online backup / pg_dump; backend/backup.py)",
    )
    bp.add_argument("dest", nargs="?", help="a new directory (default var/backups/<UTC time>)")
    rs = sub.add_parser(
        "restore", help="replace the databases' contents with a backup's (stop the processes first)"
    )
    rs.add_argument("backup", help="a directory written by `backup`")
    rs.add_argument("--yes", action="store_true", help="confirm: every change since the backup is lost")
    rp = sub.add_parser("run", help="migrate, seed demo data and serve")
    rp.add_argument("--host", default=settings.backend_host)
    rp.add_argument("--port", type=int, default=int(settings.backend_port))
    rp.add_argument(
        "--keep-data",
        action="store_true",
        default=settings.keep_data == "1",
        help="keep existing demo data instead of re-seeding it relative to today",
    )
    args = ap.parse_args(argv)

    if args.cmd == "migrate":
        migrate()
        print("schema is up to date")
    elif args.cmd == "purge":
        from backend.core.db import SessionLocal
        from backend.services.insights import purge

        with SessionLocal() as s:
            print(purge(s))
    elif args.cmd == "export-training":
        from backend.core.db import SessionLocal
        from backend.services.training import export

        with SessionLocal() as s:
            print(export(s))
    elif args.cmd == "seed":
        if settings.production:
            print(
                "seed: refused with APP_ENV=production: the demo students and staff (and their demo logins) "
                "must never exist in a real deployment; load the real roster with `import-roster`.",
                file=sys.stderr,
            )
            return 2
        migrate()
        print(_seed(reset=not args.keep))
    elif args.cmd == "import-roster":
        import json

        from backend.core.db import SessionLocal
        from backend.roster import RosterError, import_roster

        migrate()
        with SessionLocal() as s:
            try:
                print(
                    "imported "
                    f"{len(import_roster(s, json.loads(Path(args.path).read_text(encoding='utf-8'))))} rows"
                )
            except RosterError as e:
                print(f"roster error: {e}", file=sys.stderr)
                return 1
    elif args.cmd == "confirm":
        from backend import services as S
        from backend.core.auth import NATIONAL_ACTOR
        from backend.core.db import SessionLocal
        from backend.core.errors import APIError

        with SessionLocal() as s:
            try:
                on = dt.date.fromisoformat(args.on) if args.on else None
                print(S.confirm_national(s, args.student_id, on, NATIONAL_ACTOR))
            except APIError as e:
                print(f"{e.code}: {e.message}", file=sys.stderr)
                return 1
    elif args.cmd in ("backup", "restore"):
        from backend import backup

        try:
            if args.cmd == "backup":
                print(f"backup written to {backup.backup(Path(args.dest) if args.dest else None)}")
            elif not args.yes:
                print(
                    "restore: replaces the databases' contents with the backup's; every change since the "
                    "backup is lost. Stop the backend, the action server and Rasa, then run again "
                    "with --yes.",
                    file=sys.stderr,
                )
                return 2
            else:
                for part, tables in backup.restore(Path(args.backup)).items():
                    print(f"restored {part}: {sum(tables.values())} rows in {len(tables)} tables")
        except backup.BackupError as e:
            print(f"{args.cmd}: {e}", file=sys.stderr)
            return 1
    elif args.cmd == "run":
        import uvicorn

        migrate()
        if settings.demo_mode:
            print(_seed(reset=not args.keep_data))
        base = f"http://{args.host}:{args.port}"
        print(
            f"backend:      {base}\nAPI docs:     {base}/docs\nhealth:       {base}/api/health\n"
            f"database:     {settings.database_url}\ndemo mode:    {'on' if settings.demo_mode else 'off'}",
            flush=True,
        )
        uvicorn.run("backend.main:app", host=args.host, port=args.port, log_level="warning")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
