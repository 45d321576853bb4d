"""Fixtures for the channel tests: real Rasa servers (tiny bot + our channels) and the real backend.

- `stack`: the demo configuration (WeChat plaintext mode), Rasa's management API on with a random API token
  (as an operator could run it), action tokens living 4 s so that expiry can be tested.
- `safe_stack`: APP_ENV=production with real secrets, WeChat safe mode, the management API off (the
  launcher's default) and an operator's `--cors "*"` on the command line (the allow-list must still win).
"""

import pytest

from tests.channels.channels_harness import ACTION_TOKEN_TTL, PRODUCTION_ENV, ChannelStack


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
