"""orchestrator/redact.py: one redaction function, on URLs, DSNs, headers, query tokens; and the
places that use it (events, audit details, notifier failures, printed errors)."""
from __future__ import annotations

import socket

import pytest

from orchestrator.errors import GovcloudError
from orchestrator.notify import NotifyError, WebhookNotifier
from orchestrator.redact import redact, redact_data
from orchestrator.usecases.session import open_state
from orchestrator.workspace import Workspace

SECRET = "S3cr3tTok3nValue42"

CASES = [  # (text, what must remain)
    (f"https://oapi.dingtalk.com/robot/send?access_token={SECRET}&timestamp=1&sign={SECRET}",
     "https://oapi.dingtalk.com/robot/send?access_token=***&timestamp=1&sign=***"),
    (f"https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key={SECRET}",
     "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=***"),
    (f"https://open.feishu.cn/open-apis/bot/v2/hook/{SECRET}",
     "https://open.feishu.cn/open-apis/bot/v2/hook/***"),
    (f"https://hooks.slack.com/services/T0/B0/{SECRET}", "https://hooks.slack.com/services/***"),
    (f"postgresql://gov:{SECRET}@db:5432/state", "postgresql://gov:***@db:5432/state"),
    (f"https://{SECRET}@github.com/org/repo", "https://***@github.com/org/repo"),
    (f"host=db user=gov password={SECRET} dbname=x", "host=db user=gov password=*** dbname=x"),
    (f"Server=db;Uid=gov;Pwd={SECRET};", "Server=db;Uid=gov;Pwd=***;"),
    (f"Authorization: Bearer {SECRET}", "Authorization: ***"),
    (f"X-Auth-Token: {SECRET}\nAccept: */*", "X-Auth-Token: ***\nAccept: */*"),
    (f"{{'Authorization': 'Basic {SECRET}', 'a': 1}}", "{'Authorization': '***', 'a': 1}"),
    (f'{{"password": "{SECRET}", "token":"{SECRET}"}}', '{"password": "***", "token":"***"}'),
    ("AKIAIOSFODNN7EXAMPLE", "***"),
    (f"https://s3/b/o?X-Amz-Signature={SECRET}&X-Amz-Date=1",
     "https://s3/b/o?X-Amz-Signature=***&X-Amz-Date=1"),
]

UNCHANGED = [  # negative controls: nothing secret, nothing changed
    "postgresql://postgres@127.0.0.1:5432/govcloud",
    "server:local/edu/edu-portal-internet/web-1 key_pair=default",
    "monkey=banana&donkey=1",
    "https://qyapi.weixin.qq.com/cgi-bin/webhook/send",
    "sha256:" + "ab" * 32,
    "未知的镜像 'centos-7'",
]


@pytest.mark.parametrize("text,expected", CASES)
def test_redacts(text, expected):
    assert redact(text) == expected
    assert SECRET not in redact(text) and "EXAMPLE" not in redact(text)
    assert redact(redact(text)) == redact(text)   # idempotent


@pytest.mark.parametrize("text", UNCHANGED)
def test_leaves_the_rest_alone(text):
    assert redact(text) == text


def test_redact_data_walks_json():
    data = {"to": [f"webhook:https://x/hook/{SECRET}"], "n": 1, "nested": {"u": CASES[4][0]}}
    assert SECRET not in repr(redact_data(data)) and redact_data(data)["n"] == 1


def _closed_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def test_webhook_failure_names_the_hook_without_its_token():
    url = f"http://127.0.0.1:{_closed_port()}/robot/send?access_token={SECRET}"
    n = WebhookNotifier(url, timeout=1, attempts=1)
    assert SECRET not in n.name
    with pytest.raises(NotifyError) as err:
        n.send({"x": 1})
    assert SECRET not in str(err.value) and "access_token=***" in str(err.value)


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_state_keeps_no_credentials_in_events_or_audit(ws, request, backend):
    if backend == "postgres":
        from tests.pg_support import set_state_url
        set_state_url(ws, request.getfixturevalue("pg_url"))
    url = f"https://oapi.dingtalk.com/robot/send?access_token={SECRET}"
    with open_state(Workspace.at(ws)) as store:
        store.record_event("A-1", "warning-sent", "2026-01-01", {"to": [f"webhook:{url}"]})
        store.append_audit("me", "notify", "ws", None, {"url": url, "error": f"Authorization: "
                                                                            f"Bearer {SECRET}"})
        assert SECRET not in repr(store.events()) and SECRET not in repr(store.audit_entries())
        assert "access_token=***" in repr(store.events())
    from orchestrator.core.audit import verify_chain
    with open_state(Workspace.at(ws)) as store:
        assert verify_chain(store.audit_entries(), store.audit_head()) is None


def test_printed_errors_are_redacted_and_bounded(capsys):
    from orchestrator.cli import render
    render.error(GovcloudError(f"cannot reach postgresql://gov:{SECRET}@db/x " + "y" * 100_000,
                               fix=f"Authorization: Bearer {SECRET}"), as_json=False)
    err = capsys.readouterr().err
    assert SECRET not in err and "gov:***@db" in err
    assert len(err) < 2_000, "an over-long message must not be echoed whole"
    render.error(GovcloudError(f"url https://{SECRET}@github.com/x"), as_json=True)
    assert SECRET not in capsys.readouterr().out


def test_negative_control_without_redaction_the_secret_shows(capsys):
    from rich.console import Console
    Console(stderr=True).print(f"Error: postgresql://gov:{SECRET}@db/x")
    assert SECRET in capsys.readouterr().err
