"""The cloud API log of ``govcloud --debug`` (or ``GOVCLOUD_DEBUG=1``): one line per call on
stderr — method, URL, status, time — with credentials redacted (orchestrator/redact.py).

Each driver feeds it from where its calls really go: openstacksdk/keystoneauth through a response
hook on the requests session under every connection (so Keystone's token request is logged too),
libcloud through its connection's ``request``, and the embedded cloud through its own operations
(``local://TARGET/KIND/ID``, HTTP-like methods and statuses). Bodies and headers are never logged.
"""
from __future__ import annotations

import functools
import logging
import os
import sys
import time
from typing import Any, Callable

log = logging.getLogger("govcloud.api")

try:  # the shared redaction (issue 16); the stub below until it lands
    from orchestrator.redact import redact  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover - replaced on merge
    import re

    _USERINFO = re.compile(r"(?<=://)[^/@\s]+@")
    _SECRET_PARAM = re.compile(r"(?i)([?&;](?:[\w.-]*(?:password|secret|token|signature|key|"
                               r"credential)[\w.-]*)=)[^&;\s]*")
    _BEARER = re.compile(r"(?i)\b(bearer|x-auth-token:?|x-subject-token:?)\s+\S+")

    def redact(text: str) -> str:
        text = _USERINFO.sub("***@", text)
        text = _SECRET_PARAM.sub(r"\1***", text)
        return _BEARER.sub(r"\1 ***", text)


def enabled() -> bool:
    return os.environ.get("GOVCLOUD_DEBUG", "") not in ("", "0")


class _Stderr(logging.Handler):
    """Writes to whatever sys.stderr is when the line is logged."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            sys.stderr.write(self.format(record) + "\n")
            sys.stderr.flush()
        except Exception:  # pragma: no cover - a closed stderr must not fail the call
            self.handleError(record)


def _ensure_handler() -> None:
    if not any(getattr(h, "_govcloud_api", False) for h in log.handlers):
        h = _Stderr()
        h.setFormatter(logging.Formatter("%(message)s"))
        h._govcloud_api = True  # type: ignore[attr-defined]
        log.addHandler(h)
        log.setLevel(logging.DEBUG)
        log.propagate = False


def record(method: str, url: str, status: Any, seconds: float) -> None:
    """One API call. ``status``: the HTTP status, or an error's name."""
    if not enabled():
        return
    _ensure_handler()
    log.debug(redact(f"govcloud api: {method} {url} -> {status} ({seconds * 1000:.1f} ms)"))


def hook_requests(session: Any) -> None:
    """Log every response of a ``requests.Session`` (keystoneauth's, libcloud's)."""
    if not enabled() or session is None:
        return
    hooks = session.hooks.setdefault("response", [])
    if any(getattr(h, "_govcloud_api", False) for h in hooks):
        return

    def on_response(resp, *args, **kwargs):
        record(resp.request.method, resp.request.url, resp.status_code,
               resp.elapsed.total_seconds())
        return resp
    on_response._govcloud_api = True  # type: ignore[attr-defined]
    hooks.append(on_response)


def hook_openstack(conn: Any) -> Any:
    """The requests session under an openstacksdk connection (before it authenticates)."""
    if enabled():
        hook_requests(getattr(conn.session, "session", None))
    return conn


# The embedded cloud's operations as HTTP-like calls.
_STATUS = {"NotFound": 404, "Conflict": 409, "QuotaExceeded": 413, "NotOwned": 403,
           "CreateFailed": 500}
_METHODS = {"observe": "GET", "find": "GET", "get": "GET", "census": "GET", "media": "GET",
            "create": "POST", "update": "PATCH", "rename": "PATCH", "release": "PATCH",
            "delete": "DELETE", "set_power": "POST"}


def _local_url(target: str, op: str, args: tuple, owner: str) -> str:
    base = f"local://{target}"
    first = args[0] if args else None
    if op == "observe":
        return f"{base}/objects?owner={owner}"
    if op == "find":
        return f"{base}/objects?address={first}"
    if op == "get":
        return f"{base}/objects/{first}"
    if op == "census":
        return f"{base}/objects?stack={first}"
    if op == "create":
        return f"{base}/{first.kind}"
    suffix = {"set_power": f"/action?state={args[1] if len(args) > 1 else ''}",
              "release": "/tags"}.get(op, "")
    return f"{base}/{first.kind}/{first.cloud_id}{suffix}"


def instrument_local(driver: Any) -> None:
    """Log each operation of an embedded-cloud driver instance."""
    if not enabled():
        return
    for op, method in _METHODS.items():
        fn = getattr(driver, op, None)
        if fn is None:
            continue

        def wrapped(*args, _fn: Callable = fn, _op: str = op, _method: str = method, **kw):
            t0 = time.monotonic()
            status: Any = 201 if _op == "create" else 204 if _op == "delete" else 200
            try:
                return _fn(*args, **kw)
            except Exception as exc:
                status = _STATUS.get(type(exc).__name__, type(exc).__name__)
                raise
            finally:
                record(_method, _local_url(driver.target, _op, args, driver.owner), status,
                       time.monotonic() - t0)
        setattr(driver, op, functools.wraps(fn)(wrapped))


def instrument_libcloud(node_driver: Any) -> Any:
    """Log each request of a libcloud driver's connection (method, URL with the action)."""
    if not enabled():
        return node_driver
    conn = node_driver.connection
    original = conn.request

    def request(action, params=None, data=None, headers=None, method="GET", *a, **kw):
        t0 = time.monotonic()
        status: Any = "?"
        try:
            resp = original(action, params=params, data=data, headers=headers, method=method,
                            *a, **kw)
            status = getattr(resp, "status", "?")
            return resp
        except Exception as exc:
            status = getattr(exc, "code", None) or type(exc).__name__
            raise
        finally:
            scheme = "https" if getattr(conn, "secure", True) else "http"
            what = (params or {}).get("Action") if isinstance(params, dict) else None
            record(method, f"{scheme}://{conn.host}:{conn.port}{action}"
                           f"{'?Action=' + what if what else ''}", status, time.monotonic() - t0)
    conn.request = request
    return node_driver
