"""Expiry warnings through the notifiers: a JSON-lines file and a webhook posted to a local HTTP
server on 127.0.0.1; each threshold once per end date; a failed delivery is retried next run."""
from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from orchestrator.notify import JsonLinesNotifier, NotifyError, WebhookNotifier, from_spec
from tests.clock import at
from tests.policy.builders import approval, events, workspace

WINDOW = approval("BZ-W", approved_on="2026-06-01",
                  term={"kind": "window", "start": "2026-06-20", "end": "2026-07-20"})


class Hook:
    def __init__(self, status: int = 200):
        self.status = status
        self.bodies: list[dict] = []
        hook = self

        class H(BaseHTTPRequestHandler):
            def do_POST(self):
                n = int(self.headers["Content-Length"])
                hook.bodies.append({"type": self.headers["Content-Type"],
                                    "body": json.loads(self.rfile.read(n))})
                self.send_response(hook.status)
                self.end_headers()

            def log_message(self, *a):
                pass
        self.server = HTTPServer(("127.0.0.1", 0), H)
        self.url = f"http://127.0.0.1:{self.server.server_port}/govcloud"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def hook():
    h = Hook()
    yield h
    h.close()


@pytest.fixture
def running_window(tmp_path, cli, monkeypatch):
    ws = workspace(tmp_path, "bozhou", WINDOW)
    cli("compile", "-C", ws)
    monkeypatch.setenv("GOVCLOUD_TODAY", "2026-06-20")
    assert cli("apply", "-C", ws, "--auto-approve").exit_code == 0
    return ws


def test_warnings_go_to_a_jsonl_file_and_a_webhook_once_per_threshold(running_window, cli, hook,
                                                                      tmp_path):
    ws, log = running_window, tmp_path / "notices.jsonl"
    args = ["expire", "-C", ws, "--notify", f"jsonl:{log}", "--notify", hook.url]
    assert cli(*args, env=at("2026-07-08")).exit_code == 0            # 8 working days left
    assert not log.exists() and hook.bodies == []
    assert cli(*args, env=at("2026-07-09")).exit_code == 0            # 7 left: warning
    assert cli(*args, env=at("2026-07-10")).exit_code == 0            # 6 left: already sent
    lines = [json.loads(x) for x in log.read_text().splitlines()]
    assert [(n["type"], n["threshold"], n["workdays_left"]) for n in lines] == [("expiry-warning", 7, 7)]
    assert "剩余7个工作日" in lines[0]["message"] and lines[0]["end"] == "2026-07-20"
    assert [b["body"]["threshold"] for b in hook.bodies] == [7]
    assert hook.bodies[0]["type"].startswith("application/json")
    assert cli(*args, env=at("2026-07-17")).exit_code == 0            # 1 left
    assert cli(*args, env=at("2026-07-21T00:05")).exit_code == 0      # the day after the last: removed
    lines = [json.loads(x) for x in log.read_text().splitlines()]
    assert [(n["type"], n["threshold"]) for n in lines] == [("expiry-warning", 7), ("expiry-warning", 1),
                                                            ("expired", None)]
    assert [b["body"]["type"] for b in hook.bodies] == ["expiry-warning", "expiry-warning", "expired"]
    sent = [e for e in events(ws, "BZ-W") if e["kind"] == "warning-sent"]
    assert [e["detail"]["threshold"] for e in sent] == [7, 1]


def test_a_failed_webhook_fails_the_run_and_is_retried(running_window, cli, monkeypatch):
    import orchestrator.notify as notify
    monkeypatch.setattr(notify.time, "sleep", lambda s: None)
    bad = Hook(status=500)
    try:
        r = cli("expire", "-C", running_window, "--notify", bad.url, env=at("2026-07-09"))
        assert r.exit_code == 1 and "notification failed" in r.output and "HTTP 500" in r.output
        assert len(bad.bodies) == 3                                    # 3 attempts
        assert not [e for e in events(running_window, "BZ-W") if e["kind"] == "warning-sent"]
        bad.status = 200
        assert cli("expire", "-C", running_window, "--notify", bad.url, env=at("2026-07-10")).exit_code == 0
        assert bad.bodies[-1]["body"]["threshold"] == 7
    finally:
        bad.close()


def test_status_shows_the_warnings(running_window, cli):
    r = cli("status", "-C", running_window, "--now", "2026-07-09")
    assert "window ends on 2026-07-20: 7 working days left" in r.output


def test_notifier_specs(tmp_path, monkeypatch):
    assert isinstance(from_spec(f"jsonl:{tmp_path}/x.jsonl"), JsonLinesNotifier)
    assert isinstance(from_spec("https://example.invalid/x"), WebhookNotifier)
    from orchestrator.errors import GovcloudError
    with pytest.raises(GovcloudError, match="use jsonl:PATH"):
        from_spec("smtp:ops@example")
    n = WebhookNotifier("http://127.0.0.1:9/nothing", timeout=0.5, attempts=1)
    with pytest.raises(NotifyError):
        n.send({"type": "x"})
    monkeypatch.setenv("GOVCLOUD_NOTIFY", f"jsonl:{tmp_path}/y.jsonl")
    from orchestrator.notify import from_specs
    assert [n.name for n in from_specs(None)] == [f"jsonl:{tmp_path}/y.jsonl"]
