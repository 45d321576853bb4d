"""Archive-mailing request: check eligibility, show the archive details, submit only after confirmation."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.backend import ApiError, AuthFailed, BackendError, NotSignedIn, StudentApi, say, turn_key
from actions.status import cn_date
from contracts import vocabulary as V

PENDING = "mailing_pending"

# the archive details a student checks before the request: the type, then where it goes
ARCHIVE_LABELS = [(k, V.ARCHIVE_FIELDS[k]) for k in ("transfer_type", *V.ARCHIVE_ADDRESS_FIELDS)]
# The wording is in bot/domain/mailing.yml (utter_mailing_*). Filled in: {lead} (HINT_LEAD when the answer
# follows the general rule of utter_mailing_when, else nothing), {date}, {state}, {ems_no}, {note} (the
# backend's reason).
HINT_LEAD = "按你的办理进度："
NOTE = "\n说明：{}"

Reply = tuple[str, dict[str, str]]


def request_reply(req: dict, lead: str = "") -> Reply:
    values = {
        "lead": lead,
        "state": V.MAILING_STATE_LABELS.get(req.get("state") or "", req.get("state") or "已提交"),
    }
    if req.get("ems_no"):
        return "utter_mailing_requested_ems", {**values, "ems_no": req["ems_no"]}
    return "utter_mailing_requested", values


def ineligible_reply(elig: dict, lead: str = "") -> Reply:
    reason = elig.get("reason")
    msg = elig.get("reason_message") or ""
    frm = elig.get("eligible_from")
    note = NOTE.format(msg) if msg else ""
    if reason == V.MailingReason.too_early and frm:
        return "utter_mailing_too_early", {"lead": lead, "date": cn_date(frm)}
    if reason == V.MailingReason.not_confirmed:
        if frm:
            return "utter_mailing_not_confirmed_date", {"lead": lead, "date": cn_date(frm)}
        return "utter_mailing_not_confirmed", {"lead": lead}
    if reason == V.MailingReason.archive_not_approved:
        return "utter_mailing_archive_not_approved", {"lead": lead, "note": note}
    if reason == V.MailingReason.too_early:
        note = ""
    if frm:
        return "utter_mailing_not_yet_date", {"lead": lead, "date": cn_date(frm), "note": note}
    return "utter_mailing_not_yet", {"lead": lead, "note": note}


def archive_lines(archive: dict) -> str:
    return "\n".join(f"· {label}：{archive[key]}" for key, label in ARCHIVE_LABELS if archive.get(key))


def utter(dispatcher: CollectingDispatcher, reply: Reply) -> None:
    response, values = reply
    dispatcher.utter_message(response=response, **values)


class ActionMailingCheck(Action):
    def name(self) -> str:
        return "action_mailing_check"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        api = StudentApi(tracker)
        if not api.signed_in:  # "档案邮寄" from someone not signed in: the how-to, then the offer
            dispatcher.utter_message(response="utter_mailing_howto")
            return [SlotSet(PENDING, False)]
        try:
            data = await api.get("/api/me/mailing") or {}
        except BackendError as e:
            say(dispatcher, e)
            return [SlotSet(PENDING, False)]
        req = data.get("request")
        if req:
            utter(dispatcher, request_reply(req))
            return [SlotSet(PENDING, False)]
        elig = data.get("eligibility") or {}
        if not elig.get("eligible"):
            utter(dispatcher, ineligible_reply(elig))
            return [SlotSet(PENDING, False)]
        # the response carries the buttons 确认提交 (/affirm) and 先不提交 (/deny)
        dispatcher.utter_message(
            response="utter_mailing_confirm", lines=archive_lines(data.get("archive") or {})
        )
        return [SlotSet(PENDING, True)]


class ActionMailingSubmit(Action):
    def name(self) -> str:
        return "action_mailing_submit"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        api = StudentApi(tracker)
        try:
            status, body = await api.call(
                "POST", "/api/me/mailing", json={}, headers={"Idempotency-Key": turn_key(tracker, "mailing")}
            )
        except ApiError as e:
            if e.code == "not_eligible":
                utter(
                    dispatcher,
                    ineligible_reply(
                        e.body.get("eligibility")
                        or {
                            "reason": e.body.get("reason"),
                            "eligible_from": e.body.get("eligible_from"),
                            "reason_message": e.message,
                        }
                    ),
                )
            else:
                say(dispatcher, e)
            return [SlotSet(PENDING, False)]
        except BackendError as e:
            say(dispatcher, e)
            return [SlotSet(PENDING, False)]
        body = body or {}
        req = body.get("request") or body
        if body.get("already_submitted"):
            utter(dispatcher, request_reply(req))
        else:
            dispatcher.utter_message(response="utter_mailing_submitted")
        return [SlotSet(PENDING, False)]


class ActionMailingCancel(Action):
    def name(self) -> str:
        return "action_mailing_cancel"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        dispatcher.utter_message(response="utter_mailing_cancelled")
        return [SlotSet(PENDING, False)]


# --- "什么时候能申请档案邮寄": the general rule (utter_mailing_when) is answered to everyone by Rasa itself;
# this light follow-up adds the signed-in student's own date. It says NOTHING without a token, so an anonymous
# student gets exactly the FAQ answer, and that answer has already been sent when this action runs (action
# server down or slow: the student still has it).
HINT_TIMEOUT = 1.5  # seconds: an optional extra must not hold the FAQ answer for the full backend timeout


def date_hint_reply(data: dict) -> Reply:
    req = data.get("request")
    if req:
        return request_reply(req, HINT_LEAD)
    elig = data.get("eligibility") or {}
    if elig.get("eligible"):
        return "utter_mailing_hint_eligible", {}
    frm = elig.get("eligible_from")
    if elig.get("reason") == V.MailingReason.too_early and frm:
        return "utter_mailing_hint_date", {"date": cn_date(frm)}
    return ineligible_reply(elig, HINT_LEAD)


class ActionMailingDateHint(Action):
    def name(self) -> str:
        return "action_mailing_date_hint"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        api = StudentApi(tracker)
        if not api.signed_in:
            return []
        try:
            _, data = await api.call("GET", "/api/me/mailing", timeout=HINT_TIMEOUT)
        except (AuthFailed, NotSignedIn, ApiError):
            return []  # no verified student (expired token, staff token): the general answer is all they get
        except BackendError:
            dispatcher.utter_message(response="utter_mailing_hint_unavailable")
            return []
        utter(dispatcher, date_hint_reply(data or {}))
        return []
