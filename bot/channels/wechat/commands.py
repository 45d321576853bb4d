"""What a WeChat user can type besides questions: binding codes, 解绑, how to bind, 关闭/开启通知; and the
channel's fixed texts. A binding code from the web page (8 characters, shown as XXXX-XXXX, any case, hyphen
optional) binds the OpenID to a student (the backend normalises and limits attempts)."""

from __future__ import annotations

import re
from typing import Any

from bot.channels.common import UNAVAILABLE_TEXT
from bot.channels.wechat.backend import Backend

MAX_TEXT_CHARS = 1000
MAX_BIND_FAILURES = 5
# Binding codes: 8 characters (Crockford base32, shown XXXX-XXXX), any case, hyphen optional; the backend
# normalises look-alikes. A bare 8-character word must contain a digit, so ordinary words are not codes.
_CODE = r"[0-9A-Za-z]{4}[-－]?[0-9A-Za-z]{4}"
BIND_CODE_RE = re.compile(
    r"^\s*(?:(?:绑定码|绑定)\s*[:：]?\s*(" + _CODE + r")"
    r"|([0-9A-Za-z]{4}[-－][0-9A-Za-z]{4})"
    r"|((?=[A-Za-z]*[0-9])[0-9A-Za-z]{8}))\s*$"
)
UNBIND_RE = re.compile(r"^\s*(解绑|解除绑定|取消绑定)\s*$")
BIND_HELP_RE = re.compile(r"^\s*(绑定|绑定学号|怎么绑定|如何绑定)\s*[?？]?\s*$")
NOTICES_OFF_RE = re.compile(r"^\s*(关闭通知|取消通知|不要通知|退订通知|关闭提醒)\s*[。.!！]?\s*$")
NOTICES_ON_RE = re.compile(r"^\s*(开启通知|打开通知|接收通知|开启提醒)\s*[。.!！]?\s*$")

BIND_HOWTO = (
    "绑定方法：在电脑或手机浏览器登录北京理工大学就业信息网，打开“智能咨询”，点击“获取微信绑定码”，"
    "把页面上显示的绑定码（形如 K7QM-3XPD，10 分钟内有效，字母不区分大小写）直接发送到本公众号即可。"
)
WELCOME = (
    "您好，欢迎关注！我是毕业生手续“智能咨询”助手，可以：\n"
    "1. 解答毕业去向登记、户档信息登记、档案邮寄等手续问题；\n"
    "2. 信息填错时告诉您该走哪条修改流程（改签申请、毕业去向修改、户档信息修改、个人信息完善）；\n"
    "3. 绑定学号后查询您的办理进度、申请档案邮寄。\n" + BIND_HOWTO + "\n直接输入您的问题即可开始。"
)
UNBOUND_HINT = "（您还未绑定学号，以上为通用解答。如需查询个人办理进度，请先绑定。" + BIND_HOWTO + "）"
NON_TEXT_REPLY = "目前只能处理文字消息，请直接用文字输入您的问题。"
VOICE_UNRECOGNISED_REPLY = (
    "抱歉，这条语音没能识别成文字（可能是语音识别未开启或声音不清楚），请改用文字输入您的问题。"
)
TOO_LONG_REPLY = f"消息太长了，请控制在 {MAX_TEXT_CHARS} 字以内再发送。"
EMPTY_REPLY = "请直接输入您的问题。"


class Commands:
    """The account commands; `reply` answers one or returns None for a question for the bot."""

    def __init__(self, backend: Backend, bind_failures: Any) -> None:
        self.backend = backend
        self.bind_failures = bind_failures  # channel state: openid -> failed codes in the last 10 minutes

    async def reply(self, openid: str, text: str) -> str | None:
        if len(text) > MAX_TEXT_CHARS:
            return TOO_LONG_REPLY
        m = BIND_CODE_RE.match(text)
        if m:
            code = next(g for g in m.groups() if g)
            return await self.bind(openid, code.replace("－", "-"))
        if UNBIND_RE.match(text):
            if await self.backend.unbind(openid) in (200, 204, 404):
                return "已解除学号绑定。之后仍可咨询通用问题；需要查询个人进度时可重新绑定。"
            return UNAVAILABLE_TEXT
        if BIND_HELP_RE.match(text):
            return BIND_HOWTO
        if NOTICES_OFF_RE.match(text) or NOTICES_ON_RE.match(text):  # issue 15 §1: WeChat notices on/off
            return await self.set_notices(openid, bool(NOTICES_ON_RE.match(text)))
        return None

    async def set_notices(self, openid: str, enabled: bool) -> str:
        status = await self.backend.set_notices(openid, enabled)
        if status == 200:
            return (
                "已开启办理进度通知：审核结果、同步、档案寄出等进展会在微信里告诉你。发送“关闭通知”可关闭。"
                if enabled
                else "已关闭微信里的办理进度通知（登录网页“智能咨询”时仍会看到）。发送“开启通知”可重新开启。"
            )
        if status == 404:
            return "您还未绑定学号，没有可以设置的通知。" + BIND_HOWTO
        return UNAVAILABLE_TEXT

    async def bind(self, openid: str, code: str) -> str:
        failures = self.bind_failures.get(openid, 0)
        if failures >= MAX_BIND_FAILURES:
            return "绑定码错误次数过多，请 10 分钟后再试，或在网页上重新获取绑定码。"
        status, data = await self.backend.bind(openid, code)
        if status == 200:
            self.bind_failures.pop(openid)
            name = str(data.get("name") or "").strip()
            who = f"{name}同学，" if name else ""
            return (
                f"绑定成功！{who}现在可以直接问“我的办理进度”或申请档案邮寄了。办理进度有变化（审核结果、同步、"
                "档案寄出等）会在这里通知你，发送“关闭通知”可关闭。发送“解绑”可解除绑定。"
            )
        if status == 0 or status >= 500:
            return "暂时无法完成绑定，请稍后再试。"
        if status == 429:  # the backend's own attempt limits (per openid and overall)
            msg = data.get("message")
            return msg if isinstance(msg, str) and msg.strip() else "绑定尝试次数过多，请稍后再试。"
        self.bind_failures.set(openid, failures + 1)
        if data.get("code") == "bind_code_expired":
            return "绑定码已过期，请在就业信息网“智能咨询”中重新获取（10 分钟内有效）。"
        return "绑定码无效或已使用，请核对后重新发送，或在就业信息网“智能咨询”中重新获取。"
