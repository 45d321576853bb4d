"""`python -m backend.services.notices`: one notice delivery worker (see backend/services/notices/__init__.py)."""

from backend.services.notices import main

main()
