"""`python -m ops.wait_ready URL [SECONDS]`: exit 0 once URL (a process's /ready) answers 200, 1 after SECONDS
(default 180). The systemd units' ExecStartPost: a unit counts as started only when its process is ready, so
the units ordered After= it (and a balancer's health checks) see a ready process. Standard library only."""

from __future__ import annotations

import sys
import time
import urllib.request


def main(argv: list[str]) -> int:
    url, seconds = argv[0], float(argv[1]) if len(argv) > 1 else 180.0
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return 0
        except OSError:
            pass
        time.sleep(0.5)
    print(f"{url} not ready after {seconds:.0f}s", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
