"""The libcloud driver's declared capabilities work, against the moto server of tests/libcloud:
PowerControl (``set_power`` stops and starts a server, and only this workspace's) and
IsolationChecks (``isolation_checks`` passes a clean VPC and fails one with a foreign object)."""
from __future__ import annotations

import pytest

from drivers.base import IsolationChecks, NotOwned, PowerControl, wait_for
from drivers.libcloud.driver import LibcloudDriver
from drivers.libcloud.ec2xml import text
from tests.contract.test_driver_contract import Tenant
from tests.libcloud.conftest import new_driver  # noqa: F401  (the libcloud tests' fixture)
from tests.libcloud.moto_server import raw_ec2


def _status(d, address):
    return d.find(address).status


def test_the_declared_capabilities_are_power_and_isolation_checks(new_driver):  # noqa: F811
    assert LibcloudDriver.capabilities() == {"power", "isolation-checks"}
    d = new_driver()
    assert isinstance(d, PowerControl) and isinstance(d, IsolationChecks)


def test_set_power_stops_and_starts_a_server(new_driver):  # noqa: F811
    d = new_driver()
    t = Tenant(d, cidr="10.80.0.0/24").base()
    srv = t.server("web-1")
    d.set_power(srv, "SHUTOFF")
    assert _status(d, srv.address) == "SHUTOFF"
    stopped = d.find(srv.address)
    calls = d.api_calls
    d.set_power(stopped, "SHUTOFF")                  # idempotent: only the look-up, no stop
    assert d.api_calls == calls + 1 and _status(d, srv.address) == "SHUTOFF"
    d.set_power(d.find(srv.address), "ACTIVE")
    assert wait_for(lambda: _status(d, srv.address), lambda s: s == "ACTIVE",
                    f"{srv.address} to start", timeout=10, interval=0.05) == "ACTIVE"


def test_set_power_leaves_another_workspaces_server_alone(new_driver):  # noqa: F811
    d = new_driver()
    t = Tenant(d, cidr="10.81.0.0/24").base()
    srv = t.server("web-1")
    with pytest.raises(NotOwned, match=f"server {srv.cloud_id} does not carry"):
        new_driver().set_power(srv, "SHUTOFF")
    assert _status(d, srv.address) == "ACTIVE"


def test_isolation_checks_pass_a_clean_vpc_and_fail_a_foreign_object(new_driver):  # noqa: F811
    d = new_driver()
    t = Tenant(d, cidr="10.82.0.0/24").base()
    t.server("web-1")
    rows = {(check, status) for check, _, status, _ in d.isolation_checks([], probe=True)}
    assert rows == {("vpc-routes", "PASS"), ("vpc-peerings", "PASS"), ("vpc-placement", "PASS"),
                    ("alternate-credentials", "N/A")}
    assert {r[0] for r in d.isolation_checks([], probe=False)} == \
        {"vpc-routes", "vpc-peerings", "vpc-placement"}
    # Negative control: a group govcloud did not make, squeezed into the system's VPC.
    ec2 = raw_ec2()
    vpc = t.ids[t.project]
    gid = text(ec2.connection.request("/", params={
        "Action": "CreateSecurityGroup", "GroupName": "intruder", "GroupDescription": "x",
        "VpcId": vpc}).object, "groupId")
    try:
        failed = [r for r in d.isolation_checks([], probe=False) if r[2] == "FAIL"]
        assert [(r[0], r[1]) for r in failed] == [("vpc-placement", gid)]
    finally:
        ec2.connection.request("/", params={"Action": "DeleteSecurityGroup", "GroupId": gid})
