"""👍/👎 on the last answer in WeChat (issue 14 §4), used by bot/channels/wechat.py.

WeChat has no buttons under a message, so feedback is a reply: "👍" (or 赞/有帮助), "👎" (or 踩/没帮助) then
one of four reasons by number with an optional comment ("👎 2 没写费用" in one message works too). The first
answer of a conversation (then every 12 h) ends with a line saying so. Feedback goes to the backend's
integration endpoint with the integration key; the backend takes the student from the WeChat binding, never
from the message.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from bot.channels.common import channel_state

REASONS = ("答非所问", "内容缺失", "没有帮助", "事实错误")
HINT = "（这条回答有帮助吗？回复“👍”或“👎”）"
ASK_REASON = (
    "哪里不好？请回复序号：1 答非所问　2 内容缺失　3 没有帮助　4 事实错误。"
    "可在序号后补充说明，如“2 没写要带什么材料”。"
)
THANKS = "已收到反馈，谢谢！老师会据此改进回答。"
NOTHING = "请先提问，再对回答回复“👍”或“👎”。"
FAILED = "反馈暂时没有提交成功，请稍后再试。"
TOO_MANY = "反馈提交太频繁了，请过一分钟再试。"
UP_RE = re.compile(r"^\s*(?:👍|赞|有帮助)\s*$")
DOWN_RE = re.compile(r"^\s*(?:👎|踩|没帮助|没有帮助)\s*(.*)$", re.S)
REASON_RE = re.compile(
    r"^\s*(?:([1-4])|(答非所问|内容缺失|没有帮助|事实错误))\s*[、.．:：,，]?\s*(.*)$", re.S
)

Backend = Callable[[str, str, dict[str, Any]], Awaitable[tuple[int, dict[str, Any]]]]


class WechatFeedback:
    def __init__(self, backend: Backend) -> None:
        self.backend = backend
        self.last = channel_state("wechat:fb_last", 24 * 3600, 50000)  # openid -> the last answer
        self.pending = channel_state("wechat:fb_pending", 10 * 60, 50000)  # openid -> asked for a reason
        self.hinted = channel_state("wechat:fb_hinted", 12 * 3600, 50000)  # openids told how to give feedback

    def remember(self, openid: str, question: str, answer: str) -> str:
        """Keep the answer for a later 👍/👎; return it with the feedback hint when due."""
        self.last.set(openid, {"id": uuid.uuid4().hex[:16], "q": question[:1000], "a": answer[:4000]})
        self.pending.pop(openid)
        if openid in self.hinted:
            return answer
        self.hinted.set(openid, True)
        return f"{answer}\n\n{HINT}"

    async def reply(self, openid: str, text: str) -> str | None:
        """The reply when `text` is feedback on the last answer, else None (a normal message)."""
        if UP_RE.match(text):
            return await self._send(openid, "up")
        m = DOWN_RE.match(text)
        if m:
            rest = (m.group(1) or "").strip()
            reason = REASON_RE.match(rest) if rest else None
            if reason:
                return await self._send(openid, "down", *self._reason(reason))
            if openid not in self.last:
                return NOTHING
            self.pending.set(openid, True)
            return ASK_REASON
        if self.pending.get(openid):
            self.pending.pop(openid)
            reason = REASON_RE.match(text)
            if reason:
                return await self._send(openid, "down", *self._reason(reason))
        return None

    @staticmethod
    def _reason(m: re.Match[str]) -> tuple[str, str]:
        reason = REASONS[int(m.group(1)) - 1] if m.group(1) else m.group(2)
        return reason, (m.group(3) or "").strip()[:500]

    async def _send(self, openid: str, rating: str, reason: str | None = None, comment: str = "") -> str:
        last = self.last.get(openid)
        if not last:
            return NOTHING
        status, _ = await self.backend(
            "POST",
            "/api/integration/feedback",
            {
                "openid": openid,
                "message_id": last["id"],
                "question": last["q"],
                "answer": last["a"],
                "rating": rating,
                "reason": reason,
                "comment": comment or None,
            },
        )
        if status == 429:  # the backend's limit on feedback per conversation / anonymous feedback per minute
            return TOO_MANY
        if status != 200:
            return FAILED
        self.pending.pop(openid)
        return THANKS
