"""Experiment only (bench/experiment.py puts this directory first on PYTHONPATH).

Rasa 3.6 `EndpointConfig.request` opens a new aiohttp.ClientSession (new connection pool, new TCP connection)
for every call to the action server. This makes `session()` hand out one long-lived session per event loop and
endpoint instead, so action calls reuse keep-alive connections. No-op outside the Rasa environment.
"""
try:
    import asyncio

    from rasa.utils import endpoints as _ep
except ImportError:  # backend / action server environment
    pass
else:
    _make_session = _ep.EndpointConfig.session
    _sessions: dict = {}

    class _Borrowed:
        def __init__(self, session):
            self.session = session

        async def __aenter__(self):
            return self.session

        async def __aexit__(self, *exc):
            return False  # keep it open for the next call

    def _shared_session(self):
        key = (id(asyncio.get_running_loop()), self.url, repr(self.headers), repr(self.basic_auth))
        s = _sessions.get(key)
        if s is None or s.closed:
            s = _sessions[key] = _make_session(self)
        return _Borrowed(s)

    _ep.EndpointConfig.session = _shared_session
