"""Fixtures for the channel tests: real Rasa servers (tiny bot + our channels) and the real backend.

- `stack`: the demo configuration (WeChat plaintext mode), Rasa's management API on with a random API token
  (as an operator could run it), action tokens living 4 s so that expiry can be tested.
- `safe_stack`: APP_ENV=production with real secrets, WeChat safe mode, the management API off (the
  launcher's default) and an operator's `--cors "*"` on the command line (the allow-list must still win).
"""

import secrets
import string

import pytest

from tests.channels.channels_harness import WECHAT_AES_KEY, WECHAT_APPID, ChannelStack

ACTION_TOKEN_TTL = 4


def strong(n: int = 48) -> str:
    return "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(n))


PRODUCTION_ENV = {
    "APP_ENV": "production",
    "AUTH_SECRET": strong(),
    "INTEGRATION_KEY": strong(),
    "WECHAT_TOKEN": strong(32),  # WeChat allows 3-32 characters
    "ACTIONS_SERVICE_KEY": strong(),
    "WECHAT_APPSECRET": strong(32),
    # the deployment settings production requires (issue 21 §7); nothing here is contacted by the tests
    "WECHAT_AES_KEY": WECHAT_AES_KEY,
    "WECHAT_APPID": WECHAT_APPID,
    "CHAT_ALLOWED_ORIGINS": "http://127.0.0.1:8000",
    "CAS_SERVER_URL": "https://sso.bit.edu.cn/cas",
    "BACKEND_PUBLIC_URL": "https://job.bit.edu.cn",
}


@pytest.fixture(scope="session")
def stack(tmp_path_factory):
    s = ChannelStack(
        tmp_path_factory.mktemp("channels"), extra_env={"ACTION_TOKEN_TTL_SECONDS": str(ACTION_TOKEN_TTL)}
    ).start()
    yield s
    s.stop()


@pytest.fixture(scope="session")
def safe_stack(tmp_path_factory, stack):
    s = ChannelStack(
        tmp_path_factory.mktemp("channels-safe"),
        aes=True,
        rasa_api=False,
        seed=False,
        extra_env=PRODUCTION_ENV,
        rasa_extra_args=["--cors", "*"],
    )
    s.start(model=stack.tmp / "tiny.tar.gz")
    yield s
    s.stop()
