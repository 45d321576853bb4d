"""`make run-cluster`: the distributed topology on one machine (issue 13; system/cluster.py), from Debian's
packages, supervised until Ctrl-C.

PostgreSQL: CLUSTER_DATABASE_URL (an existing server; a database is used as is), else a local cluster in
var/cluster/pg on port 55433. Ports: RASA_PORT (balancer), ACTIONS_PORT, BACKEND_PORT, REDIS_PORT.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time

from system import ROOT, VENV_PY
from system.cluster import Cluster, cluster_endpoints, missing_binaries
from system.supervisor import Supervisor


def main(argv: list[str] | None = None) -> int:
    from contracts import production

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--rasa", type=int, default=int(os.environ.get("CLUSTER_RASA", 2)), help="Rasa servers (2)"
    )
    ap.add_argument(
        "--actions", type=int, default=int(os.environ.get("CLUSTER_ACTIONS", 2)), help="action servers (2)"
    )
    ap.add_argument(
        "--workers",
        type=int,
        default=int(os.environ.get("CLUSTER_BACKEND_WORKERS", 2)),
        help="backend workers (2)",
    )
    ap.add_argument("--no-train", action="store_true", help="serve the newest model in models/ as it is")
    ap.add_argument(
        "--print-endpoints",
        action="store_true",
        help="print the endpoints file of a cluster's Rasa server and exit",
    )
    a = ap.parse_args(argv)
    if a.print_endpoints:
        print(cluster_endpoints(), end="")
        return 0
    missing = missing_binaries(need_postgres=not os.environ.get("CLUSTER_DATABASE_URL"))
    if missing:
        print(
            "!! make run-cluster needs Debian packages: apt-get install -y " + " ".join(missing),
            file=sys.stderr,
        )
        return 1
    found = production.problems()
    if found:
        print(production.message("make run-cluster", found), file=sys.stderr, flush=True)
        return production.EXIT_CODE
    if not a.no_train:
        rc = subprocess.call([str(VENV_PY), str(ROOT / "scripts" / "train.py")])
        if rc:
            return rc
    cluster = Cluster(
        rasa_instances=a.rasa,
        action_servers=a.actions,
        backend_workers=a.workers,
        database_url=os.environ.get("CLUSTER_DATABASE_URL", ""),
        lb_port=int(os.environ.get("RASA_PORT", 5005)),
        actions_lb_port=int(os.environ.get("ACTIONS_PORT", 5055)),
        backend_port=int(os.environ.get("BACKEND_PORT", 8000)),
        redis_port=int(os.environ.get("REDIS_PORT", 6380)),
        # operations ports (/metrics, /health, /ready): backend 9101, Rasa 9110+, actions 9120+
        backend_metrics_port=int(os.environ.get("BACKEND_METRICS_PORT", 9101)),
        rasa_metrics_ports=[int(os.environ.get("RASA_METRICS_PORT", 9110)) + i for i in range(a.rasa)],
        action_metrics_ports=[
            int(os.environ.get("ACTIONS_METRICS_PORT", 9120)) + i for i in range(a.actions)
        ],
        handoff_hours=None,  # the real office hours (tests default to "always")
        chat_limits=True,
    )

    def interrupt(signum, _frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGINT, interrupt)
    signal.signal(signal.SIGTERM, interrupt)
    print(
        f">> starting the cluster: {a.rasa} Rasa servers, {a.actions} action servers, backend with "
        f"{a.workers} workers, Redis, nginx, PostgreSQL (logs in {cluster.log_dir})",
        flush=True,
    )
    t0 = time.monotonic()
    try:
        cluster.start(seed=os.environ.get("SEED", "0" if production.is_production() else "1") == "1")
    except BaseException as e:
        print(f"!! start failed: {e}", file=sys.stderr, flush=True)
        cluster.stop()
        return 1
    web, rest, wechat = cluster.backend_url, cluster.rest_webhook, cluster.wechat_webhook
    print(
        f"""
智能咨询 cluster is up ({time.monotonic() - t0:.0f}s). What runs where:
{cluster.describe()}
  Job-site demo page: {web}/   REST channel: {rest}   WeChat: {wechat}
A server that exits is restarted (var/cluster/log/supervisor.log); the balancer sends its turns to the others.
Ctrl-C stops everything.""",
        flush=True,
    )

    starters = {"redis": cluster.start_redis, "backend": cluster.start_backend, "nginx": cluster.start_nginx}
    for i in range(cluster.action_servers):
        starters[f"actions-{i + 1}"] = lambda i=i: cluster.start_action_server(i)
    for i in range(cluster.rasa_instances):
        starters[cluster.rasa_name(i)] = lambda i=i: cluster.start_rasa(i)
    sup = Supervisor(cluster.sys, cluster.log_dir / "supervisor.log", starters)
    sup.run_until_signal(after_stop=cluster._stop_postgres)
    return 0


if __name__ == "__main__":
    sys.exit(main())
