"""Custom actions of the assistant (rasa_sdk). One module per flow; the backend client is in `backend.py`."""
