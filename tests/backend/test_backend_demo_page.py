"""The demo page served by the back end points its widget at this deployment's Rasa server."""

from __future__ import annotations

import re

import httpx

from tests.backend.helpers import start_backend, stop_backend


def _widget_tag(base: str) -> str:
    r = httpx.get(base + "/", timeout=10)
    assert r.status_code == 200 and "text/html" in r.headers["content-type"]
    assert httpx.get(base + "/index.html", timeout=10).text == r.text
    tag = re.search(r'<script src="widget/widget.js"[^>]*>', r.text)
    assert tag, r.text[-500:]
    return tag.group(0)


def test_widget_gets_rasa_port_and_public_url(tmp_path):
    srv = start_backend(f"sqlite:///{tmp_path / 'a.db'}", tmp_path, {"RASA_PORT": "5123"}, seed=False)
    try:
        tag = _widget_tag(srv.base)
        assert 'data-rasa-port="5123"' in tag and 'data-rasa-url=""' in tag
        assert (
            httpx.get(srv.base + "/widget/widget.js", timeout=10).status_code == 200
        )  # static files still served
    finally:
        stop_backend(srv)
    evil = 'https://chat.example.edu/"><script>alert(1)</script>'
    srv = start_backend(
        f"sqlite:///{tmp_path / 'b.db'}", tmp_path, {"RASA_PUBLIC_URL": evil, "RASA_PORT": "x"}, seed=False
    )
    try:
        tag = _widget_tag(srv.base)
        assert (
            'data-rasa-url="https://chat.example.edu/&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"' in tag
        )
        assert 'data-rasa-port="5005"' in tag  # not a port number: the default
    finally:
        stop_backend(srv)
