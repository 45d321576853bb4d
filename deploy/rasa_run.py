"""`python -m deploy.rasa_run run ...` (Rasa's venv, PYTHONPATH at the repo root): `rasa run`, with two rules.

- The management HTTP API (`--enable-api`) is never open: its `--auth-token` comes from RASA_API_TOKEN in the
  environment (not from the command line, where `ps` would show it); without it the process refuses to start.
- With APP_ENV=production the production check (contracts/production.py) runs before anything is loaded.
- `bot.startup.apply_rasa_patches()`, the one call that changes Rasa (production check, CORS allow-list,
  action timeout, bot/perf.py), runs here, before Rasa starts.
"""

from __future__ import annotations

import os
import sys

from contracts import logs, production
from contracts.settings import rasa as rasa_settings


def main() -> None:
    argv = sys.argv[1:]
    api = production.rasa_api_enabled(argv)
    if api and not production.rasa_api_authenticated(argv):
        token = rasa_settings().rasa_api_token
        if not token:
            print(
                "rasa: refusing to start: --enable-api needs RASA_API_TOKEN (the management API is never "
                "open)",
                file=sys.stderr,
                flush=True,
            )
            raise SystemExit(production.EXIT_CODE)
        argv.append(f"--auth-token={token}")  # one argument: a token starting with '-' is not an option
    # Sanic reads SANIC_* when Rasa creates its app: bodies over 64 KiB get 413 before they are read
    # (Sanic's default is 100 MB; the action server, which receives whole trackers, keeps its own).
    os.environ.setdefault("SANIC_REQUEST_MAX_SIZE", str(64 * 1024))
    sys.argv = ["rasa"] + argv
    logs.setup(configure=False)  # Rasa sets up its own logging; every record's secrets are masked
    from bot.startup import apply_rasa_patches

    applied = apply_rasa_patches()  # the production check, then every change to Rasa, before it loads
    print("rasa start-up: " + ", ".join(f"{k}={v}" for k, v in applied.items()), file=sys.stderr, flush=True)
    from rasa.__main__ import main as rasa_main

    rasa_main()


if __name__ == "__main__":
    main()
