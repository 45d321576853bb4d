"""`python -m backend.services.notices`: one notice delivery worker (see delivery.py)."""

from backend.services.notices.delivery import main

main()
