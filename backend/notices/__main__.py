"""`python -m backend.notices`: one notice delivery worker (see backend/notices/__init__.py)."""

from backend.notices import main

main()
