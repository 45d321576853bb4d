"""Resource probes: peak memory of process trees, timed subprocesses, the machine description."""

from __future__ import annotations

import os
import platform
import subprocess
import threading
import time
from pathlib import Path

import psutil


def tree_rss(pid: int) -> int:
    """RSS in bytes of a process and all its children (0 when it is gone)."""
    try:
        p = psutil.Process(pid)
        procs = [p] + p.children(recursive=True)
    except psutil.Error:
        return 0
    total = 0
    for q in procs:
        try:
            total += q.memory_info().rss
        except psutil.Error:
            pass
    return total


class MemoryMonitor:
    """Polls the RSS of named process trees in a background thread and keeps the peak of each."""

    def __init__(self, interval: float = 0.2):
        self.interval = interval
        self.pids: dict[str, int] = {}
        self.sources: list[
            dict
        ] = []  # dicts name -> subprocess.Popen (e.g. System.procs), read on every tick
        self.peak: dict[str, int] = {}
        self.last: dict[str, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name="memory-monitor")

    def watch(self, name: str, pid: int) -> None:
        self.pids[name] = pid
        self.sample()

    def watch_procs(self, procs: dict) -> None:
        """Follow a live dict of name -> Popen, so processes are measured from the moment they are spawned."""
        self.sources.append(procs)

    def unwatch(self, name: str) -> None:
        self.pids.pop(name, None)

    def sample(self) -> None:
        pids = dict(self.pids)
        for src in self.sources:
            for name, proc in list(src.items()):
                if proc.poll() is None:
                    pids.setdefault(name, proc.pid)
        for name, pid in pids.items():
            rss = tree_rss(pid)
            if rss:
                self.last[name] = rss
                self.peak[name] = max(self.peak.get(name, 0), rss)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.sample()

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(timeout=2)

    def peak_mib(self) -> dict[str, float]:
        return {k: round(v / 2**20, 1) for k, v in self.peak.items()}


def run_measured(
    name: str,
    args: list[str],
    monitor: MemoryMonitor,
    cwd: Path,
    env: dict | None = None,
    log: Path | None = None,
) -> tuple[int, float]:
    """Run a command to completion, its output passed through (progress bars stay visible) or to `log`.

    Returns (exit code, seconds); the monitor records the peak RSS under `name`."""
    t0 = time.monotonic()
    out = open(log, "ab") if log else None
    try:
        proc = subprocess.Popen(args, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT if out else None)
        monitor.watch(name, proc.pid)
        rc = proc.wait()
    finally:
        if out:
            out.close()
    monitor.unwatch(name)
    return rc, time.monotonic() - t0


def cpu_busy_percent(seconds: float = 1.0) -> float:
    """Whole-machine CPU use over `seconds` (to warn when others are training)."""
    return psutil.cpu_percent(interval=seconds)


def machine() -> dict:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_kib = 0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_kib = int(line.split()[1])
    except OSError:
        pass
    return {
        "cpu": model or platform.processor(),
        "cores": os.cpu_count(),
        "memory_gib": round(mem_kib / 2**20, 1),
        "kernel": platform.release(),
        "os": _os_name(),
        "python": platform.python_version(),
    }


def _os_name() -> str:
    try:
        for line in Path("/etc/os-release").read_text().splitlines():
            if line.startswith("PRETTY_NAME="):
                return line.split("=", 1)[1].strip('"')
    except OSError:
        pass
    return platform.system()
