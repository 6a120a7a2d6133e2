"""verify_isolation (drivers/libcloud/isolation.py) on an applied workspace in moto: clean, then
each kind of breach made outside govcloud is found; alternate credentials (another account,
through STS AssumeRole) see nothing, and the primary's own credentials as "alternate" are caught."""
from __future__ import annotations

import os

import pytest

from drivers.libcloud.common import GROUPS, ROUTE_TABLES, VPCS
from drivers.libcloud.ec2xml import tags, text
from orchestrator.workspace import Workspace
from tests.conftest import run_cli
from tests.libcloud.moto_server import KEY_ID, SECRET, endpoint, raw_ec2, workspace


@pytest.fixture(scope="module")
def applied(tmp_path_factory):
    ws = workspace(tmp_path_factory.mktemp("iso"))
    (ws / "approvals" / "BZ-2026-0031.yaml").unlink()
    assert run_cli("compile", "-C", ws).exit_code == 0
    r = run_cli("apply", "-C", ws, "--auto-approve")
    assert r.exit_code == 0, r.output[-2000:]
    return ws


@pytest.fixture
def check(applied):
    from orchestrator.usecases.session import open_drivers
    w = Workspace.at(applied)
    desired = [r for s in w.load_specs() for r in s.resources]
    drivers = open_drivers(w, {"aws"})

    def run(**kw):
        return drivers["aws"].ex_verify_isolation(desired, **kw)
    yield run
    drivers.close()


def _vpcs(drv):
    return {tags(v)["govcloud.address"].rsplit("/", 1)[1]: v for v in VPCS.list_owned(drv)}


def _req(**params):
    return raw_ec2().connection.request("/", params=params).object


def test_an_applied_workspace_is_isolated(check):
    rep = check()
    assert rep.ok, [str(f) for f in rep.findings]
    assert rep.checked["routes"] >= 4 and rep.checked["security_groups"] == 2
    assert rep.checked["placement"] >= 8 and rep.checked["peerings"] == 0


def test_a_peering_between_zones_and_a_route_through_it_are_found(applied, check):
    from orchestrator.usecases.session import open_drivers
    drv = open_drivers(Workspace.at(applied), {"aws"})["aws"]
    vpcs = _vpcs(drv)
    a, b = vpcs["edu-portal-internet"], vpcs["edu-portal-extranet"]
    pcx = text(_req(Action="CreateVpcPeeringConnection", VpcId=text(a, "vpcId"),
                    PeerVpcId=text(b, "vpcId")), "vpcPeeringConnection/vpcPeeringConnectionId")
    rts = ROUTE_TABLES.list_owned(drv, **{"vpc-id": text(a, "vpcId")})
    rt = text(rts[0], "routeTableId")
    _req(Action="CreateRoute", RouteTableId=rt, DestinationCidrBlock=text(b, "cidrBlock"),
         VpcPeeringConnectionId=pcx)
    try:
        found = {(f.check, f.object) for f in check().findings}
        assert ("peerings", pcx) in found
        assert ("routes", f"{rt} ({text(a, 'vpcId')})") in found
        messages = " ".join(f.message for f in check().findings)
        assert "extranet zone" in messages and "via vpcPeeringConnectionId" in messages
    finally:
        _req(Action="DeleteRoute", RouteTableId=rt, DestinationCidrBlock=text(b, "cidrBlock"))
        _req(Action="DeleteVpcPeeringConnection", VpcPeeringConnectionId=pcx)
    assert check().ok


def test_an_unapproved_rule_and_a_group_reference_are_found(applied, check):
    from orchestrator.usecases.session import open_drivers
    drv = open_drivers(Workspace.at(applied), {"aws"})["aws"]
    groups = {tags(g)["govcloud.address"]: text(g, "groupId") for g in GROUPS.list_owned(drv)}
    gid = groups["security_group:aws/edu/edu-portal-internet/sg"]
    other = groups["security_group:aws/edu/edu-portal-extranet/sg"]
    ec2 = raw_ec2()
    ec2.ex_authorize_security_group_ingress(gid, 3389, 3389, ["0.0.0.0/0"])
    ec2.ex_authorize_security_group_ingress(gid, 5432, 5432, group_pairs=[{"group_id": other}])
    try:
        msgs = [f.message for f in check().findings if f.check == "security_groups"]
        assert "unapproved inbound rule tcp 3389 from 0.0.0.0/0" in msgs
        assert f"inbound rule admits security group {other}: approvals name address ranges only" in msgs
    finally:
        ec2.ex_revoke_security_group_ingress(gid, 3389, 3389, ["0.0.0.0/0"])
        ec2.ex_revoke_security_group_ingress(gid, 5432, 5432, group_pairs=[{"group_id": other}])
    assert check().ok


def test_a_foreign_object_in_a_system_vpc_is_found(applied, check):
    from orchestrator.usecases.session import open_drivers
    drv = open_drivers(Workspace.at(applied), {"aws"})["aws"]
    vpc = _vpcs(drv)["edu-portal-internet"]
    # Another tenant's group squeezed into our VPC.
    gid = text(_req(Action="CreateSecurityGroup", GroupName="intruder", GroupDescription="x",
                    VpcId=text(vpc, "vpcId")), "groupId")
    try:
        found = [f for f in check().findings if f.check == "placement"]
        assert [f.object for f in found] == [gid]
        assert "without this workspace's ownership tag" in found[0].message
    finally:
        _req(Action="DeleteSecurityGroup", GroupId=gid)
    assert check().ok


def test_alternate_credentials_of_another_account_see_nothing(check, monkeypatch):
    import boto3
    sts = boto3.client("sts", endpoint_url=endpoint(), region_name="us-east-1",
                       aws_access_key_id=KEY_ID, aws_secret_access_key=SECRET)
    c = sts.assume_role(RoleArn="arn:aws:iam::111111111111:role/isolation-auditor",
                        RoleSessionName="verify-isolation")["Credentials"]
    monkeypatch.setenv("ALT_KEY", c["AccessKeyId"])
    monkeypatch.setenv("ALT_SECRET", c["SecretAccessKey"])
    monkeypatch.setenv("ALT_TOKEN", c["SessionToken"])
    alternate = {"access_key_env": "ALT_KEY", "secret_key_env": "ALT_SECRET",
                 "session_token_env": "ALT_TOKEN"}
    rep = check(alternate=alternate)
    assert rep.ok, [str(f) for f in rep.findings]
    assert rep.checked["alternate_credentials"] >= 5
    # Negative control: the primary's own credentials as the "alternate" see everything.
    monkeypatch.setenv("ALT_KEY", os.environ["GOVCLOUD_TEST_EC2_KEY_ID"])
    monkeypatch.setenv("ALT_SECRET", os.environ["GOVCLOUD_TEST_EC2_SECRET"])
    monkeypatch.delenv("ALT_TOKEN")
    bad = check(alternate=alternate)
    seen = {f.object.split("-")[0] for f in bad.findings if f.check == "alternate_credentials"}
    assert seen == {"vpc", "i", "vol"} and not bad.ok


def test_the_verify_isolation_command_runs_the_ec2_checks(applied, monkeypatch):
    r = run_cli("verify-isolation", "-C", applied, "--output", "json")
    assert r.exit_code == 0, r.output[-2000:]
    rows = {(c["check"], c["status"]) for c in r.json()["checks"]}
    assert {("vpc-routes", "PASS"), ("vpc-peerings", "PASS"), ("vpc-placement", "PASS"),
            ("router-gateway", "PASS"), ("router-interfaces", "PASS"),
            ("security-groups", "PASS"), ("alternate-credentials", "N/A")} <= rows
    assert not any(s == "FAIL" for _, s in rows)
    # A peering between the system's two zones fails the command.
    from orchestrator.usecases.session import open_drivers
    drv = open_drivers(Workspace.at(applied), {"aws"})["aws"]
    vpcs = _vpcs(drv)
    pcx = text(_req(Action="CreateVpcPeeringConnection",
                    VpcId=text(vpcs["edu-portal-internet"], "vpcId"),
                    PeerVpcId=text(vpcs["edu-portal-extranet"], "vpcId")),
               "vpcPeeringConnection/vpcPeeringConnectionId")
    try:
        r = run_cli("verify-isolation", "-C", applied)
        assert r.exit_code == 1 and "vpc-peerings" in r.output and pcx in r.output
    finally:
        _req(Action="DeleteVpcPeeringConnection", VpcPeeringConnectionId=pcx)
