"""Logging of every process (backend, notice worker, action server, Rasa): no secret reaches a log line.

HTTP clients log request URLs (httpx at INFO: `HTTP Request: GET https://api.weixin.qq.com/cgi-bin/token?
grant_type=client_credential&appid=...&secret=...`), and WeChat's API carries the app secret and the access
token in the query. `setup()`, called once where each process starts (backend.main.create_app, `python -m
backend.services.notices`, actions/__init__.py for the action server, deploy/rasa_run.py for Rasa), installs a
log record factory that masks secret values in every record of the process - whichever library logs it and
whichever handler (uvicorn's, Rasa's coloredlogs, a file) writes it: query and form parameters
(`access_token=***`), the same keys in logged dicts/JSON, and `Bearer` tokens. Request lines stay (operators
read them); only the values go.

Plain standard library: imported from both virtual environments.
"""

from __future__ import annotations

import logging
import re

# query/form/JSON keys whose values are credentials: WeChat (access_token, secret), CAS (ticket), Rasa's
# management API (token), generic ones
SECRET_KEYS = (
    "access_token",
    "refresh_token",
    "appsecret",
    "app_secret",
    "secret",
    "auth_token",
    "token",
    "ticket",
    "api_key",
    "key",
    "password",
    "passwd",
)
MASK = "***"
_KEYS = "|".join(sorted(SECRET_KEYS, key=len, reverse=True))
_PATTERNS = (
    # key=value in a URL query or form body (also percent-encoded inside another URL: key%3Dvalue)
    (
        re.compile(rf"(?i)(?:(?<![\w-])|(?<=%3F)|(?<=%26))({_KEYS})(=|%3D)(?!\*\*\*)[^&\s\"'<>#,;)\]}}]+"),
        rf"\1\2{MASK}",
    ),
    # "key": "value" / 'key': 'value' in a logged dict or JSON
    (re.compile(rf"(?i)([\"'])({_KEYS})\1(\s*:\s*)([\"'])(?!\*\*\*\4).*?\4"), rf"\1\2\1\3\4{MASK}\4"),
    # Authorization: Bearer <token>
    (re.compile(r"(?i)\b(bearer\s+)[A-Za-z0-9._~+/=-]{8,}"), rf"\1{MASK}"),
)


def redact(text: str) -> str:
    """`text` with the values of credential parameters masked."""
    for pattern, repl in _PATTERNS:
        text = pattern.sub(repl, text)
    return text


def _redacting(factory):
    def make_record(*args, **kwargs) -> logging.LogRecord:
        record = factory(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a bad format string: the handler reports it as usual
            return record
        clean = redact(message)
        if clean != message:
            record.msg, record.args = clean, ()
        if record.exc_info and record.exc_info[0] is not None and not record.exc_text:
            # an exception's text may hold a URL (httpx.HTTPStatusError: "... for url
            # 'https://...?access_token=")
            text = logging.Formatter().formatException(record.exc_info)
            clean = redact(text)
            if clean != text:
                record.exc_text = clean  # formatters use the cached text instead of formatting it again
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return record

    make_record.redacting = True  # type: ignore[attr-defined]
    return make_record


def setup(process: str = "", level: int = logging.INFO, configure: bool = True) -> None:
    """Mask secrets in every log record of this process (idempotent). With `configure` and no handler on the
    root logger yet (uvicorn configures only its own loggers), also log INFO and above to stderr with the
    process name; processes whose framework configures logging (Rasa, rasa_sdk) pass configure=False."""
    factory = logging.getLogRecordFactory()
    if not getattr(factory, "redacting", False):
        logging.setLogRecordFactory(_redacting(factory))
    if configure and not logging.getLogger().handlers:
        name = f" {process}" if process else ""
        logging.basicConfig(level=level, format=f"%(asctime)s{name} %(levelname)s %(name)s: %(message)s")
