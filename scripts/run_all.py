"""`make run`: database with demo data, the model, then backend + action server + Rasa, supervised, until
Ctrl-C.

A process that dies is restarted with a back-off (system/supervisor.py; var/log/supervisor.log). Ctrl-C or
SIGTERM stops everything: Rasa first, then the action server, then the backend, each finishing the requests in
progress. For deployments use a real supervisor instead: deploy/systemd/*.service (see README).
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from contracts import production
from system import ROOT, VENV_PY, System
from system.supervisor import Supervisor


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--no-train", action="store_true", help="serve the newest model in models/ as it is")
    ap.add_argument("--log-dir", type=Path, default=Path(os.environ.get("LOG_DIR") or ROOT / "var" / "log"))
    a = ap.parse_args(argv)
    # APP_ENV=production: refuse at once (before training) with demo or missing secrets
    found = production.problems()
    if found:
        print(production.message("make run", found), file=sys.stderr, flush=True)
        return production.EXIT_CODE
    prod = production.is_production()
    if not a.no_train:
        rc = subprocess.call([str(VENV_PY), str(ROOT / "scripts" / "train.py")])
        if rc:
            return rc
    system = System(
        backend_port=int(os.environ.get("BACKEND_PORT", 8000)),
        actions_port=int(os.environ.get("ACTIONS_PORT", 5055)),
        rasa_port=int(os.environ.get("RASA_PORT", 5005)),
        database_url=os.environ.get("DATABASE_URL", ""),
        log_dir=a.log_dir,
        # the real office hours (HANDOFF_HOURS, else 08:30-17:30); tests default to "always"
        handoff_hours=None,
        chat_limits=True,  # the chat's per-client limits as deployed
        backend_metrics_port=int(os.environ.get("BACKEND_METRICS_PORT", 9101)),
        actions_metrics_port=int(os.environ.get("ACTIONS_METRICS_PORT", 9102)),
        rasa_metrics_port=int(os.environ.get("RASA_METRICS_PORT", 9103)),
    )

    def interrupt(signum, _frame):
        raise KeyboardInterrupt

    # during start-up Ctrl-C or SIGTERM interrupts the start; what has started is stopped
    signal.signal(signal.SIGINT, interrupt)
    signal.signal(signal.SIGTERM, interrupt)
    print(f">> starting backend, action server and Rasa (logs in {a.log_dir})", flush=True)
    t0 = time.monotonic()
    try:
        system.start(seed=os.environ.get("SEED", "0" if prod else "1") == "1")
    except BaseException as e:
        print(f"!! start failed: {e}", file=sys.stderr, flush=True)
        system.stop()
        return 1
    b, r = system.backend_url, system.rasa_url
    pids = ", ".join(f"{n} {p.pid}" for n, p in system.procs.items())
    ops_backend, ops_actions, ops_rasa = (
        system.ops_url(port, "")
        for port in (system.backend_metrics_port, system.actions_metrics_port, system.rasa_metrics_port)
    )
    print(
        "\n*** PRODUCTION (APP_ENV=production): no demo login, no demo page, no demo data. ***"
        if prod
        else (
            "\n*** DEMO — not for real students: demo secrets, demo login for every account, demo data. ***\n"
            "*** A deployment needs APP_ENV=production and real secrets: README.md, 'Deploying for real'. ***"
        ),
        flush=True,
    )
    print(
        f"""
智能咨询 is up ({time.monotonic() - t0:.0f}s).
  Job-site demo page with the chat widget: {b}/
  Backend API docs (OpenAPI):              {b}/docs
  Rasa REST channel:                       {r}/webhooks/rest/webhook
  WeChat webhook:                          {r}/webhooks/wechat/webhook
  Action server:                           {system.actions_url}
Prometheus metrics, health and readiness (loopback; /metrics, /health, /ready; docs/operations.md):
  backend {ops_backend}   action server {ops_actions}   Rasa {ops_rasa}
Demo students 2025000001 … 2025000007 (sign in on the demo page); chat in a terminal with `make chat`.
Processes (pid): {pids}; one that exits is restarted (var/log/supervisor.log).
Ctrl-C stops everything.""",
        flush=True,
    )

    Supervisor(system, a.log_dir / "supervisor.log").run_until_signal()
    return 0


if __name__ == "__main__":
    sys.exit(main())
