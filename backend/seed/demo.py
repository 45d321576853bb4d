"""Reset and seed the demo students: their records, reviews, sync, confirmation and mailing, dated from
today."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from backend import models as M
from backend import workdays
from backend.core import clock
from backend.seed.fixtures import (
    COLLEGES,
    DEMO_IDS,
    STAFF,
    UNITS,
    _archive_for,
    _at,
    _wd_back,
    make_id_number,
)
from backend.services import SYSTEM, audit

# every table whose rows belong to a student (a foreign key to students.id), children before parents;
# tests/notices/test_notices_seed.py checks that no such table is missing
STUDENT_TABLES = (
    M.AuditLog,
    M.MailingRequest,
    M.ChangeRequest,
    M.Archive,
    M.Destination,
    M.WechatBindCode,
    M.WechatBinding,
    M.HandoffSession,
)


def reset_demo(s: Session) -> None:
    ids = DEMO_IDS
    from backend.models import Notice, NoticeSetting  # notices reference the student (issue 15)

    # handoff messages hang off the demo students' handoff sessions (issue 15 §2)
    s.execute(
        delete(M.HandoffMessage).where(
            M.HandoffMessage.session_id.in_(
                select(M.HandoffSession.id).where(M.HandoffSession.student_id.in_(ids))
            )
        )
    )
    for model in STUDENT_TABLES + (Notice, NoticeSetting):
        s.execute(delete(model).where(model.student_id.in_(ids)))
    s.execute(delete(M.Student).where(M.Student.id.in_(ids)))
    s.flush()


def seed(s: Session, reset: bool = True) -> dict:
    if not reset and s.get(M.Student, DEMO_IDS[0]) is not None:
        return {"seeded": False}
    reset_demo(s)
    for code, name, officer, phone, email, hours, office in COLLEGES:
        c = s.get(M.College, code) or M.College(code=code)
        c.name, c.officer_name, c.officer_phone, c.officer_email, c.office_hours, c.office_location = (
            name,
            officer,
            phone,
            email,
            hours,
            office,
        )
        s.merge(c)
    s.flush()
    for sid, name, role, college in STAFF:
        s.merge(M.Staff(id=sid, name=name, role=role, college_code=college))
    s.flush()

    today = clock.today()
    last_wd = today if workdays.is_workday(today) else workdays.previous_workday(today)
    grad = dt.date(today.year + (1 if today.month > 7 else 0), 6, 30)

    people = [
        # id, name, gender, college, major, birth, region, seq, home
        (
            "2025000001",
            "张伟",
            "男",
            "physics",
            "物理学",
            dt.date(2003, 5, 12),
            "110108",
            "031",
            "北京市海淀区学院路30号院5号楼2单元301室",
        ),
        (
            "2025000002",
            "李娜",
            "女",
            "computer",
            "计算机科学与技术",
            dt.date(2003, 8, 2),
            "320681",
            "082",
            "江苏省南通市启东市汇龙镇人民路88号",
        ),
        (
            "2025000003",
            "王强",
            "男",
            "automation",
            "控制科学与工程",
            dt.date(2002, 11, 23),
            "370102",
            "051",
            "山东省济南市历下区泉城路180号",
        ),
        (
            "2025000004",
            "刘洋",
            "男",
            "physics",
            "应用物理学",
            dt.date(2003, 1, 30),
            "130102",
            "017",
            "河北省石家庄市长安区中山东路99号",
        ),
        (
            "2025000005",
            "陈静",
            "女",
            "computer",
            "软件工程",
            dt.date(2003, 3, 15),
            "310104",
            "064",
            "上海市徐汇区漕溪北路41号",
        ),
        (
            "2025000006",
            "杨帆",
            "男",
            "management",
            "工商管理",
            dt.date(2002, 7, 7),
            "440106",
            "093",
            "广东省广州市天河区天河路385号",
        ),
        (
            "2025000007",
            "赵敏",
            "女",
            "physics",
            "物理学",
            dt.date(2003, 9, 9),
            "420106",
            "028",
            "湖北省武汉市武昌区中南路7号",
        ),
    ]
    origin = {
        "110108": "北京市 海淀区",
        "320681": "江苏省 南通市",
        "370102": "山东省 济南市",
        "130102": "河北省 石家庄市",
        "310104": "上海市 徐汇区",
        "440106": "广东省 广州市",
        "420106": "湖北省 武汉市",
    }
    students: dict[str, M.Student] = {}
    for i, (sid, name, gender, college, major, birth, region, seq, home) in enumerate(people):
        st = M.Student(
            id=sid,
            name=name,
            exam_no=f"2121{region}{i:04d}",
            gender=gender,
            college_code=college,
            major=major,
            degree="本科生毕业",
            level="本科",
            graduation_date=grad,
            ethnicity="汉族",
            id_number=make_id_number(region, birth, seq),
            birth_date=birth,
            schooling_years="4",
            enrolled_on=f"{grad.year - 4}09",
            training_mode="非定向",
            home_address=home,
            needs_reconfirm=False,
        )
        if sid != "2025000001":
            st.political_status = "共青团员"
            st.origin_place = origin[region]
            st.hardship_category = "非困难生"
            st.mobile = f"1315678{int(sid[-3:]):04d}"
            st.email = f"{sid}@bit.edu.cn"
            st.wechat = f"bit_{sid}"
            st.counselor_name = "王老师"
            st.class_name = f"{college}-{grad.year % 100}-1班"
            st.emergency_contact_name = name[0] + "建国"
            st.emergency_contact_phone = f"1395678{int(sid[-3:]):04d}"
            st.profile_updated_at = _at(_wd_back(last_wd, 12), 10)
        s.add(st)
        students[sid] = st
    s.flush()

    def dest(
        sid: str,
        unit: dict,
        state: str,
        submitted: dt.date,
        college: dt.date | None = None,
        school: dt.date | None = None,
        reason: str | None = None,
    ) -> None:
        d = M.Destination(
            student_id=sid,
            destination_type="10",
            unit=dict(unit),
            state=state,
            submitted_at=_at(submitted, 9),
            updated_at=_at(submitted, 9),
            rejection_reason=reason,
        )
        if college:
            d.college_reviewed_at, d.college_reviewer = (
                _at(college, 10),
                f"counselor-{students[sid].college_code}",
            )
            d.updated_at = d.college_reviewed_at
        if school:
            d.school_reviewed_at, d.school_reviewer = _at(school, 15), "school-admin"
            d.updated_at = d.school_reviewed_at
            if state == "school_approved":
                d.approved_on = school
        s.add(d)
        audit(s, SYSTEM, sid, "destination", sid, "seed", None, {"state": state})

    def arch(
        sid: str, unit: dict, postal: str, submitted: dt.date, college: dt.date, school: dt.date
    ) -> None:
        a = M.Archive(
            student_id=sid,
            data=_archive_for(unit, postal),
            state="school_approved",
            submitted_at=_at(submitted, 9, 30),
            college_reviewed_at=_at(college, 10, 30),
            college_reviewer=f"counselor-{students[sid].college_code}",
            school_reviewed_at=_at(school, 15, 30),
            school_reviewer="school-admin",
            approved_on=school,
            updated_at=_at(school, 15, 30),
        )
        s.add(a)
        audit(s, SYSTEM, sid, "archive", sid, "seed", None, {"state": "school_approved"})

    # 002: submitted, awaiting college review
    dest("2025000002", UNITS["xiaomi"], "submitted", last_wd)
    # 003: rejected at school review
    d3 = _wd_back(last_wd, 3)
    dest(
        "2025000003",
        {**UNITS["avic"]},
        "school_rejected",
        d3,
        _wd_back(last_wd, 2),
        _wd_back(last_wd, 1),
        "组织机构代码与单位名称不一致",
    )
    # 004: approved at both levels and synced (sync date <= today), not confirmed
    a4 = _wd_back(last_wd, 1)
    dest("2025000004", UNITS["avic"], "school_approved", _wd_back(a4, 2), _wd_back(a4, 1), a4)
    arch("2025000004", UNITS["avic"], "100015", _wd_back(a4, 2), _wd_back(a4, 1), a4)
    # 005: confirmed more than one working day ago, archive approved, no mailing request
    c5 = _wd_back(last_wd, 2)
    a5 = workdays.previous_workday(c5)
    dest("2025000005", UNITS["sh"], "school_approved", _wd_back(a5, 2), _wd_back(a5, 1), a5)
    arch("2025000005", UNITS["sh"], "201203", _wd_back(a5, 2), _wd_back(a5, 1), a5)
    students["2025000005"].national_confirmed_on = c5
    # 006: mailing request shipped with EMS number 1151234567890
    c6 = _wd_back(last_wd, 6)
    a6 = workdays.previous_workday(c6)
    dest("2025000006", UNITS["gz"], "school_approved", _wd_back(a6, 2), _wd_back(a6, 1), a6)
    arch("2025000006", UNITS["gz"], "510623", _wd_back(a6, 2), _wd_back(a6, 1), a6)
    students["2025000006"].national_confirmed_on = c6
    m_day = workdays.next_workday(c6)
    a6rec = _archive_for(UNITS["gz"], "510623")
    s.add(
        M.MailingRequest(
            student_id="2025000006",
            active_key="2025000006",
            state="shipped",
            archive_snapshot={"student_name": "杨帆", "student_id": "2025000006", **a6rec},
            ems_no="1151234567890",
            created_at=_at(m_day, 10),
            shipped_at=_at(workdays.next_workday(m_day), 11),
        )
    )
    # 007: confirmed on the national platform today
    a7 = _wd_back(last_wd, 1)
    dest("2025000007", UNITS["xiaomi"], "school_approved", _wd_back(a7, 2), _wd_back(a7, 1), a7)
    arch("2025000007", UNITS["xiaomi"], "100085", _wd_back(a7, 2), _wd_back(a7, 1), a7)
    students["2025000007"].national_confirmed_on = today
    s.commit()
    return {"seeded": True, "today": today.isoformat()}


def demo_ids(s: Session) -> list[str]:
    return list(s.scalars(select(M.Student.id).where(M.Student.id.in_(DEMO_IDS)).order_by(M.Student.id)))
