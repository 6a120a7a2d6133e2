"""verify-isolation on the embedded cloud: what it cannot check is an N/A row and the summary
says how many checks were not performed (N/A is never a pass); names are printed in full."""
from __future__ import annotations

from tests.conftest import run_cli


def test_no_probe_and_unanswerable_checks_are_n_a_rows_not_passes(tmp_path):
    ws = tmp_path / "ws"
    assert run_cli("init", str(ws)).exit_code == 0
    assert run_cli("compile", "-C", str(ws)).exit_code == 0
    assert run_cli("apply", "--auto-approve", "-C", str(ws)).exit_code == 0
    rep = run_cli("verify-isolation", "-C", str(ws), "--no-probe", "--output", "json").json()
    rows = {(c["check"], c["status"]) for c in rep["checks"]}
    assert {("cross-project", "N/A"), ("reachability", "N/A"), ("role-assignments", "N/A"),
            ("rbac-policies", "N/A"), ("default-security-group", "N/A"),
            ("external-access", "N/A")} <= rows
    # what the embedded cloud does model it surveys: a PASS saying what it looked at
    assert {("foreign-routers", "PASS"), ("network-ports", "PASS"),
            ("port-security-groups", "PASS")} <= rows
    na = sum(c["status"] == "N/A" for c in rep["checks"])
    assert rep["passed"] and rep["counts"]["not_performed"] == na > 0
    assert rep["counts"]["pass"] == sum(c["status"] == "PASS" for c in rep["checks"])
    assert rep["summary"] == f"passed with {na} checks not performed"
    text = run_cli("verify-isolation", "-C", str(ws), "--no-probe")
    assert text.exit_code == 0 and f"passed with {na} checks not performed" in text.output
    assert "0 not applicable" not in text.output
    # every subject in full, on its own line (the table cut them at 80 columns)
    for c in rep["checks"]:
        assert c["subject"] in text.output
    # with probes the local driver still cannot probe: N/A, not a pass
    rep = run_cli("verify-isolation", "-C", str(ws), "--output", "json").json()
    assert ("cross-project", "N/A") in {(c["check"], c["status"]) for c in rep["checks"]}
    assert "not performed" in rep["summary"]
