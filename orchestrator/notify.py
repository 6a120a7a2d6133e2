"""Notifiers: where lifecycle notices (expiry warnings, expired terms) go. Pluggable.

A notifier is anything with ``name`` and ``send(notice: dict) -> None`` that raises
:class:`NotifyError` on failure. Built in, chosen by a spec string (``--notify SPEC``, repeatable,
or ``GOVCLOUD_NOTIFY="SPEC SPEC ..."``):

* ``jsonl:PATH`` — append one JSON object per line to PATH (a log file a collector tails);
* ``webhook:URL`` or a bare ``http://`` / ``https://`` URL — POST the notice as JSON
  (``Content-Type: application/json``), 5 s timeout, 3 attempts; any 2xx is success.

Register another kind with ``KINDS["name"] = factory`` (factory: the text after ``name:``).
"""
from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any, Callable, Protocol

from .errors import GovcloudError
from .redact import redact


class NotifyError(Exception):
    pass


class Notifier(Protocol):
    name: str

    def send(self, notice: dict[str, Any]) -> None: ...


class JsonLinesNotifier:
    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.name = f"jsonl:{self.path}"

    def send(self, notice: dict[str, Any]) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            line = json.dumps(notice, ensure_ascii=False, sort_keys=True, default=str) + "\n"
            with open(self.path, "a", encoding="utf-8") as f:   # one write: lines never interleave
                f.write(line)
        except OSError as exc:
            raise NotifyError(redact(f"{self.name}: {exc}")) from None


class WebhookNotifier:
    def __init__(self, url: str, timeout: float = 5.0, attempts: int = 3,
                 sleep: Callable[[float], None] = time.sleep):
        if not url.startswith(("http://", "https://")):
            raise GovcloudError(f"webhook URL {redact(url)!r} must start with http:// or https://")
        self.url = url
        self.name = f"webhook:{redact(url)}"   # names go into events and messages: no token
        self.timeout = timeout
        self.attempts = attempts
        self.sleep = sleep

    def send(self, notice: dict[str, Any]) -> None:
        import urllib.error     # here: urllib.request (http, ssl, email) is ~0.03 s to import
        import urllib.request
        body = json.dumps(notice, ensure_ascii=False, default=str).encode("utf-8")
        last = ""
        for attempt in range(self.attempts):
            req = urllib.request.Request(self.url, data=body, method="POST", headers={
                "Content-Type": "application/json; charset=utf-8",
                "User-Agent": "govcloud-notifier"})
            try:
                with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                    if 200 <= resp.status < 300:
                        return
                    last = f"HTTP {resp.status}"
            except urllib.error.HTTPError as exc:
                last = f"HTTP {exc.code}"
                if 400 <= exc.code < 500 and exc.code != 429:
                    break                     # the receiver refuses it: retrying will not help
            except (urllib.error.URLError, OSError) as exc:
                last = str(getattr(exc, "reason", exc))
            if attempt + 1 < self.attempts:
                self.sleep(0.5 * (2 ** attempt))
        raise NotifyError(redact(f"{self.name}: {last}"))


KINDS: dict[str, Callable[[str], Notifier]] = {
    "jsonl": JsonLinesNotifier,
    "webhook": WebhookNotifier,
}


def from_spec(spec: str) -> Notifier:
    spec = spec.strip()
    if spec.startswith(("http://", "https://")):
        return WebhookNotifier(spec)
    kind, sep, rest = spec.partition(":")
    if not sep or kind not in KINDS or not rest:
        raise GovcloudError(f"notifier {redact(spec)!r}: use jsonl:PATH, webhook:URL or an http(s) URL",
                            fix=f"known kinds: {', '.join(sorted(KINDS))}")
    return KINDS[kind](rest)


def from_specs(specs: list[str] | None, env: bool = True) -> list[Notifier]:
    """Notifiers from ``--notify`` options, else from ``GOVCLOUD_NOTIFY``."""
    items = list(specs or [])
    if not items and env and os.environ.get("GOVCLOUD_NOTIFY"):
        items = os.environ["GOVCLOUD_NOTIFY"].split()
    return [from_spec(s) for s in items]


def send_all(notifiers: list[Notifier], notice: dict[str, Any]) -> list[str]:
    """Send to every notifier; returns the failures as text (empty: all delivered)."""
    failed = []
    for n in notifiers:
        try:
            n.send(notice)
        except NotifyError as exc:
            failed.append(str(exc))
    return failed
