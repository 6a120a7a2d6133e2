"""The libcloud driver's declared capabilities work, against the moto server of tests/libcloud:
PowerControl (``set_power`` stops and starts a server, and only this workspace's),
IsolationChecks (``isolation_checks`` passes a clean VPC and fails one with a foreign object) and
Census (``census`` lists every copy of a stack, an untagged snapshot of its volume included)."""
from __future__ import annotations

import pytest

from drivers.base import OWNER_TAG, STACK_TAG, Census, IsolationChecks, NotOwned, PowerControl, wait_for
from drivers.libcloud.driver import LibcloudDriver
from drivers.libcloud.ec2xml import text
from tests.contract.test_capabilities_openstack import StackTenant
from tests.contract.test_driver_contract import Tenant
from tests.libcloud.conftest import new_driver  # noqa: F401  (the libcloud tests' fixture)
from tests.libcloud.moto_server import raw_ec2


def _status(d, address):
    return d.find(address).status


def test_the_declared_capabilities_are_power_isolation_checks_and_census(new_driver):  # noqa: F811
    assert LibcloudDriver.capabilities() == {"power", "isolation-checks", "census"}
    d = new_driver()
    assert isinstance(d, PowerControl) and isinstance(d, IsolationChecks) and isinstance(d, Census)


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


def _ec2(action: str, **params):
    return raw_ec2().connection.request("/", params={"Action": action, **params}).object


def test_census_lists_every_copy_of_the_stack_an_untagged_snapshot_of_its_volume_too(new_driver):  # noqa: F811
    """What a provider or a department's tool may leave after a decommission: snapshots of the
    system's volumes (EC2 gives them no tag of their volume's), one of its server's root volume,
    an AMI carrying the stack's tag; the census lists each, the decommission census step fails
    naming each, and both are clean once they are removed (another workspace's snapshot is never
    counted)."""
    from orchestrator.census import require_empty
    from orchestrator.errors import GovcloudError
    d = new_driver()
    t = StackTenant(d, cidr="10.83.0.0/24").base()
    srv = t.server("web-1")
    vol = t.volume("data", gb=1)
    fip = t.make("floating_ip", "fip", {"name": "fip", "external_network": "internet",
                                        "bandwidth_mbps": 5}, {"project": t.project})
    (root,) = d.census_ids(d.find(srv.address))          # read while the server exists
    assert root.startswith("vol-") and d.census_ids(vol) == []
    ids = [t.ids[t.project], srv.cloud_id, vol.cloud_id, root]
    before = {(o.kind, o.cloud_id) for o in d.census(t.stack, ids)}
    assert {(o.kind, o.cloud_id) for o in d.observe()} <= before     # positive control: all of it
    assert ("volume", root) in before                                # untagged with the stack
    assert not {k for k, _ in before} & {"snapshot", "image"}        # nothing planted yet
    ov = text(_ec2("CreateVolume", Size="1", AvailabilityZone="us-east-1a"), "volumeId")
    foreign = text(_ec2("CreateSnapshot", VolumeId=ov), "snapshotId")   # not the stack's
    planted = {text(_ec2("CreateSnapshot", VolumeId=v), "snapshotId") for v in (vol.cloud_id, root)}
    ami = text(_ec2("RegisterImage", Name=f"{t.dept}-copy", RootDeviceName="/dev/sda1", **{
        "BlockDeviceMapping.1.DeviceName": "/dev/sda1",
        "BlockDeviceMapping.1.Ebs.VolumeSize": "1"}), "imageId")
    _ec2("CreateTags", **{"ResourceId.1": ami, "Tag.1.Key": OWNER_TAG, "Tag.1.Value": d.owner,
                          "Tag.2.Key": STACK_TAG, "Tag.2.Value": t.stack})  # tags copied over
    for o in sorted(d.observe(), key=lambda o: ["floating_ip", "volume_attachment", "server",
                                                "volume", "security_group", "router", "subnet",
                                                "network", "project"].index(o.kind)):
        d.delete(o)
    assert not fip or d.find(fip.address) is None
    left = {(o.kind, o.cloud_id) for o in d.census(t.stack, ids)}
    assert left == {("snapshot", s) for s in planted} | {("image", ami)}
    assert foreign not in {c for _, c in left}
    with pytest.raises(GovcloudError) as err:
        require_empty({"aws": d}, t.stack, ids, [])
    named = "\n".join(i.message for i in err.value.issues)
    assert all(f"aws: snapshot {s}" in named for s in planted) and f"aws: image {ami}" in named
    for s in planted:
        _ec2("DeleteSnapshot", SnapshotId=s)
    _ec2("DeregisterImage", ImageId=ami)
    assert d.census(t.stack, ids) == []                              # negative control
    require_empty({"aws": d}, t.stack, ids, [])
    _ec2("DeleteSnapshot", SnapshotId=foreign)
    _ec2("DeleteVolume", VolumeId=ov)
