"""Custom actions of the assistant (rasa_sdk). One module per flow; the backend client is in `backend.py`."""
from deploy import logs

logs.setup(configure=False)  # the action server's log (rasa_sdk sets it up): secrets masked (deploy/logs.py)
