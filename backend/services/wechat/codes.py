"""WeChat binding: one-time codes a signed-in student gets on the web and sends to the official account."""

from __future__ import annotations

import datetime as dt
import re
import secrets

from sqlalchemy import delete, func, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from backend import models as M
from backend.core import clock
from backend.core.auth import Principal
from backend.core.db import rowcount
from backend.core.errors import APIError
from backend.services.common import SYSTEM, audit, lock_student, ts


def binding(s: Session, openid: str) -> M.WechatBinding:
    """The student an OpenID is bound to, or 404 not_bound (for the channel's integration routes)."""
    b = s.get(M.WechatBinding, openid)
    if b is None:
        raise APIError(404, "not_bound", "该微信尚未绑定学生账号。")
    return b


# Codes: 8 characters of Crockford's base32 (no I, L, O, U: 32**8 = 2**40), shown as XXXX-XXXX. A student
# types them in WeChat in any case, with or without the hyphen or spaces; I and L are read as 1, O as 0.
CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_LEN = 8
CODE_TTL = dt.timedelta(minutes=10)
CODES_PER_HOUR = 5  # issued per student
FAIL_WINDOW = dt.timedelta(minutes=10)
FAILS_PER_OPENID = 5  # failed guesses per openid in the window
FAILS_TOTAL = 200  # failed guesses from all openids together in the window
_CODE_TYPOS = str.maketrans({"I": "1", "L": "1", "O": "0"})
_CODE_SEPARATORS = re.compile(r"[\s\-‐‑‒–—―－_·.。]+")
USED_CODE_MSG = "该绑定码已使用过，每个绑定码只能用一次；如需重新绑定请在网页上重新获取。"
BAD_CODE_MSG = (
    "绑定码应为8位字母和数字（网页上显示为“XXXX-XXXX”），请核对后重新发送；也可以在网页上重新获取。"
)


def _new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LEN))


def show_code(code: str) -> str:
    return f"{code[:4]}-{code[4:]}"


def normalise_code(text: str) -> str | None:
    """The stored form of a typed code, or None if it cannot be one."""
    code = _CODE_SEPARATORS.sub("", (text or "").strip()).upper().translate(_CODE_TYPOS)
    if len(code) != CODE_LEN or any(ch not in CODE_ALPHABET for ch in code):
        return None
    return code


def _retry_minutes(oldest: dt.datetime, now: dt.datetime) -> int:
    seconds = (clock.aware(oldest) + FAIL_WINDOW - now).total_seconds()
    return max(1, int(seconds + 59) // 60)


def new_bind_code(s: Session, p: Principal) -> dict:
    st = lock_student(s, p.id)  # issuing and its limit are serialised per student
    now = clock.now()
    recent = list(
        s.scalars(
            select(M.WechatBindCode.created_at)
            .where(
                M.WechatBindCode.student_id == st.id,
                M.WechatBindCode.created_at > now - dt.timedelta(hours=1),
            )
            .order_by(M.WechatBindCode.created_at)
        )
    )
    if len(recent) >= CODES_PER_HOUR:
        retry = int((clock.aware(recent[0]) + dt.timedelta(hours=1) - now).total_seconds()) + 1
        raise APIError(
            429,
            "too_many_codes",
            f"一小时内最多获取{CODES_PER_HOUR}次绑定码，请在{max(1, (retry + 59) // 60)}分钟后再试；"
            "之前获取的最新绑定码在10分钟内仍然有效。",
            retry_after=retry,
        )
    # a new code voids the older ones
    s.execute(
        update(M.WechatBindCode)
        .where(
            M.WechatBindCode.student_id == st.id,
            M.WechatBindCode.used_at.is_(None),
            M.WechatBindCode.voided_at.is_(None),
        )
        .values(voided_at=now)
    )
    for _ in range(10):  # unique constraint: on the (2**-40 per live code) chance of a collision, draw again
        bc = M.WechatBindCode(code=_new_code(), student_id=st.id, created_at=now, expires_at=now + CODE_TTL)
        try:
            with s.begin_nested():
                s.add(bc)
        except IntegrityError:
            continue
        break
    else:  # pragma: no cover - ten collisions in a row
        raise APIError(503, "try_again", "暂时无法生成绑定码，请稍后重试。")
    audit(s, p, p.id, "wechat", bc.id, "bind_code", None, {"expires_at": bc.expires_at})
    s.commit()
    return {"code": show_code(bc.code), "expires_at": ts(bc.expires_at)}


def _bind_guard(s: Session, openid: str, now: dt.datetime) -> None:
    """Serialise binding attempts across processes and refuse them while too many guesses failed recently."""
    if s.get_bind().dialect.name == "postgresql":
        s.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": 0x7765636861})  # SQLite: BEGIN IMMEDIATE
    since = now - FAIL_WINDOW
    s.execute(delete(M.WechatBindFailure).where(M.WechatBindFailure.at < now - dt.timedelta(hours=1)))
    mine = list(
        s.scalars(
            select(M.WechatBindFailure.at)
            .where(M.WechatBindFailure.openid == openid, M.WechatBindFailure.at > since)
            .order_by(M.WechatBindFailure.at)
        )
    )
    total, oldest = s.execute(
        select(func.count(), func.min(M.WechatBindFailure.at)).where(M.WechatBindFailure.at > since)
    ).one()
    if len(mine) >= FAILS_PER_OPENID:
        oldest = mine[len(mine) - FAILS_PER_OPENID]
    elif total < FAILS_TOTAL:
        return
    minutes = _retry_minutes(oldest, now)
    s.rollback()
    raise APIError(
        429,
        "too_many_attempts",
        f"绑定码错误次数过多，为保护账号安全已暂停绑定，请在{minutes}分钟后再试。",
        retry_after=minutes * 60,
    )


def _bind_failed(s: Session, openid: str, now: dt.datetime, code: str, message: str) -> APIError:
    s.add(M.WechatBindFailure(openid=openid, at=now))
    s.commit()  # the failure counts even though the request fails
    return APIError(422, code, message, fields=[])


def bind_wechat(s: Session, openid: str, code: str) -> dict:
    now = clock.now()
    _bind_guard(s, openid, now)
    norm = normalise_code(code)
    if norm is None:
        raise _bind_failed(s, openid, now, "bind_code_invalid", BAD_CODE_MSG)
    sid = s.scalar(select(M.WechatBindCode.student_id).where(M.WechatBindCode.code == norm))
    if sid is None:
        raise _bind_failed(
            s, openid, now, "bind_code_invalid", "绑定码不正确，请核对后重新发送，或在网页上重新获取。"
        )
    # lock order as everywhere: the student, then the code (issuing a new code for the student voids this one)
    st = lock_student(s, sid)
    bc = s.scalar(
        select(M.WechatBindCode)
        .where(M.WechatBindCode.code == norm)
        .with_for_update(of=M.WechatBindCode)
        .execution_options(populate_existing=True)
    )
    if bc is None:  # deleted between the two reads: as if it never existed
        raise _bind_failed(
            s, openid, now, "bind_code_invalid", "绑定码不正确，请核对后重新发送，或在网页上重新获取。"
        )
    if bc.used_at is not None:
        raise APIError(422, "bind_code_used", USED_CODE_MSG, fields=[])
    if bc.voided_at is not None:
        raise APIError(
            422,
            "bind_code_voided",
            "该绑定码已失效：你之后又获取了新的绑定码，请发送网页上显示的最新绑定码。",
            fields=[],
        )
    if clock.aware(bc.expires_at) < now:
        raise APIError(
            422, "bind_code_expired", "绑定码已过期（有效期10分钟），请在网页上重新获取。", fields=[]
        )
    # single use, conditional in the database: of two requests racing for this code one updates the row
    used = s.execute(
        update(M.WechatBindCode)
        .where(
            M.WechatBindCode.id == bc.id,
            M.WechatBindCode.used_at.is_(None),
            M.WechatBindCode.voided_at.is_(None),
        )
        .values(used_at=now, used_by=openid)
        .execution_options(synchronize_session=False)
    )
    if rowcount(used) != 1:  # pragma: no cover - the lock above already serialises
        s.rollback()
        raise APIError(422, "bind_code_used", USED_CODE_MSG, fields=[])
    # one binding per openid and per student: replace what was there (a bulk delete: a concurrent unbind of
    # the same row is not an error)
    s.execute(
        delete(M.WechatBinding)
        .where((M.WechatBinding.openid == openid) | (M.WechatBinding.student_id == st.id))
        .execution_options(synchronize_session=False)
    )
    s.add(M.WechatBinding(openid=openid, student_id=st.id, bound_at=now))
    audit(s, SYSTEM, st.id, "wechat", openid, "bind", None, {"openid": openid})
    s.commit()
    return {"student_id": st.id, "name": st.name}


def binding_of_student(s: Session, student_id: str) -> M.WechatBinding | None:
    return s.scalar(select(M.WechatBinding).where(M.WechatBinding.student_id == student_id))


def unbind(s: Session, actor: Principal, b: M.WechatBinding) -> dict:
    audit(s, actor, b.student_id, "wechat", b.openid, "unbind", {"openid": b.openid}, None)
    s.delete(b)
    s.commit()
    return {"bound": False}
