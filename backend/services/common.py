"""What every service uses: timestamps as the API shows them, the audit log, loading and locking a student."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from backend import models as M
from backend.core import clock
from backend.core.auth import Principal
from backend.core.errors import not_found
from backend.schemas import ts
from contracts import vocabulary as V

SYSTEM = Principal("system", "system", "系统", None)


def _jsonable(v: Any) -> Any:
    if isinstance(v, dt.datetime):
        return ts(v)
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, dict):
        return {k: _jsonable(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_jsonable(x) for x in v]
    if hasattr(v, "model_dump"):  # an *Out model
        return v.model_dump(mode="json")
    return v


def audit(
    s: Session,
    actor: Principal,
    student_id: str | None,
    entity: str,
    entity_id: Any,
    action: str,
    before: Any,
    after: Any,
) -> None:
    s.add(
        M.AuditLog(
            at=clock.now(),
            actor_role=actor.role,
            actor_id=actor.id,
            student_id=student_id,
            entity=entity,
            entity_id=str(entity_id),
            action=action,
            before=_jsonable(before),
            after=_jsonable(after),
        )
    )


def get_student(s: Session, student_id: str) -> M.Student:
    st = s.get(M.Student, student_id)
    if not st:
        raise not_found("没有这名学生。")
    return st


def lock_student(s: Session, student_id: str) -> M.Student:
    """The student's row, locked for the rest of the transaction (SELECT ... FOR UPDATE OF students on
    PostgreSQL; SQLite's BEGIN IMMEDIATE already serialises writers). Every change to a student's records, by
    the student or by staff, takes this lock first, so transitions on one student's records run one at a time
    and each sees the state the previous one committed (and lock order is always student, then record: no
    deadlocks)."""
    st = s.scalar(
        select(M.Student)
        .where(M.Student.id == student_id)
        .with_for_update(of=M.Student)
        .execution_options(populate_existing=True)
    )
    if not st:
        raise not_found("没有这名学生。")
    return st


NOT_FOUND = "没有找到对应的记录。"


def check_scope(p: Principal, st: M.Student, missing: str = NOT_FOUND) -> None:
    """A counselor outside their college gets the 404 a missing id gets (`missing`: that message), so record
    and student ids of other colleges cannot be told from ids that do not exist (issue 21 §11)."""
    if p.role == V.Role.counselor and st.college_code != p.college_code:
        raise not_found(missing)


def page(s: Session, q, order, limit: int, offset: int) -> tuple[int, list]:
    """(total, rows) of a listing query."""
    total = s.scalar(select(func.count()).select_from(q.subquery())) or 0
    return total, list(s.scalars(q.order_by(order).limit(limit).offset(offset)).unique().all())


def student_ctx(st: M.Student) -> dict:
    d = personal_of(st)
    d.update(name=st.name, home_address=st.home_address, id=st.id)
    return d


def personal_of(st: M.Student) -> dict:
    return {k: getattr(st, k) for k in V.PERSONAL_FIELDS}
