"""Moves every Python process of a test run to another date (issue 24).

`make test-dates` puts this folder on PYTHONPATH with TEST_SHIFT_DAYS=N: the test process and every backend,
action server and Rasa process it starts (the launcher keeps the parent's PYTHONPATH) read a wall clock N
days away (time-machine, ticking), while monotonic clocks, sleeps and timeouts stay real. A test that only
passes on the day it was written fails here. Not on any path outside that target.
"""

import os

_days = os.environ.get("TEST_SHIFT_DAYS")
if _days:
    import datetime as _dt

    import time_machine

    # time-machine's clock starts ticking at its first reading, not at start(): read it at once, or a process
    # that stays idle after starting (a backend waiting for requests) lags behind the others (JWTs "not yet
    # valid")
    time_machine.travel(_dt.timedelta(days=int(_days)), tick=True).start().time()
