"""Roster import: the read-only fields the school provides (JSON list of objects)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from backend import models as M
from backend.validators import check_id_number

REQUIRED = [
    "id",
    "name",
    "gender",
    "college_code",
    "major",
    "degree",
    "level",
    "graduation_date",
    "id_number",
]


class RosterError(ValueError):
    pass


def import_roster(s: Session, rows: list[dict], commit: bool = True) -> list[str]:
    """Insert or update roster rows; every 身份证号 must pass its check digit. All or nothing."""
    ids = []
    for i, row in enumerate(rows):
        missing = [k for k in REQUIRED if not row.get(k)]
        if missing:
            raise RosterError(f"row {i}: missing {', '.join(missing)}")
        errs = check_id_number(row["id_number"])
        if errs:
            raise RosterError(f"row {i} ({row['id']}): {errs[0].message}")
        if s.get(M.College, row["college_code"]) is None:
            raise RosterError(f"row {i}: unknown college {row['college_code']}")
        data = dict(row)
        for k in ("graduation_date", "birth_date"):
            if isinstance(data.get(k), str):
                data[k] = dt.date.fromisoformat(data[k])
        if not data.get("birth_date"):
            v = data["id_number"]
            data["birth_date"] = dt.date(int(v[6:10]), int(v[10:12]), int(v[12:14]))
        st = s.get(M.Student, data["id"]) or M.Student(id=data["id"], needs_reconfirm=False)
        for k, v in data.items():
            setattr(st, k, v)
        s.add(st)
        ids.append(st.id)
    if commit:
        s.commit()
    return ids
