"""`make run`: database with demo data, the model, then backend + action server + Rasa, until Ctrl-C."""
import os
import signal
import subprocess
import sys
import time

from scripts.system import ROOT, VENV_PY, System


def main() -> int:
    rc = subprocess.call([str(VENV_PY), str(ROOT / "scripts" / "train.py")])
    if rc:
        return rc
    system = System(
        backend_port=int(os.environ.get("BACKEND_PORT", 8000)),
        actions_port=int(os.environ.get("ACTIONS_PORT", 5055)),
        rasa_port=int(os.environ.get("RASA_PORT", 5005)),
        database_url=os.environ.get("DATABASE_URL", ""),
    )
    print(">> starting backend, action server and Rasa (logs in var/log/)", flush=True)
    t0 = time.monotonic()
    system.start(seed=os.environ.get("SEED", "1") == "1")
    b, r = system.backend_url, system.rasa_url
    print(f"""
智能咨询 is up ({time.monotonic() - t0:.0f}s).
  Job-site demo page with the chat widget: {b}/
  Backend API docs (OpenAPI):              {b}/docs
  Rasa REST channel:                       {r}/webhooks/rest/webhook
  WeChat webhook:                          {r}/webhooks/wechat/webhook
  Action server:                           {system.actions_url}
Demo students 2025000001 … 2025000007 (sign in on the demo page); chat in a terminal with `make chat`.
Ctrl-C stops everything.""", flush=True)

    stop = {"now": False}

    def on_signal(*_):
        stop["now"] = True

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        while not stop["now"]:
            for name, proc in system.procs.items():
                if proc.poll() is not None:
                    print(f"!! {name} exited with {proc.returncode}; see var/log/{name}.log", file=sys.stderr)
                    stop["now"] = True
            time.sleep(0.5)
    finally:
        print(">> stopping")
        system.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
