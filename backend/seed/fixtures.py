"""The fixed demo data: colleges with their contacts, staff accounts, the demo units; id and credit-code
makers."""

from __future__ import annotations

import datetime as dt

from backend import workdays
from backend.core import clock
from backend.validators import credit_code_check_char, id_check_digit

COLLEGES = [
    (
        "physics",
        "物理学院",
        "王老师",
        "010-68912001",
        "physics-job@bit.edu.cn",
        "工作日 9:00-11:30，14:00-17:00",
        "理学楼A301",
    ),
    (
        "computer",
        "计算机学院",
        "陈老师",
        "010-68912002",
        "cs-job@bit.edu.cn",
        "工作日 8:30-11:30，14:00-17:30",
        "中心教学楼801",
    ),
    (
        "automation",
        "自动化学院",
        "刘老师",
        "010-68912003",
        "auto-job@bit.edu.cn",
        "周一至周四 9:00-16:30",
        "6号教学楼305",
    ),
    (
        "management",
        "管理与经济学院",
        "赵老师",
        "010-68912004",
        "sme-job@bit.edu.cn",
        "工作日 9:00-11:30，13:30-16:30",
        "主楼南楼210",
    ),
]
STAFF = [(f"counselor-{c[0]}", f"{c[1]}辅导员{c[2]}", "counselor", c[0]) for c in COLLEGES] + [
    ("school-admin", "学校就业指导中心孙老师", "school", None)
]

DEMO_IDS = [f"202500000{i}" for i in range(1, 8)]


def make_id_number(region: str, birth: dt.date, seq: str) -> str:
    first17 = f"{region}{birth:%Y%m%d}{seq}"
    return first17 + id_check_digit(first17)


def make_credit_code(first17: str) -> str:
    return first17 + credit_code_check_char(first17)


XIAOMI = {
    "name": "小米科技有限责任公司",
    "location": "北京市海淀区",
    "address": "北京市海淀区西二旗中路33号小米科技园",
    "credit_code": "91110108551385082Q",
    "industry": "信息传输、软件和信息技术服务业",
    "nature": "其他企业(含民营企业等)",
    "job_category": "工程技术人员",
    "contact_name": "周敏",
    "contact_phone": "010-60606666",
    "contact_email": "campus@xiaomi.com",
    "affiliation": "非营利系统单位",
}


def _unit(name: str, first17: str, location: str, address: str, contact: str, phone: str) -> dict:
    return {
        "name": name,
        "location": location,
        "address": address,
        "credit_code": make_credit_code(first17),
        "industry": "制造业",
        "nature": "国有企业",
        "job_category": "工程技术人员",
        "contact_name": contact,
        "contact_phone": phone,
        "contact_email": "hr@example.com.cn",
        "affiliation": "中央单位",
    }


UNITS = {
    "xiaomi": XIAOMI,
    "avic": _unit(
        "中国航空工业集团有限公司北京分公司",
        "91110000MA01ABCD1",
        "北京市朝阳区",
        "北京市朝阳区京顺路5号",
        "钱芳",
        "010-58356000",
    ),
    "sh": _unit(
        "上海微电子装备（集团）股份有限公司",
        "91310115MA1H7XY2L",
        "上海市浦东新区",
        "上海市浦东新区张东路1525号",
        "孙杰",
        "021-38880000",
    ),
    "gz": _unit(
        "广州汽车集团股份有限公司",
        "91440101MA59QWER6",
        "广东省广州市",
        "广东省广州市天河区珠江新城兴国路23号",
        "吴婷",
        "020-83151089",
    ),
}


def _archive_for(unit: dict, postal: str) -> dict:
    return {
        "transfer_type": "签约单位接收",
        "evidence": ["就业单位调档函"],
        "unit_name": unit["name"],
        "address": unit["address"],
        "postal_code": postal,
        "contact_name": unit["contact_name"],
        "contact_phone": unit["contact_phone"],
        "hukou_choice": "not_moved_in",
        "hukou_transfer_type": "签约单位接收",
    }


def _at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=clock.TZ)


def _wd_back(day: dt.date, n: int) -> dt.date:
    for _ in range(n):
        day = workdays.previous_workday(day)
    return day
