"""One launcher library for the whole system: `make run` and `make run-cluster` (scripts/), the benchmarks
(bench/) and the tests start, wait for and stop the same processes the same way.

- system.processes: `System` (backend, action server, Rasa on loopback), paths, `say`, `dev_login`, HTTP
  helpers;
- system.supervisor: `Supervisor` (restart with back-off, graceful stop);
- system.cluster: `Cluster` (nginx, N Rasa servers, M action servers, Redis, PostgreSQL).
"""

from system.processes import (
    DEMO_ENV,
    MODELS,
    RASA,
    RASA_PY,
    ROOT,
    VENV_PY,
    System,
    dev_login,
    free_port,
    http_get,
    http_post,
    latest_model,
    run_on_model,
    say,
)

__all__ = [
    "DEMO_ENV",
    "MODELS",
    "RASA",
    "RASA_PY",
    "ROOT",
    "VENV_PY",
    "System",
    "dev_login",
    "free_port",
    "http_get",
    "http_post",
    "latest_model",
    "run_on_model",
    "say",
]
