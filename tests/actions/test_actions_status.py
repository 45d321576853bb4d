"""action_check_status against the real backend, for every seeded student."""

import pytest

from actions.status import ActionCheckStatus
from tests.actions.helpers import make_tracker, run_action, texts


def status_text(backend, sid):
    msgs, events = run_action(
        ActionCheckStatus(), make_tracker("我的进度", "check_status", token=backend.token(sid))
    )
    assert events == []
    return texts(msgs)


def test_nothing_filled(backend):
    out = status_text(backend, "2025000001")
    assert "毕业去向登记：还没有开始填写" in out and "户档信息登记：还没有开始填写" in out
    assert "暂不能申请" in out


def test_submitted_awaiting_college(backend):
    out = status_text(backend, "2025000002")
    assert "第3步/共5步" in out and "待学院审核" in out and "辅导员审核前你仍可以直接修改" in out


def test_rejected_reason_and_what_to_do(backend):
    out = status_text(backend, "2025000003")
    assert "组织机构代码与单位名称不一致" in out and "学校审核未通过" in out and "修改后再次提交" in out


def test_synced_not_confirmed(backend):
    out = status_text(backend, "2025000004")
    sync = backend.get("/api/me/status", "2025000004")["sync"]
    assert "同步到国家平台" in out and "还没有确认" in out
    y, m, d = sync["sync_date"].split("-")
    assert f"{int(y)}年{int(m)}月{int(d)}日" in out
    assert "需要先在国家平台" in out or "暂不能申请" in out


def test_confirmed_can_request_mailing(backend):
    out = status_text(backend, "2025000005")
    assert "现在可以申请档案邮寄" in out and "在国家平台确认毕业去向" in out


def test_shipped_with_ems(backend):
    out = status_text(backend, "2025000006")
    assert "已寄出" in out and "1151234567890" in out


def test_confirmed_today_gives_exact_date(backend):
    out = status_text(backend, "2025000007")
    frm = backend.get("/api/me/status", "2025000007")["mailing"]["eligible_from"]
    y, m, d = frm.split("-")
    assert f"{int(y)}年{int(m)}月{int(d)}日起可以申请" in out


@pytest.mark.parametrize(
    "sid,other", [("2025000005", "杨帆"), ("2025000006", "陈静"), ("2025000002", "王强")]
)
def test_only_own_data(backend, sid, other):
    assert other not in status_text(backend, sid)
