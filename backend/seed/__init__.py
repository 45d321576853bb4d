"""Demo data: students 2025000001..2025000007, staff accounts, college contacts; dates computed from today.

Modules: `fixtures` (colleges, staff, the demo units, id and credit-code makers), `demo` (reset and seed the
demo students, their records and history).
"""

from __future__ import annotations

from backend.seed.demo import STUDENT_TABLES, demo_ids, reset_demo, seed
from backend.seed.fixtures import COLLEGES, DEMO_IDS, STAFF, UNITS, XIAOMI, make_credit_code, make_id_number

__all__ = [
    "COLLEGES",
    "STAFF",
    "DEMO_IDS",
    "make_id_number",
    "make_credit_code",
    "XIAOMI",
    "UNITS",
    "STUDENT_TABLES",
    "reset_demo",
    "seed",
    "demo_ids",
]
