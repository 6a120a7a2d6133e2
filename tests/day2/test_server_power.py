"""`govcloud server stop|start|reboot`: approved, owned servers only; audited."""
from __future__ import annotations

from tests.conftest import cloud_rows

P = "local/edu/edu-portal-internet"


def _status(ws, address):
    return next(r[3] for r in cloud_rows(ws) if r[2] == address)


def test_stop_start_reboot_change_the_server_and_are_audited(applied_ws, cli):
    ws, srv = applied_ws, f"server:{P}/web-1"
    r = cli("server", "stop", srv, "-C", ws, "--output", "json")
    assert r.exit_code == 0, r.output
    assert r.json()["status_before"] == "ACTIVE" and r.json()["status"] == "SHUTOFF"
    assert _status(ws, srv) == "SHUTOFF" and _status(ws, f"server:{P}/web-2") == "ACTIVE"
    assert cli("plan", "-C", ws, "--detailed-exitcode").exit_code == 0   # a stopped server is no drift
    assert cli("server", "start", srv, "-C", ws).exit_code == 0
    assert _status(ws, srv) == "ACTIVE"
    r = cli("server", "reboot", srv, "-C", ws, "--output", "json")
    assert r.json()["status"] == "ACTIVE"
    entries = cli("audit", "list", "-C", ws, "--output", "json").json()["entries"]
    assert [e["action"] for e in entries if e["target"] == srv][-3:] == [
        "server-stop", "server-start", "server-reboot"]


def test_power_is_refused_for_unowned_unknown_and_orphaned_servers(applied_ws, cli, tmp_path):
    ws = applied_ws
    assert cli("server", "stop", f"volume:{P}/web-1-data1", "-C", ws).exit_code == 1
    assert cli("server", "stop", f"server:{P}/web-9", "-C", ws).exit_code == 1
    # another workspace's driver cannot stop our server (NotOwned), even by cloud id
    from drivers.base import NotOwned, driver_class
    from orchestrator.workspace import Workspace
    w = Workspace.at(ws)
    other = driver_class("local")("local", {}, w.root, "ws-ffffffffffff")
    me = driver_class("local")("local", {}, w.root, w.config.workspace.id)
    obj = me.find(f"server:{P}/web-1")
    try:
        other.set_power(obj, "SHUTOFF")
        raise AssertionError("another workspace stopped our server")
    except NotOwned:
        pass
    assert _status(ws, f"server:{P}/web-1") == "ACTIVE"
    # an orphaned system (approval removed): only the exit process may take it offline
    (ws / "approvals" / "BZ-2026-0012.yaml").unlink()
    assert cli("compile", "-C", ws).exit_code == 0
    r = cli("server", "stop", f"server:{P}/web-1", "-C", ws)
    assert r.exit_code == 1 and "no approved system" in r.output
    assert _status(ws, f"server:{P}/web-1") == "ACTIVE"
