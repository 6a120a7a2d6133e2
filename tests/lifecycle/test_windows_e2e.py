"""A temporary window end to end on the embedded cloud, through the CLI, with a settable clock:
before the start nothing is created; at the start the servers appear and the quota is raised;
an extension is refused, then accepted; at the (extended) end `expire` removes the servers,
lowers the quota, records events and audit entries; the next plan is a no-op."""
from __future__ import annotations

import json

from tests.clock import at
from tests.conftest import cloud_rows
from tests.policy.builders import approval, events, kinds, workspace

PERMANENT = approval("BZ-P", approved_on="2026-06-01", servers=[{
    "name": "web", "flavor": "ecs.s2m4", "image": "kylin-v10-sp3",
    "system_disk": {"type": "blk.ssd", "gb": 40}, "count": 1}])
WINDOW = approval("BZ-W", approved_on="2026-06-01",
                  term={"kind": "window", "start": "2026-06-20", "end": "2026-07-19"},
                  servers=[{"name": "burst", "flavor": "ecs.s4m8", "image": "kylin-v10-sp3",
                            "system_disk": {"type": "blk.ssd", "gb": 40},
                            "data_disks": [{"type": "blk.ssd", "gb": 20}], "count": 2}])
PRE = "local/edu/edu-portal-internet"


def burst(ws):
    return sorted(r[2] for r in cloud_rows(ws) if r[1] == "server" and "/burst-" in (r[2] or ""))


def quota(ws):
    rows = [r for r in cloud_rows(ws) if r[1] == "quota"]
    return json.loads(rows[0][4])


def plan(cli, ws, day):
    r = cli("plan", "-C", ws, "--now", day, "--output", "json")
    assert r.exit_code == 0, r.output
    return {a["address"]: a for a in r.json()["actions"]}


def test_window_lifecycle_on_the_local_cloud(tmp_path, cli, monkeypatch):
    ws = workspace(tmp_path, "bozhou", PERMANENT, WINDOW)
    assert cli("compile", "-C", ws).exit_code == 0

    # Before the start: the window's servers are scheduled, nothing of them is created.
    monkeypatch.setenv("GOVCLOUD_TODAY", "2026-06-10")
    acts = plan(cli, ws, "2026-06-10")
    assert acts[f"server:{PRE}/burst-1"]["action"] == "no-op"
    assert acts[f"server:{PRE}/burst-1"]["reason"] == "scheduled: its window starts 2026-06-20"
    assert cli("apply", "-C", ws, "--auto-approve").exit_code == 0
    assert burst(ws) == [] and quota(ws)["instances"] == 1 and quota(ws)["cores"] == 2
    assert kinds(ws, "BZ-P") == ["approved", "provisioned"]
    assert kinds(ws, "BZ-W") == ["approved"]                      # not provisioned before its start
    assert cli("plan", "-C", ws, "--detailed-exitcode").exit_code == 0

    # At the start: created, and the quota raised for the window.
    monkeypatch.setenv("GOVCLOUD_TODAY", "2026-06-20")
    acts = plan(cli, ws, "2026-06-20")
    q = acts[f"quota:{PRE}/quota"]
    assert q["action"] == "update" and q["changes"]["instances"] == {"old": 1, "new": 3}
    assert "raised for BZ-W (2026-06-20 to 2026-07-19)" in q["reason"]
    assert cli("apply", "-C", ws, "--auto-approve").exit_code == 0
    assert burst(ws) == [f"server:{PRE}/burst-1", f"server:{PRE}/burst-2"]
    assert quota(ws)["instances"] == 3 and quota(ws)["cores"] == 10
    assert [(e["kind"], e["on"]) for e in events(ws, "BZ-W")] == [
        ("approved", "2026-06-01"), ("provisioned", "2026-06-20")]

    # Extension refused: 6 working days before the end (亳州 第二十二条 asks for 7).
    monkeypatch.setenv("GOVCLOUD_TODAY", "2026-07-10")
    r = cli("extend", "BZ-W", "-C", ws, "--until", "2026-08-19", "--request-date", "2026-07-10")
    assert r.exit_code == 1 and "第二十二条" in r.output and "Nothing was changed." in r.output
    assert not (ws / "extensions").exists() and "extended" not in kinds(ws, "BZ-W")
    # Extension accepted: requested on 2026-07-09, exactly 7 working days ahead.
    r = cli("extend", "BZ-W", "-C", ws, "--until", "2026-08-19", "--request-date", "2026-07-09")
    assert r.exit_code == 0, r.output
    assert "now ends on 2026-08-19" in r.output and (ws / "extensions" / "BZ-W.yaml").is_file()
    assert "extended" in kinds(ws, "BZ-W")

    # At the old end, before recompiling: expire refuses to remove what was extended.
    monkeypatch.setenv("GOVCLOUD_TODAY", "2026-07-20")
    r = cli("expire", "-C", ws, "--backdated", "test", "--now", "2026-07-20T00:05")
    assert r.exit_code == 1 and "run `govcloud compile`" in r.output
    assert len(burst(ws)) == 2
    # Recompiled: the spec carries the new end; nothing to expire, nothing to plan.
    assert cli("compile", "-C", ws).exit_code == 0
    spec = (ws / "stacks" / "edu" / "edu-portal.yaml").read_text()
    assert "expires_on: '2026-08-20'" in spec and "extended_until: '2026-08-19'" in spec
    r = cli("expire", "-C", ws, "--backdated", "test", "--now", "2026-07-20T00:05")
    assert r.exit_code == 0 and "Nothing to expire" in r.output
    assert cli("plan", "-C", ws, "--now", "2026-07-20", "--detailed-exitcode").exit_code == 0

    # At the extended end: a guard, a dry run, then the job.
    monkeypatch.setenv("GOVCLOUD_TODAY", "2026-08-20")
    r = cli("expire", "-C", ws, "--backdated", "test", "--now", "2026-08-20T00:05", "--max-deletes", "3")
    assert r.exit_code == 1 and "more than --max-deletes 3" in r.output and len(burst(ws)) == 2
    r = cli("expire", "-C", ws, "--now", "2026-08-20T00:05", "--dry-run", "--output", "json")
    assert r.exit_code == 0 and len(r.json()["deletes"]) == 6 and len(burst(ws)) == 2
    assert "expired" not in kinds(ws, "BZ-W")
    r = cli("expire", "-C", ws, "--backdated", "test", "--now", "2026-08-20T00:05", "--output", "json")
    assert r.exit_code == 0, r.output
    rep = r.json()
    assert sorted(d["address"] for d in rep["deletes"]) == sorted(
        [f"server:{PRE}/burst-{i}" for i in (1, 2)] + [f"volume:{PRE}/burst-{i}-data1" for i in (1, 2)]
        + [f"volume_attachment:{PRE}/burst-{i}-data1" for i in (1, 2)])
    assert rep["quota"][0]["changes"]["instances"] == {"old": 3, "new": 1}
    assert rep["expired"] == ["BZ-W"] and rep["failed"] == 0
    assert sorted(rep["data_holding"]) == [f"server:{PRE}/burst-1", f"server:{PRE}/burst-2",
                                           f"volume:{PRE}/burst-1-data1", f"volume:{PRE}/burst-2-data1"]
    assert burst(ws) == [] and quota(ws)["instances"] == 1 and quota(ws)["cores"] == 2
    assert [e for e in events(ws, "BZ-W") if e["kind"] == "expired"][0]["on"] == "2026-08-20"
    audit = cli("audit", "list", "-C", ws, "--last", "0", "--output", "json").json()["entries"]
    actions = [e["action"] for e in audit]
    assert actions.count("expire-start") == 1 and actions.count("expire-end") == 1
    assert cli("audit", "verify", "-C", ws).exit_code == 0
    # The permanent system is untouched; the next plan is a no-op; expire is idempotent.
    assert len([r for r in cloud_rows(ws) if "/web-1" in (r[2] or "")]) == 1
    assert cli("plan", "-C", ws, "--detailed-exitcode").exit_code == 0
    r = cli("expire", "-C", ws, "--backdated", "test", "--now", "2026-08-20T00:10")
    assert r.exit_code == 0 and "Nothing to expire" in r.output
    assert kinds(ws, "BZ-W").count("expired") == 1
    st = cli("status", "-C", ws, "--output", "json").json()
    assert {a["approval_no"]: a["state"] for a in st["approvals"]} == {"BZ-P": "provisioned",
                                                                      "BZ-W": "expired"}


def test_expire_removes_only_window_resources_never_other_deletes(tmp_path, cli, monkeypatch):
    ws = workspace(tmp_path, "bozhou", PERMANENT, WINDOW)
    cli("compile", "-C", ws)
    monkeypatch.setenv("GOVCLOUD_TODAY", "2026-06-20")
    assert cli("apply", "-C", ws, "--auto-approve").exit_code == 0
    # The permanent approval is withdrawn (its deletes wait for a reviewed apply), the window ends.
    (ws / "approvals" / "BZ-P.yaml").unlink()
    cli("compile", "-C", ws)
    r = cli("expire", "-C", ws, "--output", "json", env=at("2026-07-20"))
    assert r.exit_code == 0, r.output
    deleted = {d["address"] for d in r.json()["deletes"]}
    assert deleted and all("/burst-" in a or a.startswith(("project:", "network:", "subnet:",
                                                           "router:", "security_group:", "quota:"))
                           for a in deleted)
    assert not any("/web-1" in a for a in deleted)
    held = {h["address"] for h in r.json()["held"]}
    assert f"network:{PRE}/net" in held and f"security_group:{PRE}/sg" in held
    assert [r for r in cloud_rows(ws) if "/web-1" in (r[2] or "")]


def test_expire_never_touches_objects_it_does_not_own(tmp_path, cli, monkeypatch):
    from orchestrator.workspace import Workspace
    from drivers.local.driver import LocalDriver
    from orchestrator.models.cloud import Request
    ws = workspace(tmp_path, "bozhou", PERMANENT, WINDOW)
    cli("compile", "-C", ws)
    monkeypatch.setenv("GOVCLOUD_TODAY", "2026-06-20")
    cli("apply", "-C", ws, "--auto-approve")
    w = Workspace.at(ws)
    d = LocalDriver("local", {}, w.root, "ws-000000000000")     # another workspace's object
    d.create(Request("domain:local/decoy", "domain", "decoy", {"name": "decoy", "description": "x"},
                     {}, {"govcloud.workspace": "ws-000000000000",
                          "govcloud.address": "domain:local/decoy"}))
    d.close()
    r = cli("expire", "-C", ws, "--output", "json", env=at("2026-07-20"))
    assert r.exit_code == 0
    assert not [x for x in r.json()["deletes"] if "decoy" in x["address"]]
    assert [r for r in cloud_rows(ws) if r[2] == "domain:local/decoy"]


def sg_ports(ws) -> list[int]:
    row = [r for r in cloud_rows(ws) if r[1] == "security_group"][0]
    return sorted(x["port_min"] for x in json.loads(row[4])["rules"])


def test_window_inbound_rules_open_with_it_and_close_when_it_ends(tmp_path, cli, monkeypatch):
    https = {"protocol": "tcp", "port": 443, "source": "0.0.0.0/0"}
    permanent = approval("BZ-P", approved_on="2026-06-01")
    permanent["zones"]["internet"]["inbound"] = [https]
    window = approval("BZ-W", approved_on="2026-06-01",
                      term={"kind": "window", "start": "2026-06-20", "end": "2026-07-19"},
                      servers=[{"name": "burst", "flavor": "ecs.s2m4", "image": "kylin-v10-sp3",
                                "system_disk": {"type": "blk.ssd", "gb": 40}, "count": 1}])
    # the window's own port, and one the permanent approval grants anyway (it must stay)
    window["zones"]["internet"]["inbound"] = [{"protocol": "tcp", "port": 8443,
                                               "source": "0.0.0.0/0"}, https]
    ws = workspace(tmp_path, "bozhou", permanent, window)
    assert cli("compile", "-C", ws).exit_code == 0

    monkeypatch.setenv("GOVCLOUD_TODAY", "2026-06-10")
    assert cli("apply", "-C", ws, "--auto-approve").exit_code == 0
    assert sg_ports(ws) == [443]                        # not open before the window
    base_rules = quota(ws)["security_group_rules"]

    monkeypatch.setenv("GOVCLOUD_TODAY", "2026-06-20")
    sg = plan(cli, ws, "2026-06-20")[f"security_group:{PRE}/sg"]
    assert sg["action"] == "update" and "opened for BZ-W (2026-06-20 to 2026-07-19)" in sg["reason"]
    assert cli("apply", "-C", ws, "--auto-approve").exit_code == 0
    assert sg_ports(ws) == [443, 8443]
    assert quota(ws)["security_group_rules"] == base_rules + 1
    assert cli("plan", "-C", ws, "--detailed-exitcode").exit_code == 0

    # The day the window ends: the expiry job closes the window's port, keeps the permanent one.
    monkeypatch.setenv("GOVCLOUD_TODAY", "2026-07-20")
    r = cli("expire", "-C", ws, "--now", "2026-07-20T00:05", "--dry-run", "--output", "json")
    assert r.exit_code == 0, r.output
    closing = r.json()["rules"]
    assert [x["address"] for x in closing] == [f"security_group:{PRE}/sg"]
    assert [x["port_min"] for x in closing[0]["closed"]] == [8443] and sg_ports(ws) == [443, 8443]
    r = cli("expire", "-C", ws, "--backdated", "test", "--now", "2026-07-20T00:05")
    assert r.exit_code == 0, r.output
    assert "close security_group:" in r.output and "tcp/8443 from 0.0.0.0/0" in r.output
    assert sg_ports(ws) == [443]
    assert quota(ws)["security_group_rules"] == base_rules
    assert "expired" in kinds(ws, "BZ-W")
    assert cli("plan", "-C", ws, "--detailed-exitcode").exit_code == 0
    r = cli("expire", "-C", ws, "--backdated", "test", "--now", "2026-07-20T00:10")
    assert r.exit_code == 0 and "Nothing to expire" in r.output
