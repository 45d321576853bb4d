"""Fixtures for the channel tests: one real Rasa server (tiny bot + our channels) and the real backend."""
import pytest

from tests.channels.channels_harness import ChannelStack


@pytest.fixture(scope="session")
def stack(tmp_path_factory):
    s = ChannelStack(tmp_path_factory.mktemp("channels")).start()
    yield s
    s.stop()
