"""One redaction function for every record and message: ``redact(text) -> str``.

Replaces by ``***`` what would let a reader act as us:

- URL userinfo: ``scheme://user:PASSWORD@host`` keeps the user; a user part with no password
  that looks like a token (16+ characters, as ``https://ghp_...@github.com``) goes entirely;
- secrets in webhook paths: ``/hook/<token>`` (飞书/Lark), ``/services/T/B/X`` (Slack),
  ``/webhooks/<id>/<token>``;
- query and DSN parameters whose name says secret, in URLs (``?access_token=`` 钉钉,
  ``?key=`` 企业微信, ``&sign=``, ``token``, ``signature``, ``X-Amz-Signature``...) and in libpq /
  ODBC DSNs (``password=... `` separated by spaces or ``;``), and the same names as JSON or
  Python-repr keys (``"password": "..."``);
- HTTP headers carrying credentials (``Authorization``, ``Proxy-Authorization``, ``Cookie``,
  ``X-Auth-Token``, ``X-Subject-Token``, ``X-Api-Key``): the value to the end of the line or
  of its quotes;
- AWS access key ids (``AKIA...``).

``redact`` is idempotent and leaves everything else as it was; ``redact_data`` applies it to every
string inside JSON-like data (the state store runs audit details and event data through it).
"""
from __future__ import annotations

import re
from typing import Any

MASK = "***"

_SECRET_NAMES = (r"access_token|refresh_token|id_token|private_token|auth_token|token|"
                 r"access_key|secret_key|secret_access_key|client_secret|secret|"
                 r"api_key|apikey|key|sign|signature|sig|x-amz-signature|x-amz-credential|"
                 r"x-amz-security-token|password|passwd|pwd|pass|credential|credentials|"
                 r"sessionid|session_id|ticket")

# scheme://userinfo@ : group 1 scheme, 2 user, 3 ":password" or None
_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.\-]*://)([^\s/?#@:'\"]*)(:[^\s/?#@'\"]*)?@")
_HOOK_PATH = re.compile(r"(?i)(/(?:hook|hooks|webhook|webhooks|services|bot/v2/hook)/)"
                        r"(?!\*\*\*)[^\s?#'\"<>]{12,}")
# name=value in a query string or a DSN; the value ends at & ; # whitespace or a quote
_PARAM = re.compile(r"(?i)(^|[?&;\s,(\"'])((?:" + _SECRET_NAMES + r"))=(?!\*\*\*)([^&;#\s'\"]+)")
# "name": "value" / 'name': 'value' (JSON, Python repr)
_QUOTED = re.compile(r"(?i)([\"'](?:" + _SECRET_NAMES + r"|authorization|cookie)[\"']\s*:\s*)"
                     r"([\"'])(?!\*\*\*)(.*?)\2")
_HEADER = re.compile(r"(?im)\b(authorization|proxy-authorization|cookie|set-cookie|x-auth-token|"
                     r"x-subject-token|x-api-key|api-key)(\s*[:=]\s*)(?![\"'\s])(?!\*\*\*)([^\r\n]+)")
_AWS_KEY_ID = re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b")


def _userinfo(m: re.Match) -> str:
    scheme, user, password = m.group(1), m.group(2), m.group(3)
    if password is not None:
        return f"{scheme}{user}:{MASK}@"
    if len(user) >= 16 and user != MASK:
        return f"{scheme}{MASK}@"
    return m.group(0)


# Every pattern above needs one of these (userinfo "@", paths "/", quoted keys a quote,
# headers ":" or "=", parameters "=", AWS key ids their prefix): a string with none of them is
# returned as it is without running the six substitutions (most strings of a state write:
# kinds, ids, names).
_MAYBE_SECRET = re.compile(r"[@/\"':=]|AKIA|ASIA")


def redact(text: Any) -> str:
    """``text`` (made a str) with credentials replaced by ``***``."""
    s = text if isinstance(text, str) else str(text)
    if not s or not _MAYBE_SECRET.search(s):
        return s
    s = _USERINFO.sub(_userinfo, s)
    s = _HOOK_PATH.sub(lambda m: m.group(1) + MASK, s)
    s = _QUOTED.sub(lambda m: f"{m.group(1)}{m.group(2)}{MASK}{m.group(2)}", s)
    s = _HEADER.sub(lambda m: f"{m.group(1)}{m.group(2)}{MASK}", s)
    s = _PARAM.sub(lambda m: f"{m.group(1)}{m.group(2)}={MASK}", s)
    return _AWS_KEY_ID.sub(MASK, s)


_PLAIN = (int, float, bool)


def redact_data(data: Any) -> Any:
    """JSON-like ``data`` with every string (values and keys) redacted."""
    if isinstance(data, str):
        return redact(data)
    if isinstance(data, dict):   # strings and plain scalars inline (a call each was ~5 a record)
        return {redact(k) if isinstance(k, str) else k:
                redact(v) if type(v) is str else v if v is None or type(v) in _PLAIN else
                redact_data(v) for k, v in data.items()}
    if isinstance(data, (list, tuple)):
        return [redact_data(v) for v in data]
    return data
