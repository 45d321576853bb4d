"""Answers staff edit without retraining (issue 14 §1, §2).

Every Rasa response (utter_*, and utter_faq/<topic> of the retrieval intent) lives in the `answers` table,
seeded from the domain files (bot/domain/*.yml, the source for a fresh install) and served to Rasa through the
NLG endpoint (POST /api/nlg, Rasa's protocol). Each edit is a new row in `answer_versions` (history), a
rollback is a new version with an earlier content, and both go to the audit log. Only school staff (the career
center) edit; counselors read. The NLG endpoint answers from a copy of the table in the process (one query for
all answers, reloaded every ANSWERS_CACHE_SECONDS, default 2) that an edit or rollback through this process
clears, so the edit is live on the next turn; with several backend processes, the others follow within
ANSWERS_CACHE_SECONDS. Measured: the NLG call with a database read per call cost a FAQ turn more than the 20
ms budget on a busy 2-core machine (bench/nlg_cost.py).

Modules: `domain` (the domain's answers as the source of a fresh install, versions), `nlg` (the NLG endpoint:
the cache, the snapshot, rendering), `editing` (what staff see and edit, rollback).
"""

from __future__ import annotations

from backend.services.answers.domain import (
    DOMAIN_AUTHOR,
    DOMAIN_DIR,
    MAX_BUTTONS,
    MAX_SOURCE,
    MAX_TEXT,
    SOURCES_FILE,
    domain,
    domain_sources,
    import_domain,
)
from backend.services.answers.editing import (
    allowed_variables,
    answer_view,
    can_edit,
    count,
    edit_answer,
    list_answers,
    rollback,
)
from backend.services.answers.nlg import SOURCE_PREFIX, AnswerCache, cache, render, snapshot

__all__ = [
    "DOMAIN_DIR",
    "SOURCES_FILE",
    "DOMAIN_AUTHOR",
    "MAX_TEXT",
    "MAX_BUTTONS",
    "MAX_SOURCE",
    "SOURCE_PREFIX",
    "domain",
    "domain_sources",
    "import_domain",
    "AnswerCache",
    "cache",
    "snapshot",
    "render",
    "can_edit",
    "list_answers",
    "answer_view",
    "allowed_variables",
    "edit_answer",
    "rollback",
    "count",
]
