"""Issue 21 §11 in production mode (APP_ENV=production with real secrets, `safe_stack`): the API documentation
(/docs, /redoc, /openapi.json) is off, and the staff page still carries its security headers."""

from __future__ import annotations

import httpx


def test_no_api_documentation_in_production(safe_stack):
    b = safe_stack.backend_url
    for path in ("/docs", "/redoc", "/openapi.json", "/docs/oauth2-redirect"):
        r = httpx.get(b + path, timeout=10, trust_env=False)
        assert r.status_code == 404, (path, r.status_code)
        assert "openapi" not in r.text.lower() and "swagger" not in r.text.lower()
    r = httpx.get(b + "/staff/", timeout=10, trust_env=False)
    assert r.status_code == 200 and "frame-ancestors 'none'" in r.headers["content-security-policy"]
    assert r.headers["x-content-type-options"] == "nosniff"
