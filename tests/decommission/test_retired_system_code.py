"""A decommissioned system code stays retired (issue 16, item 8): a new approval for it is
refused by plan and apply, naming the approval and the field (it was silently ignored: "No
changes" while status said OVERDUE); the same approval under a new system code is provisioned."""
from __future__ import annotations

from pathlib import Path

from orchestrator.usecases.init import init_workspace
from tests.faulty_govcloud import run as gc


def test_a_new_approval_for_a_decommissioned_system_is_refused_and_a_new_code_works(tmp_path):
    ws = tmp_path / "ws"
    init_workspace(ws, "bozhou")
    assert gc(ws, "compile").returncode == 0
    assert gc(ws, "apply", "--auto-approve").returncode == 0
    assert gc(ws, "request-exit", "BZ-2026-0012").returncode == 0
    r = gc(ws, "decommission", "edu-portal", "--auto-approve")
    assert r.returncode == 0, r.stdout + r.stderr
    assert gc(ws, "plan", "--detailed-exitcode").returncode == 0   # negative control: clean
    old = ws / "approvals" / "BZ-2026-0012.yaml"
    src = old.read_text(encoding="utf-8")
    old.unlink()             # the exit is done: its approval may leave the repository
    again = ws / "approvals" / "BZ-2026-0077.yaml"
    again.write_text(src.replace("BZ-2026-0012", "BZ-2026-0077"), encoding="utf-8")
    assert gc(ws, "compile").returncode == 0
    for cmd in (["plan"], ["apply", "--auto-approve"]):
        r = gc(ws, *cmd)
        assert r.returncode == 1, r.stdout + r.stderr
        out = r.stdout + r.stderr
        assert "approval BZ-2026-0077: system.code" in out and "decommissioned" in out, out
        assert "new system code" in out
    # under a new system code it is a new system
    again.write_text(src.replace("BZ-2026-0012", "BZ-2026-0077")
                     .replace("code: edu-portal", "code: edu-portal2"), encoding="utf-8")
    assert gc(ws, "compile").returncode == 0
    r = gc(ws, "apply", "--auto-approve")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "edu-portal2" in r.stdout
    assert gc(ws, "plan", "--detailed-exitcode").returncode == 0
