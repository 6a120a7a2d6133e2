"""`govcloud notify`: notices for every clock, once per threshold and per sink, to real servers
on 127.0.0.1: SMTP (aiosmtpd), 企业微信 and 钉钉 group robots (their JSON formats; DingTalk's
HMAC-SHA256 signature checked the way DingTalk checks it), JSON lines."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import socket
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.clock import at
from tests.policy.builders import approval, workspace

SECRET = "SEC-test-dingtalk-secret"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp():
    try:
        from aiosmtpd.controller import Controller
    except ImportError:
        pytest.fail("aiosmtpd is not installed: pip install -e '.[test]'", pytrace=False)
    got = []

    class Handler:
        async def handle_DATA(self, server, session, envelope):
            got.append(envelope)
            return "250 OK"
    c = Controller(Handler(), hostname="127.0.0.1", port=_free_port())
    c.start()
    yield c.port, got
    c.stop()


@pytest.fixture
def robots():
    """One HTTP server for both robots: /wecom and /dingtalk, like their webhook endpoints."""
    got = {"wecom": [], "dingtalk": []}
    fail = {"wecom": None}

    class H(BaseHTTPRequestHandler):
        def log_message(self, *a):
            pass

        def do_POST(self):
            u = urllib.parse.urlsplit(self.path)
            q = dict(urllib.parse.parse_qsl(u.query))
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            kind = u.path.strip("/")
            reply = {"errcode": 0, "errmsg": "ok"}
            if kind == "dingtalk":   # DingTalk's check of 加签: timestamp + sign
                mac = hmac.new(SECRET.encode(), f"{q.get('timestamp')}\n{SECRET}".encode(),
                               hashlib.sha256).digest()
                if q.get("sign") != base64.b64encode(mac).decode():
                    reply = {"errcode": 310000, "errmsg": "sign not match"}
            if kind == "wecom" and fail["wecom"]:
                reply = fail["wecom"]
            if reply["errcode"] == 0:
                got[kind].append((q, body))
            data = json.dumps(reply).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
    srv = ThreadingHTTPServer(("127.0.0.1", 0), H)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{srv.server_address[1]}", got, fail
    srv.shutdown()


def _ws(tmp_path, smtp_port, base, monkeypatch):
    ws = workspace(tmp_path, "bazhong", approval("BZ-N", approved_on="2026-03-02"))
    monkeypatch.setenv("T_WECOM_URL", f"{base}/wecom?key=KEY-123")
    monkeypatch.setenv("T_DING_URL", f"{base}/dingtalk?access_token=TOKEN-456")
    monkeypatch.setenv("T_DING_SECRET", SECRET)
    with open(ws / "govcloud.toml", "a", encoding="utf-8") as f:
        f.write(f"""
[notify.provider]
smtp = {{host = "127.0.0.1", port = {smtp_port}, from = "govcloud@cloud.example", to = ["duty@provider.example"]}}
wecom = {{url_env = "T_WECOM_URL"}}
dingtalk = {{url_env = "T_DING_URL", secret_env = "T_DING_SECRET"}}

[notify.bureau]
jsonl = "{(tmp_path / 'bureau.jsonl').as_posix()}"
""")
    return ws


def test_each_clock_is_notified_once_per_threshold_and_sink(tmp_path, cli, smtp, robots, monkeypatch):
    port, mails = smtp
    base, got, fail = robots
    ws = _ws(tmp_path, port, base, monkeypatch)
    # 巴中 第十八条: provisioned within 3 working days of 2026-03-02 -> due 2026-03-05
    r = cli("notify", "-C", ws, "--backdated", "test", "--now", "2026-03-04", "--output", "json")
    assert r.exit_code == 0, r.output
    d = r.json()
    assert d["format"] == "govcloud-notify/1" and d["unconfigured"] == ["department"]
    (n,) = d["notices"]
    assert n["clock"] == "provision" and n["threshold"] == "1" and n["due"] == "2026-03-05"
    assert "第十八条" in n["article"] and n["roles"] == ["provider"]
    assert len(d["sent"]) == 3                                   # smtp, wecom, dingtalk
    assert len(mails) == 1 and b"duty@provider.example" in mails[0].original_content
    assert "BZ-N" in mails[0].content.decode("utf-8", "replace")
    (q, body), = got["wecom"]
    assert q == {"key": "KEY-123"} and body["msgtype"] == "markdown"
    assert "2026-03-05" in body["markdown"]["content"]
    (q, body), = got["dingtalk"]
    assert set(q) == {"access_token", "timestamp", "sign"}        # signed, and verified by the server
    assert body["msgtype"] == "markdown" and body["markdown"]["title"]
    # the same day again: nothing new (idempotent)
    again = cli("notify", "-C", ws, "--backdated", "test", "--now", "2026-03-04", "--output", "json").json()
    assert again["notices"] == [] and again["sent"] == []
    assert len(mails) == 1 and len(got["wecom"]) == 1
    # the due day: the 0 threshold; one WeCom failure is retried alone the next run
    fail["wecom"] = {"errcode": 93000, "errmsg": "invalid webhook url"}
    r = cli("notify", "-C", ws, "--backdated", "test", "--now", "2026-03-05", "--output", "json")
    assert r.exit_code == 1 and "errcode 93000" in r.json()["failures"][0]
    assert len(r.json()["sent"]) == 2 and len(mails) == 2
    fail["wecom"] = None
    r = cli("notify", "-C", ws, "--backdated", "test", "--now", "2026-03-05", "--output", "json").json()
    assert [s["sink"].split(":")[0] for s in r["sent"]] == ["wecom"] and len(mails) == 2
    # overdue: the provider again and the bureau (escalation), once
    r = cli("notify", "-C", ws, "--backdated", "test", "--now", "2026-03-06", "--output", "json").json()
    (n,) = r["notices"]
    assert n["threshold"] == "overdue" and n["roles"] == ["provider", "bureau"]
    lines = (tmp_path / "bureau.jsonl").read_text().splitlines()
    assert len(lines) == 1 and json.loads(lines[0])["threshold"] == "overdue"
    assert cli("notify", "-C", ws, "--backdated", "test", "--now", "2026-03-09", "--output", "json").json()["sent"] == []
    # the secrets never appear in what govcloud prints or records
    out = cli("audit", "list", "-C", ws, "--output", "json").output + r.__repr__()
    assert "KEY-123" not in out and "TOKEN-456" not in out and SECRET not in out


def test_provisioning_closes_the_clock_and_wipe_failures_are_notified(tmp_path, cli, smtp, robots,
                                                                     monkeypatch):
    port, mails = smtp
    base, got, _ = robots
    ws = _ws(tmp_path, port, base, monkeypatch)
    monkeypatch.setenv("GOVCLOUD_TODAY", "2026-03-03")
    AT_0304 = at("2026-03-04")   # the next day (a --now after the clock is refused)
    assert cli("compile", "-C", ws).exit_code == 0
    assert cli("apply", "-C", ws, "--auto-approve").exit_code == 0   # records "provisioned"
    r = cli("notify", "-C", ws, "--output", "json", env=AT_0304).json()
    assert all(n["clock"] != "provision" for n in r["notices"])       # done: no notice
    from orchestrator.usecases.session import open_state
    from orchestrator.workspace import Workspace
    with open_state(Workspace.at(ws)) as store:
        store.record_event("edu/edu-portal", "wipe-failed", "2026-03-04",
                           {"medium": "volume 1234", "error": "verify found non-zero bytes"})
    r = cli("notify", "-C", ws, "--output", "json", env=AT_0304).json()
    (n,) = [x for x in r["notices"] if x["clock"] == "wipe-failed"]
    assert n["roles"] == ["provider", "bureau"] and "volume 1234" in n["message"]
    again = cli("notify", "-C", ws, "--output", "json", env=AT_0304).json()
    assert [x for x in again["notices"] if x["clock"] == "wipe-failed"] == []


def test_a_robot_url_written_in_the_config_needs_exactly_one_of_url_and_url_env(tmp_path, cli):
    ws = workspace(tmp_path, "bazhong", approval("BZ-N"))
    with open(ws / "govcloud.toml", "a", encoding="utf-8") as f:
        f.write('\n[notify.provider]\nwecom = {url = "http://127.0.0.1:1/x", url_env = "X"}\n')
    r = cli("notify", "-C", ws, "--output", "json")
    assert r.exit_code == 1 and "exactly one" in json.dumps(r.json())
