"""Former home of the reference lists, kept for importers outside the backend: use `backend.vocabulary`."""

from backend.vocabulary import *  # noqa: F401,F403
