"""Pure rules: check algorithms, address rules, the working-day calendar and its fallback."""

from __future__ import annotations

import datetime as dt
import json

import chinese_calendar
import pytest

from backend import workdays
from backend.core.config import Settings
from backend.validators import (
    check_credit_code,
    check_id_number,
    check_postal_code,
    check_precise_address,
    check_recipient,
    credit_code_check_char,
    id_check_digit,
    validate_archive,
)

D = dt.date


def test_credit_code():
    assert check_credit_code("91350100M000100Y43") == []
    assert check_credit_code("91110108551385082Q") == []
    assert credit_code_check_char("91350100M000100Y4") == "3"
    assert [e.code for e in check_credit_code("91350100M000100Y44")] == ["credit_code_checksum"]
    assert [e.code for e in check_credit_code("91350100M000100Y4")] == ["credit_code_length"]
    bad = check_credit_code("9135O100M000100Y43")
    assert bad[0].code == "credit_code_chars" and "O" in bad[0].message
    assert check_credit_code("91350100M000100Y44", allow_checksum_override=True) == []


def test_id_number():
    assert check_id_number("11010519491231002X") == []
    assert id_check_digit("11010519491231002") == "X"
    assert check_id_number("11010519491231002x") == []
    assert check_id_number("110105194912310021")[0].code == "id_number_checksum"
    assert check_id_number("110105194913310021")[0].code == "id_number_birth"
    assert check_id_number("1101051949")[0].code == "id_number_format"


@pytest.mark.parametrize(
    "code,address,ok",
    [
        ("100081", "北京市海淀区中关村南大街5号", True),
        ("010010", "内蒙古自治区呼和浩特市新城区新华大街1号", True),  # leading zero is valid
        ("200000", "北京市海淀区中关村南大街5号", False),
        ("510623", "广东省广州市天河区天河路385号", True),
        ("10008", "北京市海淀区中关村南大街5号", False),
        ("1000811", None, False),
    ],
)
def test_postal_code(code, address, ok):
    assert (check_postal_code(code, address) == []) is ok


def test_precise_address():
    assert check_precise_address("北京市海淀区中关村南大街5号", "a", "地址") == []
    assert check_precise_address("北京市海淀区", "a", "地址")[0].code == "address_not_precise"
    assert check_precise_address("海淀区中关村南大街5号", "a", "地址")[0].code == "address_province"


def test_recipient_not_student_or_family():
    st = {
        "name": "张三",
        "emergency_contact_name": "张建国",
        "mobile": "13100000000",
        "emergency_contact_phone": "13200000000",
    }
    assert check_recipient("李老师", "010-68912345", st, "n", "p") == []
    assert check_recipient("张三", "010-68912345", st, "n", "p")[0].code == "recipient_is_family"
    assert check_recipient("张建国", "010-68912345", st, "n", "p")[0].code == "recipient_is_family"
    assert check_recipient("母亲", "010-68912345", st, "n", "p")[0].code == "recipient_is_family"
    assert check_recipient("李老师", "13200000000", st, "n", "p")[0].code == "recipient_phone_is_family"


def test_archive_evidence_by_type():
    st = {"name": "张三", "origin_place": "北京市 东城区"}
    base = {
        "unit_name": "北京大学",
        "address": "北京市海淀区颐和园路5号",
        "postal_code": "100871",
        "contact_name": "李老师",
        "contact_phone": "010-62751234",
        "hukou_choice": "self_move",
        "hukou_transfer_type": "升学外单位接收",
    }
    errs = validate_archive({**base, "transfer_type": "升学外单位接收", "evidence": []}, st)
    assert [e.code for e in errs] == ["evidence_required"] and "录取通知书" in errs[0].message
    assert validate_archive({**base, "transfer_type": "升学外单位接收", "evidence": ["录取通知书"]}, st) == []
    assert (
        validate_archive(
            {"transfer_type": "暂不确定", "hukou_choice": "not_moved_in", "hukou_transfer_type": "暂不确定"},
            st,
        )
        == []
    )
    no_origin = validate_archive(
        {**base, "transfer_type": "转回生源地", "hukou_transfer_type": "转回生源地"}, {"name": "张三"}
    )
    assert [e.code for e in no_origin] == ["origin_place_missing"]


# --- working days ------------------------------------------------------------------------------------------
def test_covered_years_follow_chinesecalendar():
    day = D(2025, 1, 1)
    while day <= D(2026, 12, 30):
        assert workdays.is_workday(day) == chinese_calendar.is_workday(day), day
        assert workdays.next_workday(day) == chinese_calendar.find_workday(0, day + dt.timedelta(days=1)), day
        assert not workdays.is_estimated(day)
        day += dt.timedelta(days=1)


@pytest.mark.parametrize(
    "day,expected",
    [
        (D(2026, 9, 30), D(2026, 10, 8)),  # National Day
        (D(2026, 10, 9), D(2026, 10, 10)),  # Saturday make-up day
        (D(2026, 2, 13), D(2026, 2, 14)),  # Saturday make-up day before the Spring Festival
        (D(2026, 2, 14), D(2026, 2, 24)),  # Spring Festival 02-15..02-23
        (D(2026, 12, 31), D(2027, 1, 4)),  # into the fallback: 2027-01-01 (estimated holiday) and a weekend
        (D(2027, 2, 4), D(2027, 2, 15)),  # 2027 Spring Festival (estimated)
        (D(2027, 9, 30), D(2027, 10, 8)),  # 2027 National Day (estimated)
        (D(2027, 3, 5), D(2027, 3, 8)),  # plain weekend
    ],
)
def test_next_workday(day, expected):
    assert workdays.next_workday(day) == expected


def test_fallback_is_estimated_and_extendable(tmp_path, monkeypatch):
    assert workdays.is_estimated(D(2027, 6, 1))
    f = tmp_path / "holidays.json"
    f.write_text(
        json.dumps({"official_years": [2027], "holidays": ["2027-03-08"], "workdays": ["2027-03-06"]})
    )
    monkeypatch.setattr(workdays, "settings", Settings(holidays_file=str(f)))
    assert not workdays.is_estimated(D(2027, 6, 1))
    assert workdays.is_workday(D(2027, 3, 6))  # a Saturday made a working day
    assert workdays.next_workday(D(2027, 3, 5)) == D(2027, 3, 6)
    assert workdays.next_workday(D(2027, 3, 6)) == D(2027, 3, 9)
    # a missing file falls back to weekends only
    monkeypatch.setattr(workdays, "settings", Settings(holidays_file=str(tmp_path / "none.json")))
    assert workdays.next_workday(D(2027, 2, 4)) == D(2027, 2, 5)
