"""The demo defaults: what every process uses when the environment does not say (`make run`, the tests).

Never acceptable in production: contracts/production.py refuses to start with any of these secrets.
"""

from __future__ import annotations

AUTH_SECRET = "demo-secret-change-me"
INTEGRATION_KEY = "demo-integration-key"
WECHAT_TOKEN = "demo-wechat-token"
ACTIONS_SERVICE_KEY = "demo-actions-service-key"
RASA_API_TOKEN = "demo-rasa-api-token"
# environment variable -> its demo value (the launcher gives these to every process it starts)
SECRETS = {
    "AUTH_SECRET": AUTH_SECRET,
    "INTEGRATION_KEY": INTEGRATION_KEY,
    "WECHAT_TOKEN": WECHAT_TOKEN,
    "ACTIONS_SERVICE_KEY": ACTIONS_SERVICE_KEY,
}

BACKEND_URL = "http://127.0.0.1:8000"
# the demo page's own origin: the browser origins allowed to call the backend and Rasa
ALLOWED_ORIGINS = ("http://127.0.0.1:8000", "http://localhost:8000")
WECHAT_API_BASE = "https://api.weixin.qq.com"
