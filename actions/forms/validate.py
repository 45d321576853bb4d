"""Form validation actions: check every answer with the backend, allow corrections, pause and resume, submit
only after an explicit confirmation."""
from __future__ import annotations

import re
from abc import abstractmethod
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction

from actions.backend import ApiError, BackendError, StudentApi, say
from actions.forms.spec import ARCHIVE, DESTINATION, FORMS, PROFILE, Field, Form, display_from_api, payload
from actions.texts import REVIEWED

REQUESTED = "requested_slot"
TRIGGER = {"profile_form": "fill_profile", "destination_form": "fill_destination", "archive_form": "fill_archive"}
PASS_THROUGH_INTENTS = {"stop_form", "handoff", "check_status", "fill_profile", "fill_destination", "fill_archive"}
# ^ handled by rules: the form rejects the turn
CORRECTION_MARKERS = ("填错", "写错", "改一下", "改下", "修改", "改成", "改为", "换成", "更正", "错了", "不对", "重新填", "重填")
INLINE_VALUE = re.compile(r"(?:改成|改为|换成|应该是|应为|更正为|是)[:：]?\s*(.+)$")
CHANGE_PATH = {
    "destination_form": "学校平台“改签申请（单位变更）”（单位名称或去向类型变了）或“毕业去向修改（单位不变）”（单位其他信息）",
    "archive_form": "学校平台“户档信息修改”",
}


# how-to for someone not signed in who names a form ("个人信息完善"): the answer, then the offer
HOWTO = {
    "profile_form": "“个人信息完善”在学校平台“手续办理”里：只需填写带*的字段（政治面貌、生源所在地、困难生类别、手机、"
                    "邮箱、微信、辅导员/班主任、班级、紧急联系人姓名和手机号），填好点“提交”。",
    "destination_form": "“毕业去向登记”在学校平台“手续办理”里：选择毕业去向类型、填写签约（单位）信息后提交，"
                        "经学院、学校两级审核；辅导员审核前可以直接修改。",
    "archive_form": "“户档信息登记”在学校平台“手续办理”里：填写档案转寄类型、档案转寄单位和地址、邮政编码、联系人、"
                    "户口迁移地址和类型后提交，经院校两级审核；辅导员审核前可以直接修改。",
}


def latest_intent(tracker: Tracker) -> str:
    return ((tracker.latest_message or {}).get("intent") or {}).get("name") or ""


def latest_text(tracker: Tracker) -> str:
    return (tracker.latest_message or {}).get("text") or ""


def find_field(form: Form, text: str, values: Optional[dict] = None) -> Optional[Field]:
    """The field the student names ("手机号填错了"): longest keyword wins; required fields first."""
    best, best_len = None, 0
    for f in form.fields:
        if values is not None and not f.required(values):
            continue
        for kw in f.keywords + [f.label]:
            if kw and kw.lower() in text.lower() and len(kw) > best_len:
                best, best_len = f, len(kw)
    return best


LABEL_SEP = re.compile(r"^\s*(?:是|为|[:：]|填的?是|写的?是)\s*[:：]?\s*(?P<value>\S.*)$")


def labelled(form: Form, text: str, values: dict) -> Optional[tuple[Field, str]]:
    """A value the student labels ("统一社会信用代码是9111…", "单位邮箱：hr@x.com"): (field, value), else None.

    The label must open the message and be followed by 是/为/冒号, so a plain answer is never re-labelled."""
    t = re.sub(r"^(我的|我们的|单位的|公司的|我们单位的)", "", (text or "").strip())
    best, best_len = None, 0
    for f in form.fields:
        if not f.required(values):
            continue
        for kw in f.keywords + [f.label]:
            if kw and len(kw) >= 2 and t.lower().startswith(kw.lower()) and len(kw) > best_len:
                best, best_len = f, len(kw)
    if best is None:
        return None
    m = LABEL_SEP.match(t[best_len:])
    return (best, m.group("value").strip()) if m else None


def next_missing(form: Form, values: dict) -> Optional[str]:
    for f in form.fields:
        if f.required(values) and values.get(f.slot) is None:
            return f.slot
    return None


def summary(form: Form, values: dict) -> str:
    lines = [f"请核对你的“{form.title}”："]
    for f in form.fields:
        if f.required(values) and values.get(f.slot) is not None:
            lines.append(f"· {f.label}：{values[f.slot]}")
    lines.append("确认无误请回复“确认提交”；要改某一项直接说，例如“手机号填错了”；暂不提交请回复“先不提交”。")
    return "\n".join(lines)


class BaseFormValidation(FormValidationAction):
    """Shared logic; abstract (the action server registers only concrete subclasses)."""

    @property
    @abstractmethod
    def form(self) -> Form:
        """The form this action validates."""

    def name(self) -> Text:
        return f"validate_{self.form.name}"

    # --- helpers -------------------------------------------------------------------------------------
    def _values(self, tracker: Tracker) -> dict:
        return {s: tracker.get_slot(s) for s in self.form.slots}

    def _end(self, events: Optional[list] = None) -> List[EventType]:
        return (events or []) + [SlotSet(self.form.confirm_slot, None), SlotSet(REQUESTED, None)]

    def _ask(self, dispatcher: CollectingDispatcher, slot: str, values: dict) -> None:
        """Ask for `slot` (the forms have no utter_ask_* responses: every question is asked from here)."""
        if slot == self.form.confirm_slot:
            dispatcher.utter_message(text=summary(self.form, values), buttons=[
                {"title": "确认提交", "payload": "/affirm"}, {"title": "先不提交", "payload": "/deny"}])
            return
        f = self.form.field(slot)
        if f is None:
            return
        buttons = [{"title": b, "payload": b} for b in f.buttons]
        if buttons:
            dispatcher.utter_message(text=f.question, buttons=buttons)
        else:
            dispatcher.utter_message(text=f.question)

    def _next(self, values: dict, events: list, dispatcher: Optional[CollectingDispatcher] = None
              ) -> List[EventType]:
        nxt = next_missing(self.form, values) or self.form.confirm_slot
        if dispatcher is not None:
            self._ask(dispatcher, nxt, values)
        return events + [SlotSet(REQUESTED, nxt)]

    async def _check(self, api: StudentApi, values: dict) -> list[dict]:
        """Backend validation of everything filled so far; returns the field errors."""
        _, body = await api.call("POST", f"/api/validation/{self.form.kind}", json=payload(self.form, values))
        return list((body or {}).get("fields") or [])

    def _apply_errors(self, errors: list[dict], values: dict, dispatcher: CollectingDispatcher,
                      events: list) -> list:
        said = set()
        for err in errors:
            api_field = err.get("field") or ""
            f = self.form.by_api(api_field)
            if f is None and api_field == "unit":
                f = self.form.field("dest_type")
            if f is None or values.get(f.slot) is None:
                continue
            values[f.slot] = None
            events.append(SlotSet(f.slot, None))
            msg = err.get("message") or f"{f.label}填写有误。"
            if msg not in said:
                dispatcher.utter_message(text=f"{f.label}：{msg}")
                said.add(msg)
        return events

    def _returned_after_other_action(self, tracker: Tracker) -> bool:
        """Another action (e.g. 转人工) ran since the user's message and the form resumes.

        The tracker the form sends ends with the form's own `action` event, so latest_action_name is the form
        itself: look at every action after the latest user message instead."""
        ignore = {"action_listen", "action_extract_slots", self.form.name, self.name()}
        for event in reversed(tracker.events or []):
            if event.get("event") == "user":
                return False
            if event.get("event") == "action" and event.get("name") not in ignore:
                return True
        return False

    def _activating(self, tracker: Tracker) -> bool:
        """True while the form is being activated: Rasa logged ActiveLoop(form) after the latest user message.
        (requested_slot alone is not enough: slots, requested_slot included, carry over into a new session.)"""
        for event in reversed(tracker.events or []):
            if event.get("event") == "user":
                return False
            if event.get("event") == "active_loop" and event.get("name") == self.form.name:
                return True
        return False

    # --- the action ------------------------------------------------------------------------------------
    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[EventType]:
        requested = tracker.get_slot(REQUESTED)
        if requested is None or self._activating(tracker):
            return await self.on_activation(dispatcher, tracker)
        intent = latest_intent(tracker)
        if self._returned_after_other_action(tracker):
            # back in the form after another action (e.g. 转人工): repeat the open question
            self._ask(dispatcher, requested, self._values(tracker))
            return [SlotSet(REQUESTED, requested)]
        if intent == TRIGGER.get(self.form.name):
            # "继续填写…" while this form is already open: repeat the open question
            dispatcher.utter_message(text=f"我们正在填写“{self.form.title}”。")
            self._ask(dispatcher, requested, self._values(tracker))
            keep = requested if requested in self.form.slots else self.form.confirm_slot
            return [SlotSet(keep, None), SlotSet(REQUESTED, requested)]
        if intent in PASS_THROUGH_INTENTS:
            return []
        text = latest_text(tracker)
        candidates = {k: v for k, v in tracker.slots_to_validate().items()
                      if k in self.form.slots or k == self.form.confirm_slot}
        if (intent == "correct_field" and not candidates and requested in self.form.slots
                and find_field(self.form, text) is None and not any(m in text for m in CORRECTION_MARKERS)):
            # NLU took a plain answer (e.g. an e-mail address) for a correction: it answers the open question
            candidates = {requested: text}
        explicit = ("填错", "写错", "改一下", "改下", "重新填", "重填")
        if ((intent == "correct_field" and not candidates)
                or (not candidates and any(m in text for m in CORRECTION_MARKERS))
                or (any(m in text for m in explicit) and find_field(self.form, text) is not None)):
            return await self.on_correction(dispatcher, tracker, text, requested)
        if not candidates:
            return []
        relabel: list = []
        if set(candidates) == {requested} and requested in self.form.slots:
            lab = labelled(self.form, text, self._values(tracker))
            if lab is not None:
                # the value goes to the field it names; an open question it does not answer stays open
                candidates = {lab[0].slot: lab[1]}
                if lab[0].slot != requested:
                    relabel = [SlotSet(requested, None)]
        api = StudentApi(tracker)
        if not api.signed_in:
            dispatcher.utter_message(text="这需要先登录：请用统一身份认证登录后再继续，已填的内容我会保留。")
            return self._end()
        try:
            if self.form.confirm_slot in candidates:
                return await self.on_confirm(dispatcher, tracker, api, bool(candidates[self.form.confirm_slot]))
            if relabel:
                return relabel + await self.on_answers(dispatcher, tracker, api, candidates, clear=requested)
            return await self.on_answers(dispatcher, tracker, api, candidates)
        except BackendError as e:
            say(dispatcher, e)
            events = [SlotSet(k, tracker.get_slot(k) if k != self.form.confirm_slot else None)
                      for k in candidates if k in self.form.slots]
            dispatcher.utter_message(text="已填的内容我会保留，稍后说“继续填写" + self.form.title + "”即可接着填。")
            return self._end(events)

    async def on_activation(self, dispatcher, tracker) -> List[EventType]:
        api = StudentApi(tracker)
        if not api.signed_in:
            dispatcher.utter_message(text=HOWTO.get(self.form.name, "") + f"用统一身份认证登录后对我说“填写{self.form.title}”，"
                                          "我可以在这里帮你填（只能填你本人的）。")
            return self._end()
        try:
            record = await api.get(self.form.path) or {}
        except BackendError as e:
            say(dispatcher, e)
            return self._end()
        state = record.get("state")
        if self.form is ARCHIVE and state in (None, "not_started"):
            try:
                dest = await api.get(DESTINATION.path) or {}
            except BackendError as e:
                say(dispatcher, e)
                return self._end()
            if dest.get("state") in (None, "not_started"):
                dispatcher.utter_message(text="户档信息登记要在毕业去向登记之后填写：请先完成“毕业去向登记”"
                                              "（可以对我说“填写毕业去向登记”），再来填户档信息。")
                return self._end()
        if state in REVIEWED:
            dispatcher.utter_message(text=(
                f"你的“{self.form.title}”已经通过辅导员审核，不能再直接修改了。如需修改，请走{CHANGE_PATH.get(self.form.name, '学校平台对应的变更申请')}，"
                f"经院校两级审核。"))
            return self._end()
        values = self._values(tracker)
        resumed = any(v is not None for v in values.values())
        events: list = []
        for slot, val in display_from_api(self.form, record).items():
            if values.get(slot) is None:
                values[slot] = val
                events.append(SlotSet(slot, val))
        intro = f"好的，{'我们继续填写' if resumed else '我们来填写'}“{self.form.title}”。"
        if events:
            intro += "你在学校平台已有的信息我先带上了。"
        if state in ("college_rejected", "school_rejected") and record.get("rejection_reason"):
            intro += f"上次审核未通过，原因：{record['rejection_reason']}，请修改对应的项目后再提交。"
        intro += "随时可以说“先不填了”暂停（已填的会保留），或说“某某填错了”修改某一项。"
        dispatcher.utter_message(text=intro)
        events.append(SlotSet(self.form.confirm_slot, None))
        return self._next(values, events, dispatcher)

    async def on_correction(self, dispatcher, tracker, text: str, requested: str) -> List[EventType]:
        values = self._values(tracker)
        f = find_field(self.form, text, values) or find_field(self.form, text)
        if f is None:
            dispatcher.utter_message(text="想修改哪一项？请直接说，例如“手机号填错了”或“改一下邮箱”。")
            self._ask(dispatcher, requested, values)
            # re-ask the current question (a SlotSet keeps the form from being rejected)
            keep = requested if requested in self.form.slots else None
            return [SlotSet(keep or self.form.confirm_slot, None), SlotSet(REQUESTED, requested)]
        values[f.slot] = None
        events: list = [SlotSet(f.slot, None), SlotSet(self.form.confirm_slot, None)]
        m = INLINE_VALUE.search(text)
        inline = m.group(1).strip() if m else ""
        if inline and not any(k in inline for k in ("错", "不对")):
            api = StudentApi(tracker)
            try:
                values[f.slot] = f.conv(inline)[1]
                errors = await self._check(api, values) if api.signed_in else [{"field": f.api}]
                if any(self.form.by_api(e.get("field") or "") is f for e in errors):
                    values[f.slot] = None
                else:
                    events[0] = SlotSet(f.slot, values[f.slot])
                    dispatcher.utter_message(text=f"好的，{f.label}已改为：{values[f.slot]}。")
                    return self._next(values, events, dispatcher)
            except BackendError:
                values[f.slot] = None
        dispatcher.utter_message(text=f"好的，我们重新填写{f.label}。")
        self._ask(dispatcher, f.slot, values)
        return events + [SlotSet(REQUESTED, f.slot)]

    async def on_answers(self, dispatcher, tracker, api: StudentApi, candidates: dict,
                         clear: Optional[str] = None) -> List[EventType]:
        values = self._values(tracker)
        if clear:  # the open question's slot got another field's labelled value: it is still unanswered
            values[clear] = None
            f = self.form.field(next(iter(candidates)))
            if f is not None:
                dispatcher.utter_message(text=f"好的，{f.label}记下了。")
        events: list = []
        for slot, raw in candidates.items():
            f = self.form.field(slot)
            if f is None or raw is None:
                continue
            _, display = f.conv(str(raw))
            values[slot] = display
            events.append(SlotSet(slot, display))
        # a changed choice can make later answers irrelevant (e.g. 升学 needs no unit): they stay but are not sent
        errors = await self._check(api, values)
        events = self._apply_errors(errors, values, dispatcher, events)
        return self._next(values, events, dispatcher)

    async def on_confirm(self, dispatcher, tracker, api: StudentApi, confirmed: bool) -> List[EventType]:
        values = self._values(tracker)
        if not confirmed:
            dispatcher.utter_message(text=(f"好的，先不提交。已填写的内容我会保留，想提交时说“继续填写{self.form.title}”；"
                                           f"要改某一项可以说“某某填错了”。"))
            return self._end()
        missing = next_missing(self.form, values)
        if missing:
            return self._next(values, [SlotSet(self.form.confirm_slot, None)], dispatcher)
        body = payload(self.form, values)
        events: list = []
        try:
            await api.call("PUT", self.form.path, json=body)
            if self.form.submit_path:
                await api.call("POST", self.form.submit_path, json={})
        except ApiError as e:
            right = e.body.get("right_path")
            if e.status == 409 and right == "personal_info":
                # already reviewed: the same answers go in as a 个人信息完善 change request (two-level review)
                return await self._change_request(dispatcher, api, right, body)
            if e.status == 422 and e.fields:
                dispatcher.utter_message(text="提交前的检查没有通过，需要改一下：")
                events = self._apply_errors(e.fields, values, dispatcher, [SlotSet(self.form.confirm_slot, None)])
                if next_missing(self.form, values):
                    return self._next(values, events, dispatcher)
            dispatcher.utter_message(text=f"没能提交：{e.message}")
            return self._end(events)
        if self.form.submit_path:
            dispatcher.utter_message(text=(f"已提交“{self.form.title}”，接下来由学院辅导员审核，再由学校审核。"
                                           f"辅导员审核前你还可以修改后重新提交；想查进度可以问我“我的审核进度”。"))
        else:
            dispatcher.utter_message(text=f"“{self.form.title}”已保存提交。以后政治面貌、手机号等有变化，说“填写个人信息”就能更新。")
        return self._end()

    async def _change_request(self, dispatcher, api: StudentApi, kind: str, changes: dict) -> List[EventType]:
        try:
            await api.call("POST", "/api/me/change-requests", json={"kind": kind, "changes": changes})
        except ApiError as e:
            dispatcher.utter_message(text=f"没能提交变更申请：{e.message}")
            return self._end()
        dispatcher.utter_message(text=(f"你的毕业去向已审核通过，所以这次修改作为“{self.form.title}”变更申请提交了，"
                                       f"经学院、学校两级审核通过后生效；可以随时问我“我的审核进度”。"))
        return self._end()

    async def required_slots(self, domain_slots, dispatcher, tracker, domain) -> List[Text]:
        values = self._values(tracker)
        return [f.slot for f in self.form.fields if f.required(values)] + [self.form.confirm_slot]


class ValidateProfileForm(BaseFormValidation):
    form = PROFILE


class ValidateDestinationForm(BaseFormValidation):
    form = DESTINATION


class ValidateArchiveForm(BaseFormValidation):
    form = ARCHIVE


class ActionFormFinished(Action):
    """Runs after any of the three forms ends; the messages were already sent by the validation action."""

    def name(self) -> Text:
        return "action_form_finished"

    async def run(self, dispatcher, tracker, domain) -> List[Dict[Text, Any]]:
        return []


class ActionFormPaused(Action):
    def name(self) -> Text:
        return "action_form_paused"

    async def run(self, dispatcher, tracker, domain) -> List[Dict[Text, Any]]:
        if tracker.get_slot("mailing_pending"):
            # "先不提交" while the mailing details are on screen: that is a cancel of the mailing request
            from actions.mailing import ActionMailingCancel
            return await ActionMailingCancel().run(dispatcher, tracker, domain)
        what = "先不提交" if "提交" in latest_text(tracker) else "先不填了"  # echo the student's own words
        dispatcher.utter_message(text=f"好的，{what}。已经填写的内容我会保留，想继续时说“继续填写”加表名即可，"
                                      "例如“继续填写毕业去向登记”。")
        return []


class ActionCorrectField(Action):
    """'手机号填错了' outside a form: reopen the chat form that holds that answer, else give change advice."""

    def name(self) -> Text:
        return "action_correct_field"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        text = latest_text(tracker)
        for form in FORMS.values():
            values = {s: tracker.get_slot(s) for s in form.slots}
            f = find_field(form, text, values)
            if f is not None and values.get(f.slot) is not None:
                return [SlotSet(f.slot, None), SlotSet(form.confirm_slot, None), FollowupAction(form.name)]
        from actions.change_advice import advise  # local import: avoid a cycle at module load
        best = None  # (keyword length, form, field) over all three forms: "单位详细地址" beats "地址"
        for form in FORMS.values():
            f = find_field(form, text)
            if f is not None:
                n = max(len(k) for k in f.keywords + [f.label] if k and k.lower() in text.lower())
                if best is None or n > best[0]:
                    best = (n, form, f)
        kind = "personal_info"
        if best and best[1] is ARCHIVE:
            kind = "archive_edit"
        elif best and best[1] is DESTINATION:
            kind = "unit_change" if best[2].slot in ("dest_type", "dest_unit_name") else "destination_edit"
        await advise(kind, dispatcher, tracker)
        return []
