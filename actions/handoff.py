"""action_handoff (转人工/找老师): a person in the chat (issue 15 §2, design in docs/handoff.md).

The backend opens a handoff session for this conversation (POST /api/integration/handoff with this server's
service key and, for a signed-in student, the action token of the latest message: identity only from the
token):
- office hours: the conversation joins the queue of the student's college counselors (the career center's when
  not signed in) with the chat so far; while queued the channel stores the student's messages for the
  counselor and the bot keeps answering them; once a counselor takes it the bot is silent until it is closed;
- outside office hours: a signed-in student (or a WeChat user) leaves a message (the next one, within
  HANDOFF_DRAFT_MINUTES) that becomes a ticket; an anonymous web visitor is told the hours.
Every answer ends with a way to reach a person now: the student's college contact (signed in) or the career
center's (anonymous), whatever the hours.
The widget learns of the session from a custom payload `{"handoff": {...}}` (an anonymous conversation gets
its secret there to read the counselor's replies); the channels see it too (bot/channels/handoff.py: the
conversation is held from the next message on); WeChat shows no payload without text.
When the backend cannot be reached: the contact details as before (a phone number is better than nothing).
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.backend import AuthFailed, BackendError, StudentApi, get_token, request, service_key

TRANSCRIPT_LINES = 20
TRANSCRIPT_CHARS = 500


def contact_text(c: dict) -> str:
    """The contact's details, one "· label：value" line each (the fixed wording around them is a response)."""
    parts = []
    name = c.get("name") or c.get("office") or ""
    college = c.get("college") or c.get("college_name") or ""
    who = "".join(x for x in (college, name) if x)
    if who:
        parts.append(f"· 联系人：{who}")
    for key, label in (
        ("phone", "电话"),
        ("email", "邮箱"),
        ("office_hours", "办公时间"),
        ("hours", "办公时间"),
        ("office_location", "地点"),
        ("location", "地点"),
        ("website", "网站"),
    ):
        if c.get(key):
            parts.append(f"· {label}：{c[key]}")
    return "\n".join(parts)


def pick_contact(body: Any) -> dict | None:
    if not isinstance(body, dict):
        return None
    for key in ("contact", "general"):
        if isinstance(body.get(key), dict):
            return body[key]
    return body if any(k in body for k in ("phone", "email", "name")) else None


def transcript(tracker: Tracker) -> list[dict[str, str]]:
    """The chat so far (user and bot texts of this conversation, the last TRANSCRIPT_LINES) for the
    counselor."""
    lines: list[dict[str, str]] = []
    for e in tracker.events or []:
        kind, text = e.get("event"), e.get("text")
        if kind in ("user", "bot") and isinstance(text, str) and text.strip():
            lines.append(
                {"who": "student" if kind == "user" else "bot", "text": text.strip()[:TRANSCRIPT_CHARS]}
            )
    return lines[-TRANSCRIPT_LINES:]


def channel_of(tracker: Tracker) -> str:
    meta = (tracker.latest_message or {}).get("metadata") or {}
    if meta.get("channel") == "wechat" or tracker.sender_id.startswith("wechat:"):
        return "wechat"
    return "web"


def client_of(tracker: Tracker) -> str | None:
    """The web visitor's pseudonymous address the chat channel put into the metadata (the backend's
    limits)."""
    client = ((tracker.latest_message or {}).get("metadata") or {}).get("client")
    return client[:64] if isinstance(client, str) and client else None


class ActionHandoff(Action):
    def name(self) -> str:
        return "action_handoff"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        token = get_token(tracker)
        channel = channel_of(tracker)
        try:
            _, out = await request(
                "POST",
                "/api/integration/handoff",
                token=token,
                headers={"x-actions-service-key": service_key()},
                json={
                    "conversation": tracker.sender_id,
                    "channel": channel,
                    "transcript": transcript(tracker),
                    "client": client_of(tracker),
                },
            )
        except AuthFailed:
            dispatcher.utter_message(response="utter_handoff_sign_in_again")
            return []
        except BackendError:
            await self.contacts(dispatcher, tracker)
            return []
        out = out if isinstance(out, dict) else {}
        state = out.get("state")
        who = "你所在学院的辅导员" if token else "学校就业指导中心的老师"
        hours = out.get("hours") or ""
        minutes = out.get("draft_minutes") or 10
        if out.get("already") and state == "waiting":
            dispatcher.utter_message(response="utter_handoff_already")
        elif out.get("already") and state == "active":
            dispatcher.utter_message(response="utter_handoff_already_active")
        elif state == "waiting":
            dispatcher.utter_message(response="utter_handoff_queued", who=who)
        elif state == "ticket_draft":
            dispatcher.utter_message(response="utter_handoff_ticket", hours=hours, minutes=minutes)
        elif state == "closed_hours":
            dispatcher.utter_message(response="utter_handoff_closed_hours", hours=hours)
            await self.contacts(dispatcher, tracker, general_only=True)
            return []
        else:
            await self.contacts(dispatcher, tracker)
            return []
        # a way to reach a person now, whatever the queue does (in and out of office hours)
        await self.contacts(dispatcher, tracker)
        payload = {"state": state, "session_id": out.get("session_id")}
        if out.get("secret"):
            payload["secret"] = out["secret"]
        # the widget starts polling the counselor's replies; both channels note that a person holds the chat
        # (WeChat shows no payload without text)
        dispatcher.utter_message(json_message={"handoff": payload})
        return []

    async def contacts(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, general_only: bool = False
    ) -> None:
        """The contact details (the backend's queue is unreachable, or no person is on duty)."""
        api = StudentApi(tracker)
        expired = False
        if api.signed_in and not general_only:
            try:
                contact = pick_contact(await api.get("/api/me/contact"))
                if contact:
                    dispatcher.utter_message(
                        response="utter_handoff_college_contact", details=contact_text(contact)
                    )
                    return
            except AuthFailed:
                expired = True
            except BackendError:
                dispatcher.utter_message(response="utter_handoff_no_contact")
                return
        try:
            _, body = await request("GET", "/api/contacts")
            general = pick_contact(body)
        except BackendError:
            general = None
        if not general:
            dispatcher.utter_message(response="utter_handoff_no_contact")
            return
        dispatcher.utter_message(response="utter_handoff_center_contact", details=contact_text(general))
        if expired:
            dispatcher.utter_message(response="utter_handoff_contact_sign_in")
