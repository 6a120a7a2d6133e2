"""Notice sinks that reach people: mail (SMTP) and the group robots Chinese government offices
use — 企业微信 (WeCom) and 钉钉 (DingTalk) — in their own message formats. Each has ``name`` and
``send(notice)`` raising NotifyError, like the sinks in notify.py (JSON lines, generic webhook).

* WeCom group robot: ``POST <webhook url>`` (``https://qyapi.weixin.qq.com/cgi-bin/webhook/send?
  key=KEY``) with ``{"msgtype": "markdown", "markdown": {"content": TEXT}}``; the reply is
  ``{"errcode": 0, "errmsg": "ok"}`` — any other errcode is a failure even with HTTP 200.
* DingTalk custom robot: ``POST <webhook url>`` (``https://oapi.dingtalk.com/robot/send?
  access_token=TOKEN``) with ``{"msgtype": "markdown", "markdown": {"title": T, "text": TEXT}}``;
  with a signing secret (加签) the URL gains ``&timestamp=MS&sign=S`` where S is
  ``urlencode(base64(HMAC-SHA256(key=secret, msg=f"{MS}\\n{secret}")))``; same errcode reply.
* SMTP: one UTF-8 mail per notice (``smtplib``; STARTTLS and login when configured).

Webhook URLs carry a key and the DingTalk secret is one: govcloud.toml names the environment
variables that hold them (``url_env``, ``secret_env``, ``password_env``), never the values.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import time
import urllib.parse
from typing import Any, Callable

from .notify import NotifyError


def _text(notice: dict[str, Any]) -> str:
    lines = [f"**{notice.get('title', '')}**", "", notice.get("message", "")]
    if notice.get("article"):
        lines += ["", f"依据 Article: {notice['article']}"]
    lines += ["", f"govcloud {notice.get('workspace', '')} {notice.get('at', '')}".rstrip()]
    return "\n".join(lines)


def _post_json(name: str, url: str, body: dict[str, Any], timeout: float) -> dict[str, Any]:
    import urllib.error
    import urllib.request
    req = urllib.request.Request(url, data=json.dumps(body, ensure_ascii=False).encode("utf-8"),
                                 method="POST", headers={
                                     "Content-Type": "application/json; charset=utf-8",
                                     "User-Agent": "govcloud-notifier"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            raw = resp.read()
    except urllib.error.HTTPError as exc:
        raise NotifyError(f"{name}: HTTP {exc.code}") from None
    except (urllib.error.URLError, OSError) as exc:
        raise NotifyError(f"{name}: {getattr(exc, 'reason', exc)}") from None
    try:
        reply = json.loads(raw or b"{}")
    except ValueError:
        raise NotifyError(f"{name}: the robot's reply is not JSON") from None
    if reply.get("errcode", 0) != 0:
        raise NotifyError(f"{name}: errcode {reply.get('errcode')}: {reply.get('errmsg', '')}")
    return reply


def _safe_name(kind: str, url: str) -> str:
    """The sink's name without the key in its URL."""
    p = urllib.parse.urlsplit(url)
    return f"{kind}:{p.scheme}://{p.netloc}{p.path}"


class WeComNotifier:
    def __init__(self, url: str, timeout: float = 5.0):
        self.url, self.timeout = url, timeout
        self.name = _safe_name("wecom", url)

    def message(self, notice: dict[str, Any]) -> dict[str, Any]:
        return {"msgtype": "markdown", "markdown": {"content": _text(notice)}}

    def send(self, notice: dict[str, Any]) -> None:
        _post_json(self.name, self.url, self.message(notice), self.timeout)


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """钉钉 加签: base64(HMAC-SHA256(secret, f"{timestamp}\\n{secret}")), URL-encoded."""
    mac = hmac.new(secret.encode("utf-8"), f"{timestamp_ms}\n{secret}".encode("utf-8"),
                   hashlib.sha256).digest()
    return urllib.parse.quote_plus(base64.b64encode(mac))


class DingTalkNotifier:
    def __init__(self, url: str, secret: str | None = None, timeout: float = 5.0,
                 clock: Callable[[], float] = time.time):
        self.url, self.secret, self.timeout, self.clock = url, secret, timeout, clock
        self.name = _safe_name("dingtalk", url)

    def message(self, notice: dict[str, Any]) -> dict[str, Any]:
        return {"msgtype": "markdown",
                "markdown": {"title": notice.get("title", "govcloud"), "text": _text(notice)}}

    def signed_url(self) -> str:
        if not self.secret:
            return self.url
        ts = int(self.clock() * 1000)
        sep = "&" if "?" in self.url else "?"
        return f"{self.url}{sep}timestamp={ts}&sign={dingtalk_sign(self.secret, ts)}"

    def send(self, notice: dict[str, Any]) -> None:
        _post_json(self.name, self.signed_url(), self.message(notice), self.timeout)


class SmtpNotifier:
    def __init__(self, host: str, port: int, sender: str, to: list[str], starttls: bool = False,
                 username: str | None = None, password: str | None = None, timeout: float = 10.0):
        self.host, self.port, self.sender, self.to = host, port, sender, list(to)
        self.starttls, self.username, self.password, self.timeout = starttls, username, password, timeout
        self.name = f"smtp:{host}:{port}:{','.join(self.to)}"

    def send(self, notice: dict[str, Any]) -> None:
        import smtplib
        from email.message import EmailMessage
        msg = EmailMessage()
        msg["Subject"] = f"[govcloud] {notice.get('title', 'notice')}"
        msg["From"] = self.sender
        msg["To"] = ", ".join(self.to)
        msg["X-Govcloud-Notice"] = str(notice.get("key", ""))
        msg.set_content(_text(notice).replace("**", ""), charset="utf-8")
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as s:
                if self.starttls:
                    s.starttls()
                if self.username:
                    s.login(self.username, self.password or "")
                s.send_message(msg)
        except (smtplib.SMTPException, OSError) as exc:
            raise NotifyError(f"{self.name}: {type(exc).__name__}: {exc}") from None


def _env(var: str | None, what: str) -> str | None:
    if not var:
        return None
    value = os.environ.get(var)
    if not value:
        raise NotifyError(f"{what}: environment variable {var} is not set")
    return value


def role_sinks(role: str, section: Any) -> list:
    """The sinks configured for one role (``[notify.<role>]`` in govcloud.toml)."""
    from .notify import JsonLinesNotifier, WebhookNotifier
    out: list = []
    if section is None:
        return out
    if section.smtp is not None:
        s = section.smtp
        out.append(SmtpNotifier(s.host, s.port, s.sender, s.to, s.starttls,
                                _env(s.username_env, f"notify.{role}.smtp"),
                                _env(s.password_env, f"notify.{role}.smtp")))
    if section.wecom is not None:
        out.append(WeComNotifier(section.wecom.url or _env(section.wecom.url_env,
                                                           f"notify.{role}.wecom")))
    if section.dingtalk is not None:
        d = section.dingtalk
        out.append(DingTalkNotifier(d.url or _env(d.url_env, f"notify.{role}.dingtalk"),
                                    _env(d.secret_env, f"notify.{role}.dingtalk")))
    if section.jsonl:
        out.append(JsonLinesNotifier(section.jsonl))
    if section.webhook:
        out.append(WebhookNotifier(section.webhook))
    return out
