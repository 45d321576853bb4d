"""Custom actions of the assistant (rasa_sdk). One module per flow; the backend client is in `backend.py`."""

from contracts import logs

logs.setup(
    configure=False
)  # the action server's log (rasa_sdk sets it up): secrets masked (contracts/logs.py)

from ops import actions_metrics  # noqa: E402

actions_metrics.install()  # action latency/errors and /metrics, /health, /ready on METRICS_PORT (issue 23)
