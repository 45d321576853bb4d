"""action_check_status: where the signed-in student's records stand."""

from __future__ import annotations

import asyncio
import re
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.backend import BackendError, StudentApi, request, say, service_key
from contracts import vocabulary as V

SOURCE_LINE = "\n依据："  # the line the backend adds under a process answer (services/answers SOURCE_PREFIX)

# The answer is the response utter_status (bot/domain/status.yml): its wording is editable, {lines} (one line
# per step of the student's progress, built from their records below) and {name} are filled in.


def cn_date(d: str | None) -> str:
    """'2026-11-25' -> '2026年11月25日'; anything else unchanged."""
    if not d or not isinstance(d, str):
        return ""
    parts = d[:10].split("-")
    if len(parts) == 3 and all(p.isdigit() for p in parts):
        return f"{int(parts[0])}年{int(parts[1])}月{int(parts[2])}日"
    return d


def record_line(kind: str, rec: dict[str, Any]) -> str:
    name = V.RECORD_NAMES[kind]
    state = rec.get("state") or V.RecordState.not_started
    label = rec.get("state_label") or state
    step = rec.get("step")
    if state == V.RecordState.not_started:
        return (
            f"· {name}：还没有开始填写。请在学校平台“手续办理”→“{name}”里填写并提交，也可以让我在这里帮你填。"
        )
    pos = f"第{step}步/共5步，" if isinstance(step, int) and 1 <= step <= 5 else ""
    line = f"· {name}：{pos}{label}。"
    if state in V.REJECTED:
        who = "学院" if state == V.RecordState.college_rejected else "学校"
        reason = rec.get("rejection_reason") or "未注明"
        line += (
            f"\n  {who}审核未通过，原因：{reason}。请按原因在学校平台“{name}”里修改后再次提交，"
            f"再由院校两级审核。"
        )
    elif state in (V.RecordState.type_chosen, V.RecordState.filled):
        line += "\n  还没有提交，填完后记得点“提交”。"
    elif state == V.RecordState.submitted:
        line += "\n  辅导员审核前你仍可以直接修改后重新提交。"
    return line


def archive_destination(archive: dict | None) -> str:
    """Where the student's archive goes, from their 户档信息登记 (GET /api/me/archive): the line under the
    record's state ("我的档案会寄到哪"); empty when nothing is filled in."""
    a = archive or {}
    kind, unit, address = a.get("transfer_type"), a.get("unit_name"), a.get("address")
    if not (kind or unit):
        return ""
    line = f"\n  档案转寄类型：{kind}" if kind else "\n  "
    if unit:
        line += ("，" if kind else "") + f"档案寄往：{unit}"
        if address:
            line += f"（{address}" + (f"，邮编{a['postal_code']}" if a.get("postal_code") else "") + "）"
        if a.get("contact_name"):
            line += f"，接收联系人：{a['contact_name']}"
    return line + "。"


def sync_line(status: dict) -> str:
    sync = status.get("sync") or {}
    dest = (status.get("destination") or {}).get("state")
    arch = (status.get("archive") or {}).get("state")
    est = "（预计日期，以实际为准）" if sync.get("estimated") else ""
    if sync.get("synced"):
        return f"· 国家平台同步：已于{cn_date(sync.get('sync_date'))}同步到国家平台。"
    if sync.get("sync_date"):
        return f"· 国家平台同步：两级审核已通过，将于{cn_date(sync.get('sync_date'))}同步到国家平台{est}。"
    if dest == V.RecordState.school_approved and arch == V.RecordState.school_approved:
        return "· 国家平台同步：两级审核已通过，一个工作日后同步到国家平台。"
    return "· 国家平台同步：毕业去向登记和户档信息登记都通过院校两级审核后，一个工作日后同步到国家平台。"


def national_line(status: dict) -> str:
    nat = status.get("national") or {}
    sync = status.get("sync") or {}
    if nat.get("needs_reconfirm"):
        return "· 国家平台确认：你的变更已同步，需要到国家平台重新确认一次毕业去向。"
    if nat.get("confirmed"):
        return f"· 国家平台确认：已于{cn_date(nat.get('confirmed_on'))}在国家平台确认毕业去向。"
    if sync.get("synced"):
        return "· 国家平台确认：还没有确认，请登录国家平台确认毕业去向信息（信息有误请在学校平台修改）。"
    return "· 国家平台确认：同步完成后再到国家平台确认毕业去向。"


def mailing_line(status: dict) -> str:
    m = status.get("mailing") or {}
    req = m.get("request")
    if req:
        state = V.MAILING_STATE_LABELS.get(req.get("state") or "", req.get("state") or "")
        line = f"· 档案邮寄：已申请，{state}"
        if req.get("ems_no"):
            line += f"，EMS单号 {req['ems_no']}（可在中国邮政EMS官网查询物流）"
        return line + "。"
    if m.get("eligible"):
        return "· 档案邮寄：现在可以申请档案邮寄了，对我说“申请档案邮寄”即可。"
    frm = m.get("eligible_from")
    reason = m.get("reason_message") or "暂不能申请。"
    line = f"· 档案邮寄：暂不能申请。{reason}"
    if frm and m.get("reason") == V.MailingReason.too_early:
        line = f"· 档案邮寄：暂不能申请，{cn_date(frm)}起可以申请。"
        if reason and cn_date(frm) not in reason and frm not in reason:
            line += reason
    elif frm and cn_date(frm) not in line and frm not in line:
        line += f"最早{cn_date(frm)}起可以申请。"
    return line


def changes_lines(status: dict) -> list[str]:
    out = []
    for c in status.get("pending_changes") or []:
        name = V.CHANGE_KINDS.get(c.get("kind"), c.get("kind") or "变更申请")
        out.append(f"· {name}：{c.get('state_label') or c.get('state') or ''}")
    return out


ANSWER_TIMEOUT = 1.0  # seconds for the current wording of a routed FAQ answer; else the model's wording


async def current_answer(key: str, tracker: Tracker) -> str | None:
    """The text students get for the response `key` now (staff edits included: the backend's NLG endpoint,
    Rasa's protocol), without its source line; None when the backend cannot say."""
    # asked for a signed-in student (the routings are): the signed-in variation where an answer has one
    body = {
        "response": key,
        "tracker": {"sender_id": tracker.sender_id, "slots": {"signed_in": True}},
        "channel": {"name": tracker.get_latest_input_channel() or ""},
    }
    try:
        _, message = await request(
            "POST",
            "/api/nlg",
            json=body,
            timeout=ANSWER_TIMEOUT,
            headers={"x-actions-service-key": service_key()},
        )
    except BackendError:
        return None
    text = (message or {}).get("text") if isinstance(message, dict) else None
    return text.split(SOURCE_LINE, 1)[0] if isinstance(text, str) else None


async def routed_general_answer(tracker: Tracker) -> str:
    """The FAQ answer a signed-in question was routed away from (bot/nlu/spec_router.py), minus its sign-in
    hint.

    "被驳回了怎么改" from a signed-in student: the general answer first, then their own progress. The wording
    is the answer's current one (a staff edit shows here too), else the one the model's response selector
    carries."""
    msg = tracker.latest_message or {}
    routed = msg.get("routed_from")
    if not routed or not isinstance(routed, str):
        return ""
    text = await current_answer(f"utter_{routed}", tracker)
    if text is None:
        selector = msg.get("response_selector") or {}
        sel = selector.get("faq") or selector.get("default") or {}
        responses = (sel.get("response") or {}).get("responses") or []
        text = (responses[0].get("text") if responses and isinstance(responses[0], dict) else "") or ""
    sentences = [x for x in re.split(r"(?<=[。！？])", text) if x and "登录" not in x]
    return "".join(sentences).strip()


def status_lines(status: dict, archive: dict | None = None) -> str:
    """The progress lines of utter_status: the two records (the archive's with where it goes), sync, national
    confirmation, mailing, changes."""
    lines = [
        record_line(V.RecordKind.destination, status.get("destination") or {}),
        record_line(V.RecordKind.archive, status.get("archive") or {}) + archive_destination(archive),
        sync_line(status),
        national_line(status),
        mailing_line(status),
    ]
    lines += changes_lines(status)
    return "\n".join(lines)


def student_name(status: dict) -> str:
    return (status.get("student") or {}).get("name") or "同学"


# --- the job site's progress bar in the widget (issue 15 §3): a custom payload beside the unchanged text ----
PROGRESS_STEPS = ["毕业去向类型", "填写信息", "已提交", "学院审核", "学校审核"]


def progress_record(kind: str, rec: dict) -> dict:
    state = rec.get("state") or V.RecordState.not_started
    # steps done; the step it stands at (None when all are done); whether that step was a rejection
    done = V.STATE_STEPS.get(state, 0)
    current = None if state == V.RecordState.school_approved else done + 1
    rejected = state in V.REJECTED
    steps = []
    for n, label in enumerate(PROGRESS_STEPS, start=1):
        st = (
            "done"
            if n <= done
            else ("rejected" if rejected and n == current else "current" if n == current else "todo")
        )
        steps.append({"n": n, "label": label, "status": st})
    out = {
        "kind": kind,
        "title": V.RECORD_NAMES[kind],
        "state": state,
        "state_label": rec.get("state_label") or "",
        "current": current,
        "steps": steps,
    }
    if rejected:
        out["rejection"] = {
            "by": "学院" if state == V.RecordState.college_rejected else "学校",
            "reason": rec.get("rejection_reason") or "未注明",
        }
    return out


def progress_payload(status: dict) -> dict:
    """Custom payload for the widget (WeChat's renderer ignores it: no `text` key; the text says it all)."""
    m = status.get("mailing") or {}
    req = m.get("request") or {}
    if req:
        mailing = {
            "state": req.get("state"),
            "label": V.MAILING_STATE_LABELS.get(req.get("state") or "", req.get("state") or ""),
            "ems_no": req.get("ems_no"),
        }
    elif m.get("eligible"):
        mailing = {"state": "eligible", "label": "可以申请档案邮寄"}
    else:
        frm = m.get("eligible_from")
        mailing = {
            "state": "not_yet",
            "label": "暂不能申请" + (f"，{cn_date(frm)}起可以申请" if frm else ""),
            "eligible_from": frm,
        }
    return {
        "type": "progress",
        "records": [progress_record(k, status.get(k) or {}) for k in V.RECORD_NAMES],
        "mailing": mailing,
    }


class ActionCheckStatus(Action):
    def name(self) -> str:
        return "action_check_status"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        api = StudentApi(tracker)
        try:
            status, archive = await asyncio.gather(api.get("/api/me/status"), api.get("/api/me/archive"))
        except BackendError as e:
            say(dispatcher, e)
            return []
        general = await routed_general_answer(tracker)
        if general:
            # an FAQ answer's own current text (minus its sign-in hint): no wording of this action
            dispatcher.utter_message(text=general)
        dispatcher.utter_message(
            response="utter_status",
            name=student_name(status or {}),
            lines=status_lines(status or {}, archive),
        )
        dispatcher.utter_message(json_message=progress_payload(status or {}))
        return []
