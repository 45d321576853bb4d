"""The chat's per-client limits and the client address (issue 21 §1, §11), against a real Rasa server with
our REST channel (tiny bot, fake action server): messages per conversation and per client address per minute
(429 `too_many_messages` in Chinese with Retry-After); X-Forwarded-For believed only from TRUSTED_PROXIES
(here 127.0.0.2, "the proxy"; direct clients connect from 127.0.0.1); the action server gets a pseudonym of
the address (never the address, never what the client put into the metadata)."""

from __future__ import annotations

import re
import time
import uuid

import httpx
import pytest

from tests.channels.channels_harness import ChannelStack

PER_CONVERSATION, PER_CLIENT = 5, 12


@pytest.fixture(scope="module")
def limited(stack, tmp_path_factory):
    s = ChannelStack(
        tmp_path_factory.mktemp("chat-limits"),
        rasa_api=False,
        extra_env={
            "CHAT_RATE_PER_CONVERSATION": str(PER_CONVERSATION),
            "CHAT_RATE_PER_CLIENT": str(PER_CLIENT),
            "TRUSTED_PROXIES": "127.0.0.2",
        },
    )
    s.start(model=stack.tmp / "tiny.tar.gz")
    yield s
    s.stop()


def client(local: str = "127.0.0.1") -> httpx.Client:
    return httpx.Client(transport=httpx.HTTPTransport(local_address=local), trust_env=False, timeout=30)


def say(c: httpx.Client, url: str, sender: str, text: str = "你好", xff: str | None = None, metadata=None):
    headers = {"X-Forwarded-For": xff} if xff else {}
    return c.post(url, json={"sender": sender, "message": text, "metadata": metadata or {}}, headers=headers)


def burst(send, n: int) -> tuple[list[int], bool]:
    """n requests; (status codes, whether they all fell into one clock minute: the limits' window)."""
    start = int(time.time() // 60)
    codes = [send(i).status_code for i in range(n)]
    return codes, int(time.time() // 60) == start


def check_limited(codes: list[int], one_window: bool, limit: int) -> None:
    accepted = codes.count(200)
    assert set(codes) <= {200, 429}, codes
    if one_window:
        assert codes == [200] * limit + [429] * (len(codes) - limit), codes
    else:  # the burst crossed a minute: at most one limit in each
        assert 429 in codes and accepted <= 2 * limit, codes


def test_one_conversation_is_limited(limited):
    with client("127.0.0.2") as proxy:
        xff = "198.51.100.20"
        codes, one = burst(lambda i: say(proxy, limited.rest, "rl-conv", xff=xff), PER_CONVERSATION + 3)
        check_limited(codes, one, PER_CONVERSATION)
        r = say(proxy, limited.rest, "rl-conv", xff=xff)
        assert r.status_code == 429, r.text
        b = r.json()
        assert b["code"] == "too_many_messages" and re.fullmatch(
            r"消息发送太频繁了，请\d+秒后再发。", b["message"]
        ), b
        assert 1 <= int(r.headers["Retry-After"]) <= 60
        assert say(proxy, limited.rest, "rl-other", xff=xff).status_code == 200  # another conversation


def test_one_address_cannot_rotate_senders_or_forge_forwarded_for(limited):
    # the attacker connects directly (127.0.0.1, not the proxy): a new sender and a made-up X-Forwarded-For
    # for every message are still one client
    with client() as direct:
        codes, one = burst(
            lambda i: say(direct, limited.rest, "rl-" + uuid.uuid4().hex[:10], xff=f"203.0.113.{i}"),
            PER_CLIENT + 8,
        )
    check_limited(codes, one, PER_CLIENT)
    # visitors behind the proxy are other clients: not held up
    with client("127.0.0.2") as proxy:
        assert say(proxy, limited.rest, "rl-visitor", xff="198.51.100.21").status_code == 200


def test_the_action_server_gets_a_pseudonym_of_the_address(limited):
    def client_seen(sender: str) -> str:
        calls = [
            c for c in limited.actions.calls if (c.get("tracker") or {}).get("sender_id") == f"anon:{sender}"
        ]
        assert calls, sender
        return calls[-1]["tracker"]["latest_message"]["metadata"]["client"]

    with client("127.0.0.2") as proxy:
        s1, s2, s3 = ("rl-who-" + uuid.uuid4().hex[:8] for _ in range(3))
        # a client writing its own `client` into the metadata is ignored
        for sender, xff in ((s1, "192.0.2.31"), (s2, "192.0.2.31"), (s3, "192.0.2.32")):
            r = say(proxy, limited.rest, sender, "/whoami", xff=xff, metadata={"client": "forged"})
            assert r.status_code == 200 and "会话=anon:" in r.json()[0]["text"], r.text
    a, b, c = client_seen(s1), client_seen(s2), client_seen(s3)
    assert re.fullmatch(r"[0-9a-f]{32}", a) and a == b != c, (a, b, c)
    calls = str([x for x in limited.actions.calls if "rl-who-" in str(x)])
    assert "192.0.2.31" not in calls and "forged" not in calls
