"""A real Prometheus (Debian's /usr/bin/prometheus) for tests: scrapes the given targets every second, with
the project's alert rules loaded; queried through its HTTP API."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
import urllib.parse
from pathlib import Path

import yaml

from system.processes import ROOT, free_port, http_get

PROMETHEUS = shutil.which("prometheus")


def job_of(process: str) -> str:
    """rasa-2 -> zhineng-rasa, backend -> zhineng-backend (the jobs the alert rules name)."""
    return "zhineng-" + process.split("-")[0]


class Prometheus:
    def __init__(self, targets: dict, tmp: Path) -> None:
        """`targets`: process name -> host:port of its /metrics (System/Cluster.metrics_targets())."""
        self.tmp, self.port = tmp, free_port()
        jobs: dict = {}
        for name, target in targets.items():
            jobs.setdefault(job_of(name), []).append(target)
        shutil.copy(ROOT / "deploy" / "prometheus" / "alerts.yml", tmp / "alerts.yml")
        config = {
            "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
            "rule_files": ["alerts.yml"],
            "scrape_configs": [
                {"job_name": job, "static_configs": [{"targets": t}]} for job, t in jobs.items()
            ],
        }
        (tmp / "prometheus.yml").write_text(yaml.safe_dump(config))
        self.log = open(tmp / "prometheus.log", "wb")
        self.proc = subprocess.Popen(
            [
                PROMETHEUS,
                f"--config.file={tmp / 'prometheus.yml'}",
                f"--storage.tsdb.path={tmp / 'data'}",
                f"--web.listen-address=127.0.0.1:{self.port}",
            ],
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.wait(lambda: http_get(f"{self.url}/-/ready")[0] == 200, 60, "prometheus not ready")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def wait(self, ok, timeout: float, what: str):
        deadline = time.monotonic() + timeout
        while True:
            try:
                got = ok()
                if got:
                    return got
            except OSError:
                pass
            if self.proc.poll() is not None:
                raise RuntimeError(f"prometheus exited: {(self.tmp / 'prometheus.log').read_text()[-2000:]}")
            if time.monotonic() > deadline:
                raise AssertionError(what)
            time.sleep(0.5)

    def query(self, expr: str) -> list[dict]:
        status, body = http_get(
            f"{self.url}/api/v1/query?{urllib.parse.urlencode({'query': expr})}", timeout=10
        )
        data = json.loads(body)
        assert status == 200 and data["status"] == "success", data
        return data["data"]["result"]

    def series(self, match: str) -> list[dict]:
        """The label sets of every series matching `match` (Prometheus's /api/v1/series)."""
        status, body = http_get(
            f"{self.url}/api/v1/series?{urllib.parse.urlencode({'match[]': match})}", timeout=10
        )
        return json.loads(body)["data"]

    def value(self, expr: str) -> float:
        """The single value of `expr` now (0 when it has no result)."""
        result = self.query(expr)
        return sum(float(r["value"][1]) for r in result)

    def wait_value(self, expr: str, check, timeout: float = 30) -> float:
        """Poll `expr` until check(value) holds (scrapes every second); its value."""
        last = []

        def ok():
            last[:] = [self.value(expr)]
            return check(last[0])

        self.wait(ok, timeout, f"{expr}: last value {last}")
        return last[0]

    def rules_loaded(self) -> list[str]:
        status, body = http_get(f"{self.url}/api/v1/rules", timeout=10)
        return [r["name"] for g in json.loads(body)["data"]["groups"] for r in g["rules"]]

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()
