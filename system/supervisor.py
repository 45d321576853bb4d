"""Keeps the system's processes running for `make run` and `make run-cluster`.

A process that dies is started again after a back-off (1, 2, 4, 8, 16, then every 30 s while it keeps failing;
back to 1 s once it has stayed up for a minute); the others keep serving meanwhile (FAQ answers need only
Rasa). Every exit and restart is one line on the console and in the supervisor log. Ctrl-C (SIGINT) or SIGTERM
stops everything in reverse start order, each process given SIGTERM and time to finish the requests in
progress (Sanic's and uvicorn's graceful shutdown), SIGKILL after 20 s.

For deployments use a real supervisor instead: deploy/systemd/*.service (see README).
"""

from __future__ import annotations

import datetime as dt
import signal
import sys
import threading
import time
from pathlib import Path

from system.processes import System

BACKOFF_S = (1, 2, 4, 8, 16, 30)
STABLE_S = 60.0  # up this long: the next failure starts the back-off again at 1 s


class Supervisor:
    """Restarts the system's processes when they exit. `tick()` from one loop; restarts run in threads so a
    slow start (Rasa loads its model for a minute) never holds up watching the others."""

    def __init__(self, system: System, log_path: Path, starters: dict | None = None) -> None:
        """`starters`: process name -> function starting it (default: the System's backend, actions, rasa)."""
        self.system = system
        self.starters = starters or {
            "backend": system.start_backend,
            "actions": system.start_actions,
            "rasa": system.start_rasa,
        }
        self.log_path = log_path
        now = time.monotonic()
        self.up_since = {name: now for name in self.starters}
        self.failures = {name: 0 for name in self.starters}
        self.due: dict[str, float] = {}  # name -> when to start it again
        self.down_since: dict[str, float] = {}
        self.restarting: dict[str, threading.Thread] = {}
        self.errors: dict[str, str] = {}
        self.stopping = threading.Event()

    def log(self, line: str, err: bool = False) -> None:
        stamp = dt.datetime.now().strftime("%H:%M:%S")
        print(f"{'!!' if err else '>>'} {stamp} {line}", file=sys.stderr if err else sys.stdout, flush=True)
        with open(self.log_path, "a", encoding="utf-8") as f:
            f.write(f"{dt.datetime.now().isoformat(timespec='seconds')} {line}\n")

    def _restart(self, name: str) -> None:
        if self.stopping.is_set():
            return
        try:
            self.starters[name]()
        except Exception as e:  # noqa: BLE001 - reported and retried by tick()
            self.errors[name] = str(e)
            self.system.stop_one(name)  # not ready in time: do not leave it half-started

    def tick(self) -> None:
        now = time.monotonic()
        for name in self.starters:
            thread = self.restarting.get(name)
            if thread is not None:
                if thread.is_alive():
                    continue
                del self.restarting[name]
                proc = self.system.procs.get(name)
                if proc is not None and proc.poll() is None:
                    self.up_since[name] = now
                    self.log(
                        f"{name} is back (pid {proc.pid}) after {now - self.down_since.pop(name, now):.0f}s"
                    )
                    continue
                self.log(f"{name} did not start: {self.errors.pop(name, 'exited')}", err=True)
            proc = self.system.procs.get(name)
            if proc is not None and proc.poll() is None:
                if now - self.up_since[name] >= STABLE_S:
                    self.failures[name] = 0
                continue
            if name not in self.due:
                self.failures[name] += 1
                delay = BACKOFF_S[min(self.failures[name], len(BACKOFF_S)) - 1]
                self.due[name] = now + delay
                self.down_since.setdefault(name, now)
                code = proc.returncode if proc is not None else "?"
                self.log(
                    f"{name} exited with code {code}; restarting in {delay}s (attempt {self.failures[name]}; "
                    f"log: {self.system.log_dir / (name + '.log')}); the others keep serving",
                    err=True,
                )
            elif now >= self.due[name]:
                del self.due[name]
                t = threading.Thread(target=self._restart, args=(name,), name=f"restart-{name}", daemon=True)
                self.restarting[name] = t
                t.start()

    def run_until_signal(self, after_stop=None) -> None:
        """Watch and restart until Ctrl-C or SIGTERM, then stop everything (requests in progress finish
        first)."""
        stop = threading.Event()
        signal.signal(signal.SIGINT, lambda *_: stop.set())
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        try:
            while not stop.is_set():
                self.tick()
                stop.wait(0.5)
        finally:
            print(f">> {dt.datetime.now():%H:%M:%S} stopping: requests in progress finish first", flush=True)
            self.stop()
            if after_stop is not None:
                after_stop()
            print(">> stopped", flush=True)

    def stop(self) -> None:
        self.stopping.set()
        # a process being restarted is in procs: its start fails at once and its thread ends
        self.system.stop()
        for t in list(self.restarting.values()):
            t.join(30)
        self.system.stop()
