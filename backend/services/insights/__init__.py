"""What students ask and their feedback (issue 14 §3, §4).

- Turns arrive in batches from the Rasa process (bot/turnlog.py, an event broker) on an integration endpoint;
  feedback from the widget (and any channel) on POST /api/feedback, signed in or not.
- Nothing secret or personal beyond what staff need: no tokens; the question text with numbers and e-mail
  addresses masked in every spelling (contracts/masking.py), and not kept at all while a form is being filled
  (the Rasa side sends a placeholder); the student id only for signed-in students (from the verified token).
- Staff see unanswered and low-confidence questions, top topics per day and week, thumbs-down with their
  reasons and requests for a person; a counselor only turns and feedback of their college's students; CSV
  export.
- Retention: TURN_LOG_RETENTION_DAYS (default 180) days for turns, feedback and closed handoff sessions with
  their messages (services/handoff/staff.py `purge`); `python -m backend.cli purge` deletes older rows, and
  the turn ingestion does it at most once an hour.

Modules: `retention` (the turn log's age, purge), `ingestion` (turns and feedback coming in), `views` (the
staff overview and CSV exports), `demo` (demo turns and feedback for `make run`).
"""

from __future__ import annotations

from backend.services.insights.demo import DEMO_FEEDBACK, DEMO_PREFIX, DEMO_TURNS, seed_demo
from backend.services.insights.ingestion import (
    FEEDBACK_LOCK,
    FEEDBACK_WINDOW,
    TOO_MANY_FEEDBACK,
    add_feedback,
    add_turns,
    add_wechat_feedback,
    feedback_key,
)
from backend.services.insights.retention import (
    FORM_PLACEHOLDER,
    LOW_CONFIDENCE,
    REASONS,
    purge,
    retention_days,
)
from backend.services.insights.views import (
    UNKNOWN_TOPIC,
    feedback_csv,
    feedback_in,
    overview,
    turns_csv,
    turns_in,
)

__all__ = [
    "REASONS",
    "LOW_CONFIDENCE",
    "FORM_PLACEHOLDER",
    "retention_days",
    "purge",
    "add_turns",
    "FEEDBACK_WINDOW",
    "FEEDBACK_LOCK",
    "TOO_MANY_FEEDBACK",
    "feedback_key",
    "add_feedback",
    "add_wechat_feedback",
    "turns_in",
    "feedback_in",
    "UNKNOWN_TOPIC",
    "overview",
    "turns_csv",
    "feedback_csv",
    "DEMO_PREFIX",
    "DEMO_TURNS",
    "DEMO_FEEDBACK",
    "seed_demo",
]
