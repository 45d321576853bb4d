"""action_change_advice: which change form fits, and - for a signed-in student - what to do in their state."""

from __future__ import annotations

import re
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.backend import AuthFailed, BackendError, NotSignedIn, StudentApi
from contracts import spec_terms as S
from contracts import vocabulary as V

INTENT_KIND = {
    "change_unit": V.ChangeKind.unit_change,
    "change_unit_info": V.ChangeKind.destination_edit,
    "change_archive": V.ChangeKind.archive_edit,
    "change_personal": V.ChangeKind.personal_info,
}
NOT_REVIEWED_YET = re.compile(r"(还?没|未|没有)(被)?(辅导员|老师|学院)?(审|看|批|通过)")

# The wording is in bot/domain/change.yml (utter_change_*); the actions pick the response and fill its
# variables. Short add-on sentences chosen by the student's situation ({tail}, {prefix}) stay here.
TAIL_SIGN_IN = "登录后我可以按你的办理进度告诉你具体怎么做。"
TAIL_EXPIRED = "（你的登录已过期，重新登录后我可以按你的办理进度具体说明。）"
TAIL_UNAVAILABLE = "（暂时查不到你的办理进度，以上是通用做法。）"
FIELD_PREFIX = {"工作单位": "", "毕业去向类型": "毕业去向类型（就业形式）要改："}  # else "“<field>”要改："

Reply = tuple[str, dict[str, str]]  # (response name, its variables)


def field_from_tracker(tracker: Tracker) -> S.Term | None:
    """The platform field the latest message names (entity `spec_field` from bot.nlu.spec_router), if any."""
    for e in (tracker.latest_message or {}).get("entities") or []:
        if e.get("entity") == "spec_field" and e.get("value") in S.FIELD_BY_NAME:
            return S.FIELD_BY_NAME[e["value"]]
    return None


def kind_from_tracker(tracker: Tracker) -> str:
    intent = ((tracker.latest_message or {}).get("intent") or {}).get("name") or ""
    return INTENT_KIND.get(intent, V.ChangeKind.unit_change)


def _record(kind: str) -> str | None:
    target = V.CHANGE_TARGET[kind]
    return None if target == V.ChangeTarget.personal else str(target)


def personal_advice(status: dict) -> Reply:
    form = V.CHANGE_KINDS[V.ChangeKind.personal_info]
    pending = "".join(
        f"\n你已有一条“{form}”在审核中（{c.get('state_label') or c.get('state')}），请等审核结果。"
        for c in status.get("pending_changes") or []
        if c.get("kind") == V.ChangeKind.personal_info
    )
    approved = (status.get("destination") or {}).get("state") == V.RecordState.school_approved
    return ("utter_change_personal_info_approved" if approved else "utter_change_personal_info"), {
        "extra": pending
    }


def record_advice(kind: str, status: dict) -> Reply:
    form = V.CHANGE_KINDS[kind]
    record = _record(kind) or ""  # a record's change (personal_info has its own advice)
    rec_name = V.RECORD_NAMES[record]
    rec = status.get(record) or {}
    state = rec.get("state") or V.RecordState.not_started
    nat = status.get("national") or {}
    sync = status.get("sync") or {}
    names = {"form": form, "record": rec_name}

    for c in status.get("pending_changes") or []:
        if c.get("kind") == kind and c.get("state") in V.OPEN_CHANGE:
            return "utter_change_already_pending", {**names, "state": c.get("state_label") or "在审核中"}
    if state in (V.RecordState.not_started, V.RecordState.type_chosen, V.RecordState.filled):
        return "utter_change_not_submitted", {**names, "short": rec_name[:-2]}
    if state == V.RecordState.submitted:
        return "utter_change_not_reviewed", names
    if state in V.REJECTED:
        who = "学院" if state == V.RecordState.college_rejected else "学校"
        return "utter_change_rejected", {
            **names,
            "who": who,
            "reason": rec.get("rejection_reason") or "未注明",
        }
    # reviewed: only the change request remains
    if nat.get("confirmed") or nat.get("needs_reconfirm"):
        response = "utter_change_reviewed_confirmed"
    elif sync.get("synced"):
        response = "utter_change_reviewed_synced"
    else:
        response = "utter_change_reviewed"
    if kind == V.ChangeKind.archive_edit:
        response += "_archive"
    return response, names


def general_advice(kind: str, said: str, tail: str) -> Reply:
    """Not signed in, or no status: the general path for `kind`."""
    if kind == V.ChangeKind.personal_info:
        return "utter_change_personal_info", {"extra": tail}
    record = V.RECORD_NAMES[_record(kind) or ""]
    names = {"form": V.CHANGE_KINDS[kind], "record": record, "tail": tail}
    if NOT_REVIEWED_YET.search(said):  # "辅导员还没看，我还能自己改吗": that case first
        return f"utter_change_{kind}_unreviewed", names
    return f"utter_change_{kind}", names


async def advise(kind: str, dispatcher: CollectingDispatcher, tracker: Tracker) -> None:
    """The change path for `kind`; a field named in the message (spec table) decides the path instead."""
    field = field_from_tracker(tracker)
    prefix = ""
    if field is not None:
        if field.path == S.ROSTER:
            dispatcher.utter_message(response="utter_change_roster_field", field=field.name)
            return
        kind = field.path
        prefix = FIELD_PREFIX.get(field.name, f"“{field.name}”要改：")
    api = StudentApi(tracker)
    status: dict | None = None
    tail = TAIL_SIGN_IN
    if api.signed_in:
        try:
            status = await api.get("/api/me/status") or {}
        except AuthFailed:
            tail = TAIL_EXPIRED
        except NotSignedIn:
            pass
        except BackendError:
            tail = TAIL_UNAVAILABLE
    if status is None:
        response, values = general_advice(kind, (tracker.latest_message or {}).get("text") or "", tail)
    elif kind == V.ChangeKind.personal_info:
        response, values = personal_advice(status)
    else:
        response, values = record_advice(kind, status)
    dispatcher.utter_message(response=response, prefix=prefix, **values)


class ActionChangeAdvice(Action):
    def name(self) -> str:
        return "action_change_advice"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        await advise(kind_from_tracker(tracker), dispatcher, tracker)
        return []
