"""The user's path on an EC2-compatible cloud (a real moto server): compile, plan, apply, change,
no-op plan, removal, refusals, and credentials that never leave the environment."""
from __future__ import annotations

import json
import sqlite3

from tests.clock import at
from tests.conftest import amend
from tests.libcloud.moto_server import KEY_ID, SECRET, raw_ec2


def _owned(ws, kind_action="DescribeVpcs", path="vpcSet/item"):
    from drivers.base import OWNER_TAG
    from drivers.libcloud.driver import LibcloudDriver
    from drivers.libcloud.ec2xml import items
    from orchestrator.workspace import Workspace
    owner = Workspace.at(ws).config.workspace.id
    body = raw_ec2().connection.request("/", params={
        "Action": kind_action, **LibcloudDriver.filters({f"tag:{OWNER_TAG}": owner})}).object
    return items(body, path)


def test_apply_change_then_no_op_plan_and_drift_put_back(aws_ws, cli):
    assert cli("validate", "-C", aws_ws).exit_code == 0
    assert cli("compile", "-C", aws_ws).exit_code == 0
    spec = (aws_ws / "stacks" / "edu" / "edu-portal.yaml").read_text(encoding="utf-8")
    assert "kind: domain" not in spec and "kind: quota" not in spec and "cidr:" in spec
    r = cli("plan", "-C", aws_ws, "--detailed-exitcode")
    # The vpc layout has no domain and no quotas: 2 VPCs with their networks, subnets, routers
    # and groups (10), then the servers, volumes, attachments and the elastic IP (12).
    assert r.exit_code == 2 and "Plan: 22 to create" in r.output, r.output
    r = cli("apply", "-C", aws_ws, "--auto-approve")
    assert r.exit_code == 0 and "22 steps done, 0 failed" in r.output, r.output[-3000:]
    assert len(_owned(aws_ws)) == 2                        # one VPC per system per zone
    assert cli("plan", "-C", aws_ws, "--detailed-exitcode").exit_code == 0

    amend(aws_ws / "approvals" / "BZ-2026-0012.yaml",
              lambda d: d["zones"]["internet"]["servers"][0].update(count=3))
    cli("compile", "-C", aws_ws)
    plan = cli("plan", "-C", aws_ws, "--output", "json").json()
    changing = {(a["action"], a["address"]) for a in plan["actions"] if a["action"] != "no-op"}
    pre = "aws/edu/edu-portal-internet"
    assert changing == {("create", f"server:{pre}/web-3"), ("create", f"volume:{pre}/web-3-data1"),
                        ("create", f"volume_attachment:{pre}/web-3-data1")}
    r = cli("apply", "-C", aws_ws, "--auto-approve")
    assert r.exit_code == 0, r.output[-2000:]
    r = cli("plan", "-C", aws_ws, "--detailed-exitcode")
    assert r.exit_code == 0 and "No changes" in r.output, r.output[-2000:]

    # Drift outside govcloud is planned back: someone opens SSH on a group.
    from drivers.libcloud.ec2xml import text
    gid = text(_owned(aws_ws, "DescribeSecurityGroups", "securityGroupInfo/item")[0], "groupId")
    raw_ec2().ex_authorize_security_group_ingress(gid, 22, 22, ["0.0.0.0/0"])
    plan = cli("plan", "-C", aws_ws, "--output", "json").json()
    upd = [a for a in plan["actions"] if a["action"] != "no-op"]
    assert [(a["action"], a["kind"]) for a in upd] == [("update", "security_group")]
    assert {"protocol": "tcp", "port_min": 22, "port_max": 22, "direction": "ingress",
            "remote_ip_prefix": "0.0.0.0/0"} in upd[0]["changes"]["rules"]["old"]
    assert cli("apply", "-C", aws_ws, "--auto-approve").exit_code == 0
    assert cli("plan", "-C", aws_ws, "--detailed-exitcode").exit_code == 0


def test_removed_zone_is_deleted_in_dependency_order(aws_ws, cli):
    cli("compile", "-C", aws_ws)
    assert cli("apply", "-C", aws_ws, "--auto-approve").exit_code == 0
    assert len(_owned(aws_ws)) == 2
    amend(aws_ws / "approvals" / "BZ-2026-0012.yaml", lambda d: d["zones"].pop("extranet"))
    cli("compile", "-C", aws_ws)
    plan = cli("plan", "-C", aws_ws, "--output", "json").json()
    deletes = [a["address"] for a in plan["actions"] if a["action"] == "delete"]
    assert deletes and all("edu-portal-extranet" in d for d in deletes)
    r = cli("apply", "-C", aws_ws, "--auto-approve")
    assert r.exit_code == 0 and "0 failed" in r.output, r.output[-3000:]
    from drivers.libcloud.ec2xml import tags
    vpcs = _owned(aws_ws)
    assert [tags(v)["govcloud.address"] for v in vpcs] == ["project:aws/edu/edu-portal-internet"]
    for action, path in (("DescribeVolumes", "volumeSet/item"),
                         ("DescribeSubnets", "subnetSet/item"),
                         ("DescribeRouteTables", "routeTableSet/item"),
                         ("DescribeInternetGateways", "internetGatewaySet/item"),
                         ("DescribeSecurityGroups", "securityGroupInfo/item"),
                         ("DescribeAddresses", "addressesSet/item")):
        assert not any("-extranet" in tags(i).get("govcloud.address", "") +
                       tags(i).get("govcloud.root-of", "") for i in _owned(aws_ws, action, path))
    assert cli("plan", "-C", aws_ws, "--detailed-exitcode").exit_code == 0


def test_openstack_layout_on_an_ec2_target_is_refused_before_any_change(aws_ws, cli):
    cfg = aws_ws / "govcloud.toml"
    cfg.write_text(cfg.read_text(encoding="utf-8").replace(
        'provider = "ec2"', 'provider = "ec2"\nlayout = "openstack"'), encoding="utf-8")
    assert cli("compile", "-C", aws_ws).exit_code == 0
    r = cli("plan", "-C", aws_ws)
    assert r.exit_code == 1
    assert "cannot hold what the specs need" in r.output
    assert "no support for aws: domain" in r.output and "no support for aws: quota" in r.output
    assert 'layout = "vpc"' in r.output.replace("\n", " ").replace("  ", " ") or "layout" in r.output
    r = cli("apply", "-C", aws_ws, "--auto-approve")
    assert r.exit_code == 1
    assert _owned(aws_ws) == []
    assert _owned(aws_ws, "DescribeVolumes", "volumeSet/item") == []


def test_credentials_come_from_the_environment_and_are_never_written(aws_ws, cli, monkeypatch):
    cli("compile", "-C", aws_ws)
    outputs = []
    for args in (("plan", "-o", aws_ws / "p.plan.json"), ("plan", "--output", "json"),
                 ("apply", aws_ws / "p.plan.json"), ("plan", "--output", "markdown"),
                 ("state", "list"), ("audit", "list")):
        r = cli(*args, "-C", aws_ws)
        assert r.exit_code == 0, r.output[-2000:]
        outputs.append(r.output)
    blobs = [p.read_bytes() for p in aws_ws.rglob("*") if p.is_file()]
    db = sqlite3.connect(aws_ws / ".govcloud" / "state.db")
    blobs += [json.dumps(row, default=str).encode() for table in ("resources", "audit")
              for row in db.execute(f"SELECT * FROM {table}")]
    assert len(db.execute("SELECT * FROM audit").fetchall()) > 10
    for secret in (SECRET, KEY_ID):
        assert not any(secret.encode() in b for b in blobs), f"{secret} written to a file"
        assert not any(secret in o for o in outputs), f"{secret} in CLI output"
    # Without the environment variables the target does not open, and says which ones to set.
    monkeypatch.delenv("GOVCLOUD_TEST_EC2_SECRET")
    r = cli("plan", "-C", aws_ws)
    assert r.exit_code == 1 and "GOVCLOUD_TEST_EC2_SECRET" in r.output
    assert "Traceback" not in r.output


def test_a_credential_in_govcloud_toml_is_refused(aws_ws, cli):
    cfg = aws_ws / "govcloud.toml"
    cfg.write_text(cfg.read_text(encoding="utf-8").replace(
        'provider = "ec2"', 'provider = "ec2"\nsecret_key = "hunter2"'), encoding="utf-8")
    cli("compile", "-C", aws_ws)
    r = cli("plan", "-C", aws_ws)
    assert r.exit_code == 1 and "credentials never go in govcloud.toml" in r.output
    assert "hunter2" not in r.output


def test_decommission_on_moto_leaves_nothing_owned(aws_ws, cli):
    """The decommission workflow (another issue's command) end to end on the EC2 target."""
    cli("compile", "-C", aws_ws)
    assert cli("apply", "-C", aws_ws, "--auto-approve").exit_code == 0
    assert cli("request-exit", "BZ-2026-0012", "-C", aws_ws).exit_code == 0   # 巴中 第二十二条
    r = cli("decommission", "edu-portal", "-C", aws_ws, "--auto-approve", "--operator", "tester")
    assert r.exit_code == 0 and "servers_stopped=4" in r.output, r.output[-2000:]
    r = cli("decommission", "edu-portal", "-C", aws_ws, "--auto-approve", "--resume",
            "--operator", "tester", env=at("2027-06-01"))
    assert r.exit_code == 0 and "Decommissioned edu/edu-portal" in r.output, r.output[-2000:]
    for action, path in (("DescribeVpcs", "vpcSet/item"), ("DescribeVolumes", "volumeSet/item"),
                         ("DescribeSubnets", "subnetSet/item"),
                         ("DescribeSecurityGroups", "securityGroupInfo/item"),
                         ("DescribeInternetGateways", "internetGatewaySet/item"),
                         ("DescribeRouteTables", "routeTableSet/item"),
                         ("DescribeAddresses", "addressesSet/item")):
        assert _owned(aws_ws, action, path) == [], action
    from drivers.libcloud.ec2xml import items, text
    live = [i for res in _owned(aws_ws, "DescribeInstances", "reservationSet/item")
            for i in items(res, "instancesSet/item") if text(i, "instanceState/name") != "terminated"]
    assert live == []


def test_decommission_census_on_moto_names_untagged_snapshots_of_the_systems_volumes(aws_ws, cli):
    """A snapshot EC2 keeps of a data volume and one of a server's root volume, taken by hand
    (untagged: EC2 copies no tag of the volume's) before the exit: the census step fails naming
    both, the certificate is not issued, and after they are deleted the resumed run finishes."""
    from drivers.base import STACK_TAG
    from drivers.libcloud.common import ROOT_OF_TAG
    from drivers.libcloud.ec2xml import tags, text
    cli("compile", "-C", aws_ws)
    assert cli("apply", "-C", aws_ws, "--auto-approve").exit_code == 0
    assert cli("request-exit", "BZ-2026-0012", "-C", aws_ws).exit_code == 0
    vols = [(text(v, "volumeId"), tags(v)) for v in _owned(aws_ws, "DescribeVolumes", "volumeSet/item")]
    data = next(v for v, t in vols if t.get(STACK_TAG) == "edu/edu-portal")
    root = next(v for v, t in vols if "/edu-portal-" in t.get(ROOT_OF_TAG, ""))
    ec2 = raw_ec2()
    snaps = [text(ec2.connection.request("/", params={"Action": "CreateSnapshot", "VolumeId": v}).object,
                  "snapshotId") for v in (data, root)]
    run = ("decommission", "edu-portal", "-C", aws_ws, "--auto-approve", "--operator", "tester")
    assert cli(*run).exit_code == 0                                    # held: 巴中 第二十二条
    r = cli(*run, "--resume", env=at("2027-06-01"))
    assert r.exit_code == 1 and "census found 2 objects of edu/edu-portal left" in r.output, r.output[-2000:]
    assert all(f"aws: snapshot {s}" in r.output for s in snaps), r.output[-2000:]
    assert not (aws_ws / "certificates").exists() or not list((aws_ws / "certificates").iterdir())
    for s in snaps:
        ec2.connection.request("/", params={"Action": "DeleteSnapshot", "SnapshotId": s})
    r = cli(*run, "--resume", env=at("2027-06-01"))
    assert r.exit_code == 0 and "Decommissioned edu/edu-portal" in r.output, r.output[-2000:]
