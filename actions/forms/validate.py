"""Form validation actions: check every answer with the backend, allow corrections, pause and resume, submit
only after an explicit confirmation."""

from __future__ import annotations

import re
from abc import abstractmethod
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction

from actions.backend import ApiError, BackendError, StudentApi, say
from actions.forms import spec as S
from actions.forms.spec import ARCHIVE, DESTINATION, FORMS, PROFILE, Field, Form, display_from_api, payload
from contracts import vocabulary as V
from contracts.forms import INTERRUPTING

REQUESTED = "requested_slot"
REOPEN = (
    "reopen_form"  # action_correct_field: the form the rules reopen (None: advice given, nothing reopened)
)
TRIGGER = {
    "profile_form": "fill_profile",
    "destination_form": "fill_destination",
    "archive_form": "fill_archive",
}
# handled by rules: the form rejects the turn (correct_field is handled below)
PASS_THROUGH_INTENTS = frozenset(INTERRUPTING) - {"correct_field"}
CORRECTION_MARKERS = (
    "填错",
    "写错",
    "改一下",
    "改下",
    "修改",
    "改成",
    "改为",
    "换成",
    "更正",
    "错了",
    "不对",
    "重新填",
    "重填",
)
INLINE_VALUE = re.compile(r"(?:改成|改为|换成|应该是|应为|更正为|是)[:：]?\s*(.+)$")
# The wording is in bot/domain/form_texts.yml (utter_form_*, hand-written) and bot/domain/forms.yml (the
# questions utter_form_ask_<slot>, generated from actions/forms/spec.py). Variables: {title} the form's name,
# {label} a field, {value} an answer, {message} the backend's explanation, {lines} the answers one per line.
PREFILLED = "你在学校平台已有的信息我先带上了。"
REJECTION = "上次审核未通过，原因：{}，请修改对应的项目后再提交。"
NO_REASON = (
    "这个请求没有成功，请稍后再试。"  # a refusal without the backend's message (never seen in practice)
)


def ask_response(slot: str) -> str:
    """The response asking for `slot` (not utter_ask_<slot>: Rasa's form would ask that itself, a second
    time)."""
    return f"utter_form_ask_{slot}"


def latest_intent(tracker: Tracker) -> str:
    return ((tracker.latest_message or {}).get("intent") or {}).get("name") or ""


def latest_text(tracker: Tracker) -> str:
    return (tracker.latest_message or {}).get("text") or ""


def find_field(form: Form, text: str, values: dict | None = None) -> Field | None:
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


def labelled(form: Form, text: str, values: dict) -> tuple[Field, str] | None:
    """A value the student labels ("统一社会信用代码是9111…", "单位邮箱：hr@x.com"): (field, value), else
    None.

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


# --- a question typed while the form waits for an answer ("这个代码是营业执照上的哪一串",
# "等一下，我先问个问题") ----
QUESTION_CUE = re.compile(
    r"[？?]|吗|呢|什么|啥|怎么|咋|为什么|为何|哪|谁|如何|是不是|能不能|可不可以|可以不|要不要|多少|几位"
    r"|等一下|等等|稍等|等会|先问|问个|问一下|请问|想问|不知道|不清楚|不懂|不会填"
)
# a request to wait or to ask first, with nothing asked yet: what is left of "等一下，我先问个问题" without
# these
WAIT_CUE = re.compile(
    r"等一下|等一等|等等|稍等一下|稍等|等会儿?|先别填|我?先问(?:个|一个|一下)?(?:问题)?|问(?:个|一个)问题"
    r"|我?想问(?:一下|个问题)?|请问|问一下|我有(?:个|一个)?问题|[我先啊呀吧哈嗯哦呢，,。.！!？?~～\s]"
)
FAQ_ANSWER_MIN = (
    0.5  # the classifier's first FAQ answer is given from this confidence; below, the field's help
)
CHOICE_CONVS = {
    S.conv_political: S.POLITICAL,
    S.conv_hardship: S.HARDSHIP,
    S.conv_nature: S.NATURES,
    S.conv_industry: S.INDUSTRIES,
    S.conv_job: S.JOBS,
    S.conv_archive_type: list(S.ARCHIVE_TYPES),
    S.conv_hukou_transfer: list(S.ARCHIVE_TYPES),
    S.conv_dest_type: list(S.DEST_TYPES),
    S.conv_hukou_choice: list(S.HUKOU),
}


def value_shape(f: Field, text: str) -> bool | None:
    """Whether `text` has the shape of an answer to `f` (the validator's: a mobile number, an e-mail, an
    18-character code, one of the platform's choices): True/False; None for free text (names, addresses)."""
    if f.optional and f.conv(text)[0] is None:  # "无"
        return True
    value, _ = f.conv(text)
    if f.conv in CHOICE_CONVS:
        return value in CHOICE_CONVS[f.conv]
    if f.conv is S.conv_mobile:
        return bool(re.fullmatch(r"1[3-9]\d{9}|0\d{2,3}-?\d{7,8}(?:-\d{1,6})?|\d{7,12}", str(value)))
    if f.conv in (S.conv_email, S.conv_optional_email):
        return "@" in str(value)
    if f.conv is S.conv_credit:
        return bool(re.fullmatch(r"[0-9A-Z]{18}", str(value)))
    if f.conv is S.conv_evidence:
        known = {e for v in S.ARCHIVE_TYPES.values() for e in v.get("evidence", [])}
        known |= {"调档函", "录用材料", "录取通知书"}
        return bool(value) and all(v in known for v in value)
    if f.api == "postal_code":
        return bool(re.fullmatch(r"\d{6}", str(value)))
    return None


STRONG_QUESTION = re.compile(
    r"[？?]|吗|呢|什么|怎么|为什么|为啥|哪|谁|如何|区别|是不是|能不能|可不可以|要不要|算不算"
)
# a free-text answer that names an organisation or a place ends like one ("北京什么值得买科技有限公司")
VALUE_END = re.compile(
    r"(?<!哪个)(?<!哪家)(?<!什么)(?<![哪啥])"
    r"(?:有限公司|公司|集团|大学|学院|研究院|研究所|医院|中心|银行|委员会|\d+号|\d+室)$"
)


def is_question(f: Field, text: str) -> bool:
    """A question (or a request to ask one) rather than an answer: it asks (question words, "等一下…") and
    does not have the shape of an answer to the field. A free-text answer (a name, an address) has no question
    words."""
    text = text or ""
    if not QUESTION_CUE.search(text):
        return False
    shape = value_shape(f, text)
    if shape is None:
        return not VALUE_END.search(text.strip().rstrip("。."))
    if (f.conv in CHOICE_CONVS or f.conv is S.conv_evidence) and shape and STRONG_QUESTION.search(text):
        # a choice named inside a question ("预备党员算党员吗", "签约单位接收和托管单位接收有什么区别"): a
        # question unless the text is the choice itself
        return S._clean(text) != f.conv(text)[1]
    return not shape


def only_waits(text: str) -> bool:
    """ "等一下，我先问个问题": asks to ask, asks nothing yet."""
    return len(WAIT_CUE.sub("", text or "")) == 0


def field_hint(f: Field) -> str:
    """What the field's question says about the answer: its note in brackets, else what follows the
    question."""
    m = re.search(r"[（(](.+?)[）)]", f.question)
    hint = m.group(1) if m else f.question.split("？", 1)[1] if "？" in f.question else ""
    hint = hint.strip()
    return hint + ("" if not hint or hint[-1] in "。！？" else "。")


def next_missing(form: Form, values: dict) -> str | None:
    for f in form.fields:
        if f.required(values) and values.get(f.slot) is None:
            return f.slot
    return None


def summary_lines(form: Form, values: dict) -> str:
    return "\n".join(
        f"· {f.label}：{values[f.slot]}"
        for f in form.fields
        if f.required(values) and values.get(f.slot) is not None
    )


class BaseFormValidation(FormValidationAction):
    """Shared logic; abstract (the action server registers only concrete subclasses)."""

    @property
    @abstractmethod
    def form(self) -> Form:
        """The form this action validates."""

    def name(self) -> str:
        return f"validate_{self.form.name}"

    # --- helpers -------------------------------------------------------------------------------------
    def _values(self, tracker: Tracker) -> dict:
        return {s: tracker.get_slot(s) for s in self.form.slots}

    def _end(self, events: list | None = None) -> list[EventType]:
        return (events or []) + [SlotSet(self.form.confirm_slot, None), SlotSet(REQUESTED, None)]

    def _ask(self, dispatcher: CollectingDispatcher, slot: str, values: dict) -> None:
        """Ask for `slot` (the forms have no utter_ask_* responses: every question is asked from here)."""
        if slot == self.form.confirm_slot:  # the response has the buttons 确认提交 / 先不提交
            dispatcher.utter_message(
                response="utter_form_summary", title=self.form.title, lines=summary_lines(self.form, values)
            )
            return
        if self.form.field(slot) is not None:  # the question and its choice buttons are in the response
            dispatcher.utter_message(response=ask_response(slot))

    def _next(
        self, values: dict, events: list, dispatcher: CollectingDispatcher | None = None
    ) -> list[EventType]:
        nxt = next_missing(self.form, values) or self.form.confirm_slot
        if dispatcher is not None:
            self._ask(dispatcher, nxt, values)
        return events + [SlotSet(REQUESTED, nxt)]

    async def _check(self, api: StudentApi, values: dict) -> list[dict]:
        """Backend validation of everything filled so far; returns the field errors."""
        _, body = await api.call("POST", f"/api/validation/{self.form.kind}", json=payload(self.form, values))
        return list((body or {}).get("fields") or [])

    def _apply_errors(
        self, errors: list[dict], values: dict, dispatcher: CollectingDispatcher, events: list
    ) -> list:
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
            msg = err.get("message")
            if (msg or f.label) not in said:
                if msg:  # the backend's explanation of what is wrong
                    dispatcher.utter_message(response="utter_form_field_error", label=f.label, message=msg)
                else:
                    dispatcher.utter_message(response="utter_form_field_invalid", label=f.label)
                said.add(msg or f.label)
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
        (requested_slot alone is not enough: slots, requested_slot included, carry over into a new
        session.)"""
        for event in reversed(tracker.events or []):
            if event.get("event") == "user":
                return False
            if event.get("event") == "active_loop" and event.get("name") == self.form.name:
                return True
        return False

    # --- the action ------------------------------------------------------------------------------------
    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
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
            dispatcher.utter_message(response="utter_form_already_open", title=self.form.title)
            self._ask(dispatcher, requested, self._values(tracker))
            keep = requested if requested in self.form.slots else self.form.confirm_slot
            return [SlotSet(keep, None), SlotSet(REQUESTED, requested)]
        if intent in PASS_THROUGH_INTENTS:
            return []
        text = latest_text(tracker)
        candidates = {
            k: v
            for k, v in tracker.slots_to_validate().items()
            if k in self.form.slots or k == self.form.confirm_slot
        }
        if (
            intent == "correct_field"
            and not candidates
            and requested in self.form.slots
            and find_field(self.form, text) is None
            and not any(m in text for m in CORRECTION_MARKERS)
        ):
            # NLU took a plain answer (e.g. an e-mail address) for a correction: it answers the open question
            candidates = {requested: text}
        explicit = ("填错", "写错", "改一下", "改下", "重新填", "重填")
        if (
            (intent == "correct_field" and not candidates)
            or (not candidates and any(m in text for m in CORRECTION_MARKERS))
            or (any(m in text for m in explicit) and find_field(self.form, text) is not None)
        ):
            return await self.on_correction(dispatcher, tracker, text, requested)
        if not candidates:
            return []
        relabel: list = []
        if set(candidates) == {requested} and requested in self.form.slots:
            lab = labelled(self.form, text, self._values(tracker))
            f = self.form.field(requested)
            if lab is not None and is_question(
                lab[0], lab[1]
            ):  # "调档函是什么": a question, not a labelled value
                lab = None
            if lab is None and f is not None and is_question(f, text):
                return self.on_question(dispatcher, tracker, f, text)
            if lab is not None:
                # the value goes to the field it names; an open question it does not answer stays open
                candidates = {lab[0].slot: lab[1]}
                if lab[0].slot != requested:
                    relabel = [SlotSet(requested, None)]
        api = StudentApi(tracker)
        if not api.signed_in:
            dispatcher.utter_message(response="utter_form_sign_in")
            return self._end()
        try:
            if self.form.confirm_slot in candidates:
                return await self.on_confirm(
                    dispatcher, tracker, api, bool(candidates[self.form.confirm_slot])
                )
            if relabel:
                return relabel + await self.on_answers(dispatcher, tracker, api, candidates, clear=requested)
            return await self.on_answers(dispatcher, tracker, api, candidates)
        except BackendError as e:
            say(dispatcher, e)
            events = [
                SlotSet(k, tracker.get_slot(k) if k != self.form.confirm_slot else None)
                for k in candidates
                if k in self.form.slots
            ]
            dispatcher.utter_message(response="utter_form_kept", title=self.form.title)
            return self._end(events)

    async def on_activation(self, dispatcher, tracker) -> list[EventType]:
        api = StudentApi(tracker)
        if not api.signed_in:
            dispatcher.utter_message(response=f"utter_form_howto_{self.form.name}")
            return self._end()
        try:
            record = await api.get(self.form.path) or {}
        except BackendError as e:
            say(dispatcher, e)
            return self._end()
        state = record.get("state")
        if self.form is ARCHIVE and state in (None, V.RecordState.not_started):
            try:
                dest = await api.get(DESTINATION.path) or {}
            except BackendError as e:
                say(dispatcher, e)
                return self._end()
            if dest.get("state") in (None, V.RecordState.not_started):
                dispatcher.utter_message(response="utter_form_archive_needs_destination")
                return self._end()
        if state in V.REVIEWED:
            dispatcher.utter_message(response=f"utter_form_reviewed_{self.form.name}")
            return self._end()
        values = self._values(tracker)
        resumed = any(v is not None for v in values.values())
        events: list = []
        for slot, val in display_from_api(self.form, record).items():
            if values.get(slot) is None:
                values[slot] = val
                events.append(SlotSet(slot, val))
        rejection = ""
        if state in V.REJECTED and record.get("rejection_reason"):
            rejection = REJECTION.format(record["rejection_reason"])
        dispatcher.utter_message(
            response="utter_form_resume" if resumed else "utter_form_start",
            title=self.form.title,
            prefilled=PREFILLED if events else "",
            rejection=rejection,
        )
        events.append(SlotSet(self.form.confirm_slot, None))
        return self._next(values, events, dispatcher)

    def on_question(self, dispatcher, tracker, f: Field, text: str) -> list[EventType]:
        """A question typed while the form waits for `f`: answered (the FAQ answer the classifier is sure of,
        else the field's help; "等一下，我先问个问题": go ahead), then the same question again; the text is
        not an answer."""
        selector = ((tracker.latest_message or {}).get("response_selector") or {}).get("faq") or {}
        answer = selector.get("response") or {}
        key = answer.get("intent_response_key")
        if only_waits(text):
            dispatcher.utter_message(response="utter_form_question_wait", title=self.form.title)
        elif key and float(answer.get("confidence") or 0.0) >= FAQ_ANSWER_MIN:
            dispatcher.utter_message(response=f"utter_{key}")
        else:
            dispatcher.utter_message(
                response="utter_form_field_help", label=f.label, title=self.form.title, hint=field_hint(f)
            )
        dispatcher.utter_message(response="utter_form_back", title=self.form.title)
        self._ask(dispatcher, f.slot, self._values(tracker))
        return [SlotSet(f.slot, None), SlotSet(REQUESTED, f.slot)]

    async def on_correction(self, dispatcher, tracker, text: str, requested: str) -> list[EventType]:
        values = self._values(tracker)
        f = find_field(self.form, text, values) or find_field(self.form, text)
        if f is None:
            dispatcher.utter_message(response="utter_form_which_field")
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
                    dispatcher.utter_message(
                        response="utter_form_field_changed", label=f.label, value=values[f.slot]
                    )
                    return self._next(values, events, dispatcher)
            except BackendError:
                values[f.slot] = None
        dispatcher.utter_message(response="utter_form_refill", label=f.label)
        self._ask(dispatcher, f.slot, values)
        return events + [SlotSet(REQUESTED, f.slot)]

    async def on_answers(
        self, dispatcher, tracker, api: StudentApi, candidates: dict, clear: str | None = None
    ) -> list[EventType]:
        values = self._values(tracker)
        if clear:  # the open question's slot got another field's labelled value: it is still unanswered
            values[clear] = None
            f = self.form.field(next(iter(candidates)))
            if f is not None:
                dispatcher.utter_message(response="utter_form_noted", label=f.label)
        events: list = []
        for slot, raw in candidates.items():
            f = self.form.field(slot)
            if f is None or raw is None:
                continue
            _, display = f.conv(str(raw))
            values[slot] = display
            events.append(SlotSet(slot, display))
        # a changed choice can make later answers irrelevant (e.g. 升学 needs no unit): they stay but are not
        # sent
        errors = await self._check(api, values)
        events = self._apply_errors(errors, values, dispatcher, events)
        return self._next(values, events, dispatcher)

    async def on_confirm(self, dispatcher, tracker, api: StudentApi, confirmed: bool) -> list[EventType]:
        values = self._values(tracker)
        if not confirmed:
            dispatcher.utter_message(response="utter_form_not_submitted", title=self.form.title)
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
            if e.status == 409 and right == V.ChangeKind.personal_info:
                # already reviewed: the same answers go in as a 个人信息完善 change request (two-level review)
                return await self._change_request(dispatcher, api, right, body)
            if e.status == 422 and e.fields:
                dispatcher.utter_message(response="utter_form_check_failed")
                events = self._apply_errors(
                    e.fields, values, dispatcher, [SlotSet(self.form.confirm_slot, None)]
                )
                if next_missing(self.form, values):
                    return self._next(values, events, dispatcher)
            dispatcher.utter_message(response="utter_form_submit_failed", message=e.message or NO_REASON)
            return self._end(events)
        dispatcher.utter_message(
            response="utter_form_submitted" if self.form.submit_path else "utter_form_saved",
            title=self.form.title,
        )
        return self._end()

    async def _change_request(self, dispatcher, api: StudentApi, kind: str, changes: dict) -> list[EventType]:
        try:
            await api.call("POST", "/api/me/change-requests", json={"kind": kind, "changes": changes})
        except ApiError as e:
            dispatcher.utter_message(response="utter_form_change_failed", message=e.message or NO_REASON)
            return self._end()
        dispatcher.utter_message(response="utter_form_change_submitted", title=self.form.title)
        return self._end()

    async def required_slots(self, domain_slots, dispatcher, tracker, domain) -> list[str]:
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

    def name(self) -> str:
        return "action_form_finished"

    async def run(self, dispatcher, tracker, domain) -> list[dict[str, Any]]:
        return []


class ActionFormPaused(Action):
    """ "先不填了" / "先不提交": a form paused. ("先不提交" while the mailing details are shown is a rule of
    its own, data/rules/mailing.yml, to action_mailing_cancel.)"""

    def name(self) -> str:
        return "action_form_paused"

    async def run(self, dispatcher, tracker, domain) -> list[dict[str, Any]]:
        # 转人工 (data/rules/handoff.yml) pauses the form; else echo the student's own words: 先不提交 /
        # 先不填了
        paused = (
            "utter_form_paused_handoff"
            if latest_intent(tracker) == "handoff"
            else "utter_form_paused_submit"
            if "提交" in latest_text(tracker)
            else "utter_form_paused"
        )
        dispatcher.utter_message(response=paused)
        return []


class ActionCorrectField(Action):
    """'手机号填错了' outside a form: reopen the chat form that holds that answer, else give change advice."""

    def name(self) -> str:
        return "action_correct_field"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        text = latest_text(tracker)
        for form in FORMS.values():
            values = {s: tracker.get_slot(s) for s in form.slots}
            f = find_field(form, text, values)
            if f is not None and values.get(f.slot) is not None:
                # the rules (data/rules/forms.yml) reopen the form: it asks for that answer again
                return [SlotSet(f.slot, None), SlotSet(form.confirm_slot, None), SlotSet(REOPEN, form.name)]
        from actions.change_advice import advise  # local import: avoid a cycle at module load

        best = None  # (keyword length, form, field) over all three forms: "单位详细地址" beats "地址"
        for form in FORMS.values():
            f = find_field(form, text)
            if f is not None:
                n = max(len(k) for k in f.keywords + [f.label] if k and k.lower() in text.lower())
                if best is None or n > best[0]:
                    best = (n, form, f)
        kind = V.ChangeKind.personal_info
        if best and best[1] is ARCHIVE:
            kind = V.ChangeKind.archive_edit
        elif best and best[1] is DESTINATION:
            kind = (
                V.ChangeKind.unit_change
                if best[2].slot in ("dest_type", "dest_unit_name")
                else V.ChangeKind.destination_edit
            )
        await advise(kind, dispatcher, tracker)
        return [SlotSet(REOPEN, None)]
