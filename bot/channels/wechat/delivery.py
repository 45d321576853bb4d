"""WeChat's 5-second rule and its retries, for one incoming message at a time.

WeChat waits 5 s for the passive reply, then retries the same message (same MsgId) up to twice. The answer is
computed once per message: it is the passive reply when ready within `reply_timeout` (4 s); otherwise the
request answers `success` and the answer goes out through the customer-service API in the background. A retry
of a message whose answer is ready and not yet delivered (the customer-service API failed or is not
configured) gets the answer as its passive reply. With several Rasa servers (CHANNEL_STATE_URL) a retry may
reach another server: it waits for the answer of the server that owns the message.

Who delivers the answer is the `claims` state: none yet, "passive" (a request's reply; retries get the same
text) or "cs" (the customer-service API). A retry finding the answer ready and unclaimed takes it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Hashable
from typing import Any

from bot.channels.common import UNAVAILABLE_TEXT, TTLCache, channel_state
from bot.channels.wechat.api import WeChatAPI
from bot.channels.wechat.protocol import REPLAY_WINDOW

logger = logging.getLogger(__name__)

Answer = Callable[[], Awaitable[list[str]]]


class _Entry:
    """State of one incoming message in this process, shared by WeChat's retries of it."""

    def __init__(self, task: asyncio.Task[list[str]]) -> None:
        self.task = task
        self.waiters = 0  # requests (first or retries) waiting for the answer right now
        self.background_scheduled = False


class Delivery:
    def __init__(self, api: WeChatAPI, reply_timeout: float) -> None:
        self.api = api
        self.reply_timeout = reply_timeout
        # one incoming message: the server computing its answer, the answer, who delivers it (shared)
        self._owners = channel_state("wechat:owner", REPLAY_WINDOW)
        self._answers = channel_state("wechat:answer", REPLAY_WINDOW)
        self._claims = channel_state("wechat:claim", REPLAY_WINDOW)
        self._seen = TTLCache(
            ttl=REPLAY_WINDOW, max_items=20000
        )  # message key -> _Entry (a task: this process)
        self._tasks: set = set()

    async def reply(self, key: Hashable, openid: str, answer: Answer) -> str | None:
        """The passive reply for this request of message `key`, or None to answer `success`.

        `answer()` computes the message's answer (as reply chunks); it runs once per message."""
        entry: _Entry | None = self._seen.get(key)
        if entry is None:
            if not self._owners.add_if_absent(key, True):
                # another Rasa server got this message first (a WeChat retry sent elsewhere by the balancer)
                return await self._answer_of_other_server(key, openid)
            entry = _Entry(asyncio.ensure_future(self._answer_and_share(key, answer)))
            self._seen.set(key, entry)
        claim = self._claims.get(key)
        if claim == "passive" and entry.task.done():
            return entry.task.result()[0]  # WeChat did not get our first answer: the same answer again
        if claim == "cs":
            return None  # going out through the customer-service API
        # not delivered yet: the first request, or a retry while it is computing or after the CS API failed
        entry.waiters += 1
        try:
            chunks: list[str] | None = await asyncio.wait_for(
                asyncio.shield(entry.task), timeout=self.reply_timeout
            )
        except asyncio.TimeoutError:
            chunks = None
        except Exception:
            logger.exception("wechat: answer failed")
            chunks = [UNAVAILABLE_TEXT]
        finally:
            entry.waiters -= 1
        if chunks is None:
            if self._claims.get(key) == "passive" and entry.task.done():
                return entry.task.result()[0]
            self._deliver_later(openid, key, entry)
            return None
        return self._take_passive(key, openid, chunks)

    def _take_passive(self, key: Hashable, openid: str, chunks: list[str]) -> str | None:
        """Deliver a ready answer as the passive reply unless the customer-service API has it (atomic
        claim)."""
        if self._claims.add_if_absent(key, "passive"):
            if len(chunks) > 1:
                self.spawn(self.api.send_all(openid, chunks[1:], delay=0.5))
            return chunks[0]
        return chunks[0] if self._claims.get(key) != "cs" else None

    async def _answer_and_share(self, key: Hashable, answer: Answer) -> list[str]:
        chunks = await answer()
        self._answers.set(key, chunks)  # for a retry that reaches another Rasa server
        return chunks

    async def _answer_of_other_server(self, key: Hashable, openid: str) -> str | None:
        """A retry of a message another server is answering: its answer once ready (polled, within the reply
        timeout), else `success` (that server sends it through the customer-service API or to a later
        retry)."""
        deadline = time.monotonic() + self.reply_timeout
        while True:
            chunks = self._answers.get(key)
            if chunks:
                return self._take_passive(key, openid, chunks)
            if time.monotonic() >= deadline:
                return None
            await asyncio.sleep(0.05)

    def _deliver_later(self, openid: str, key: Hashable, entry: _Entry) -> None:
        """Once the answer is ready: a waiting retry takes it, else the customer-service API; if that fails,
        the answer stays unclaimed so that a later retry of the message still gets it as its passive reply."""
        if entry.background_scheduled:
            return
        entry.background_scheduled = True

        async def deliver() -> None:
            try:
                chunks = await entry.task
            except Exception:
                chunks = [UNAVAILABLE_TEXT]
            await asyncio.sleep(0)  # let a retry waiting on the same task take it first
            if entry.waiters or not self._claims.add_if_absent(key, "cs"):
                entry.background_scheduled = False
                return
            if not chunks[0]:  # nothing to say (a person holds the conversation)
                return
            if not await self.api.send_text(openid, chunks[0]):
                self._claims.pop(key)
                entry.background_scheduled = False
                logger.warning("wechat: answer kept for a retry (customer-service API unavailable)")
                return
            await self.api.send_all(openid, chunks[1:])

        self.spawn(deliver())

    def spawn(self, coro: Awaitable[Any]) -> asyncio.Task:
        """Run in the background, keeping a reference until done."""
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task
