"""Windows and isolation agree (one open-window set, orchestrator/core/windows.py): during an open
window `verify-isolation` counts the window's approved inbound rule as approved, as `plan` does;
and an accepted extension that is not compiled yet keeps its window's inbound rule open in
`expire` (reported as stale, exit 1), on the embedded cloud."""
from __future__ import annotations

from tests.lifecycle.test_windows_e2e import sg_ports
from tests.policy.builders import approval, workspace

HTTPS = {"protocol": "tcp", "port": 443, "source": "0.0.0.0/0"}


def _ws(tmp_path, cli, monkeypatch):
    permanent = approval("BZ-P", approved_on="2026-06-01")
    permanent["zones"]["internet"]["inbound"] = [HTTPS]
    window = approval("BZ-W", approved_on="2026-06-01",
                      term={"kind": "window", "start": "2026-06-20", "end": "2026-07-19"},
                      servers=[{"name": "burst", "flavor": "ecs.s2m4", "image": "kylin-v10-sp3",
                                "system_disk": {"type": "blk.ssd", "gb": 40}, "count": 1}])
    window["zones"]["internet"]["inbound"] = [{"protocol": "tcp", "port": 8443, "source": "0.0.0.0/0"}]
    ws = workspace(tmp_path, "bozhou", permanent, window)
    assert cli("compile", "-C", ws).exit_code == 0
    monkeypatch.setenv("GOVCLOUD_TODAY", "2026-06-20")
    assert cli("apply", "-C", ws, "--auto-approve").exit_code == 0
    assert sg_ports(ws) == [443, 8443]
    return ws


def _sg_check(cli, ws, now):
    r = cli("verify-isolation", "-C", ws, "--no-probe", "--now", now, "--output", "json")
    return r, [c for c in r.json()["checks"] if c["check"] == "security-groups"]


def test_verify_isolation_counts_an_open_windows_rule_as_approved(tmp_path, cli, monkeypatch):
    ws = _ws(tmp_path, cli, monkeypatch)
    assert cli("plan", "-C", ws, "--detailed-exitcode").exit_code == 0        # plan: no changes
    r, sg = _sg_check(cli, ws, "2026-07-01")
    assert r.exit_code == 0 and sg and all(c["status"] == "PASS" for c in sg), sg
    # negative control: after the window the same rule is no longer approved
    r, sg = _sg_check(cli, ws, "2026-07-21")
    assert r.exit_code == 1 and any(c["status"] == "FAIL" and "not approved" in c["detail"] for c in sg)


def test_an_accepted_uncompiled_extension_keeps_the_inbound_rule_open(tmp_path, cli, monkeypatch):
    ws = _ws(tmp_path, cli, monkeypatch)
    monkeypatch.setenv("GOVCLOUD_TODAY", "2026-07-09")
    r = cli("extend", "BZ-W", "-C", ws, "--until", "2026-08-19", "--request-date", "2026-07-09")
    assert r.exit_code == 0, r.output
    monkeypatch.setenv("GOVCLOUD_TODAY", "2026-07-20")
    r = cli("expire", "-C", ws, "--backdated", "test", "--now", "2026-07-20T00:05", "--output", "json")
    assert r.exit_code == 1, r.output                   # the job's owner must recompile
    assert r.json()["rules"] == [] and sg_ports(ws) == [443, 8443]
    assert any("inbound rules stay open" in s["why"] for s in r.json()["stale"])
    # isolation agrees: the extended window's rule is approved until the new end
    r, sg = _sg_check(cli, ws, "2026-07-25")
    assert r.exit_code == 0 and all(c["status"] == "PASS" for c in sg), sg
    # compiled: the window ends at the extension, and expire then closes it
    assert cli("compile", "-C", ws).exit_code == 0
    monkeypatch.setenv("GOVCLOUD_TODAY", "2026-08-20")
    r = cli("expire", "-C", ws, "--backdated", "test", "--now", "2026-08-20T00:05", "--output", "json")
    assert r.exit_code == 0, r.output
    assert [x["port_min"] for x in r.json()["rules"][0]["closed"]] == [8443] and sg_ports(ws) == [443]


# --- contradictions refused (exit 1, field named, nothing changed) -------------------------------
def test_a_window_starting_before_its_approval_is_refused(tmp_path, cli):
    bad = approval("BZ-W", approved_on="2026-06-10",
                   term={"kind": "window", "start": "2026-06-01", "end": "2026-07-19"})
    ws = workspace(tmp_path, "bazhong", bad)
    r = cli("validate", "-C", ws)
    assert r.exit_code == 1 and "term.start" in r.output and "before its approval date" in r.output
    ok = approval("BZ-W", approved_on="2026-06-01",
                  term={"kind": "window", "start": "2026-06-01", "end": "2026-07-19"})
    assert cli("validate", "-C", workspace(tmp_path, "bazhong", ok, name="ok")).exit_code == 0


def test_an_exit_request_before_the_approval_is_refused(tmp_path, cli, monkeypatch):
    from tests.policy.builders import kinds
    ws = workspace(tmp_path, "bazhong", approval("BZ-P", approved_on="2026-06-01"))
    monkeypatch.setenv("GOVCLOUD_TODAY", "2026-07-01")
    r = cli("request-exit", "BZ-P", "-C", ws, "--date", "2026-05-31")
    assert r.exit_code == 1 and "--date" in r.output and "before BZ-P was approved" in r.output
    assert "exit-requested" not in kinds(ws, "BZ-P")
    assert cli("request-exit", "BZ-P", "-C", ws, "--date", "2026-06-01").exit_code == 0


def test_an_exit_before_the_confirmed_start_is_refused(tmp_path, cli, monkeypatch):
    # 大同 bills from the delivery confirmation (交付确认): an exit dated before it ends a service
    # that had not started; refused naming the file and --date, nothing recorded
    from tests.policy.builders import kinds
    ws = workspace(tmp_path, "datong", approval("DT-P", approved_on="2026-06-01"))
    monkeypatch.setenv("GOVCLOUD_TODAY", "2026-06-10")
    assert cli("compile", "-C", ws).exit_code == 0
    assert cli("apply", "-C", ws, "--auto-approve").exit_code == 0
    monkeypatch.setenv("GOVCLOUD_TODAY", "2026-07-01")
    assert cli("confirm-delivery", "DT-P", "-C", ws, "--date", "2026-06-15").exit_code == 0
    for cmd in ("request-exit", "approve-exit"):
        r = cli(cmd, "DT-P", "-C", ws, "--date", "2026-06-12")
        assert r.exit_code == 1, r.output
        assert "approvals/DT-P.yaml" in r.output and "--date" in r.output
        assert "before DT-P's confirmed start (delivery-confirmed on 2026-06-15)" in r.output
    assert "exit-requested" not in kinds(ws, "DT-P")
    # negative control: on the confirmed start day the request is recorded
    assert cli("request-exit", "DT-P", "-C", ws, "--date", "2026-06-15").exit_code == 0, \
        cli("request-exit", "DT-P", "-C", ws, "--date", "2026-06-15").output
    assert "exit-requested" in kinds(ws, "DT-P")


# --- plan never reports "No changes" over stale inputs --------------------------------------------
def test_plan_compiles_changed_inputs_first_and_refuses_what_validate_refuses(tmp_path, cli, monkeypatch):
    from tests.policy.builders import write
    base = approval("BZ-P", approved_on="2026-06-01")
    ws = workspace(tmp_path, "bazhong", base)
    monkeypatch.setenv("GOVCLOUD_TODAY", "2026-06-10")
    assert cli("compile", "-C", ws).exit_code == 0
    assert cli("apply", "-C", ws, "--auto-approve").exit_code == 0
    assert cli("plan", "-C", ws, "--detailed-exitcode").exit_code == 0
    # a second approval appears: plan compiles it first and shows the changes
    write(ws, approval("BZ-Q", approved_on="2026-06-01", system="sys-q"))
    r = cli("plan", "-C", ws, "--detailed-exitcode")
    assert r.exit_code == 2 and "compiled first" in r.output, r.output
    # an input validate refuses: plan refuses too, nothing else said
    write(ws, approval("BZ-Q", approved_on="2026-06-01", system="sys-q",
                       servers=[{"name": "x", "flavor": "no-such-flavor", "image": "kylin-v10-sp3",
                                 "system_disk": {"type": "blk.ssd", "gb": 40}, "count": 1}]))
    r = cli("plan", "-C", ws)
    assert r.exit_code == 1 and "no-such-flavor" in r.output and "No changes" not in r.output
