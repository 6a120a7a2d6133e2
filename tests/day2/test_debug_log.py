"""`--debug` / GOVCLOUD_DEBUG=1: every cloud API call on stderr with method, URL, status and
time, credentials redacted; nothing without it."""
from __future__ import annotations

import re

from drivers import apilog
from tests.cli.proc import govcloud

LINE = re.compile(r"^govcloud api: (GET|POST|PATCH|DELETE) local://local/\S+ -> (\d{3}|\w+) "
                  r"\(\d+\.\d ms\)$")


def test_debug_logs_each_embedded_cloud_call_on_stderr(ws, cli):
    assert cli("compile", "-C", ws).exit_code == 0
    r = govcloud("--debug", "apply", "-C", ws, "--auto-approve")
    assert r.returncode == 0, r.stderr
    lines = [x for x in r.stderr.splitlines() if x.startswith("govcloud api:")]
    assert all(LINE.match(x) for x in lines), lines[:3]
    posts = [x for x in lines if x.startswith("govcloud api: POST")]
    assert len(posts) == 56 and all("-> 201" in x for x in posts)
    assert any("GET local://local/objects?owner=" in x for x in lines)
    assert "govcloud api" not in r.stdout                   # stdout stays the command's
    # the environment variable does the same; without either, nothing is logged
    r = govcloud("plan", "-C", ws, env={"GOVCLOUD_DEBUG": "1"})
    assert "govcloud api: GET local://local/objects?owner=" in r.stderr
    r = govcloud("plan", "-C", ws, env={"GOVCLOUD_DEBUG": ""})
    assert "govcloud api" not in r.stderr and r.returncode == 0


def test_an_error_is_logged_with_its_status(applied_ws, monkeypatch, capfd):
    from drivers.base import NotFound, driver_class
    monkeypatch.setenv("GOVCLOUD_DEBUG", "1")
    from orchestrator.workspace import Workspace
    w = Workspace.at(applied_ws)
    d = driver_class("local")("local", {}, w.root, w.config.workspace.id)
    try:
        d.get("no-such-id")
    except NotFound:
        pass
    assert "GET local://local/objects/no-such-id -> 404" in capfd.readouterr().err


def test_credentials_in_urls_are_redacted(monkeypatch, capfd):
    monkeypatch.setenv("GOVCLOUD_DEBUG", "1")
    apilog.record("GET", "https://admin:hunter2@keystone:5000/v3/x?token=abc123&limit=5", 200, 0.01)
    err = capfd.readouterr().err
    assert "hunter2" not in err and "abc123" not in err and "limit=5" in err
