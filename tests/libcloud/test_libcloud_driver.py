"""What the EC2 mapping adds to the driver contract: tags on every object, batched tag-filtered
observation, honest kinds, resize and drift, error translation, credentials kept out of sight."""
from __future__ import annotations

import pytest
from libcloud.common.exceptions import BaseHTTPError

from drivers.base import (OWNER_TAG, Conflict, DriverError, NotFound, QuotaExceeded, Request,
                          TransientError, Unsupported)
from drivers.libcloud.common import ADDRESSES, VOLUMES
from drivers.libcloud.connection import Credentials, translate
from drivers.libcloud.driver import KINDS
from drivers.libcloud.ec2xml import items, tags, text
from tests.contract.test_driver_contract import Tenant
from tests.libcloud.moto_server import KEY_ID, SECRET, raw_ec2


def test_kinds_are_honest():
    assert "domain" not in KINDS and "quota" not in KINDS
    assert {"project", "network", "subnet", "router", "security_group", "server", "volume",
            "volume_attachment", "floating_ip"} == KINDS


def test_a_kind_ec2_lacks_is_never_faked(new_driver):
    d = new_driver()
    with pytest.raises(Unsupported, match="EC2 has no such object"):
        d.create(Request("domain:x/d1", "domain", "d1", {"name": "d1"}, {}, {OWNER_TAG: d.owner}))


def test_every_object_carries_the_ownership_tags(new_driver):
    d = new_driver()
    t = Tenant(d, cidr="10.70.0.0/24").base()
    srv, vol = t.server("web-1"), t.volume("data")
    t.make("volume_attachment", "data", {"device_index": 1},
           {"server": srv.address, "volume": vol.address})
    t.make("floating_ip", "eip-1", {"external_network": "internet", "bandwidth_mbps": 20},
           {"project": t.project})
    body = raw_ec2().connection.request("/", params={
        "Action": "DescribeTags", "Filter.1.Name": "key", "Filter.1.Value.1": OWNER_TAG,
        "Filter.2.Name": "value", "Filter.2.Value.1": d.owner}).object
    tagged = {text(i, "resourceType") for i in items(body, "tagSet/item")}
    assert {"vpc", "route-table", "subnet", "internet-gateway", "security-group", "instance",
            "volume"} <= tagged
    # moto's DescribeTags leaves elastic IPs out; DescribeAddresses (what observe uses) has them.
    assert [tags(a)[OWNER_TAG] for a in ADDRESSES.list_owned(d)] == [d.owner]
    # The server's root volume too (it is part of the server object in govcloud's model).
    vols = VOLUMES.list_owned(d)
    roots = [v for v in vols if tags(v).get("govcloud.root-of") == srv.address]
    assert len(roots) == 1 and int(text(roots[0], "size")) == 40
    # Nothing in the VPC is untagged: its subnets, non-main route tables, groups and instances.
    vpc = t.ids[t.project]
    ec2 = raw_ec2()
    for action, path in (("DescribeSubnets", "subnetSet/item"),
                         ("DescribeInstances", "reservationSet/item/instancesSet/item")):
        body = ec2.connection.request("/", params={"Action": action, "Filter.1.Name": "vpc-id",
                                                   "Filter.1.Value.1": vpc}).object
        assert all(tags(i).get(OWNER_TAG) == d.owner for i in items(body, path))


def test_observe_lists_by_tag_filter_in_a_fixed_number_of_calls(new_driver):
    d = new_driver()
    t = Tenant(d, cidr="10.71.0.0/24").base()
    t.server("a-1")
    sent = []
    real = d.req

    def spy(action, **params):
        sent.append((action, params))
        return real(action, **params)
    d.req = spy
    first = len(d.observe())
    calls_for_one = len(sent)
    for i in range(2, 5):
        t.server(f"a-{i}")
        t.volume(f"v-{i}")
    sent.clear()
    assert len(d.observe()) == first + 6
    assert len(sent) == calls_for_one <= 9
    for action, params in sent:
        assert action.startswith("Describe")
        if action != "DescribeImages":         # image names, looked up once and cached
            assert params["Filter.1.Name"] == f"tag:{OWNER_TAG}" and params["Filter.1.Value.1"] == d.owner
            assert not any(k.endswith("Id.1") for k in params), (action, params)


def test_resize_and_out_of_band_type_change(new_driver):
    d = new_driver()
    t = Tenant(d, cidr="10.72.0.0/24").base()
    srv = t.server("s-1", vcpus=2, ram_gb=4)
    assert srv.properties["vcpus"] == 2 and srv.properties["flavor"] == "ecs.s2m4"
    req = t.req("server", "s-1", {**srv.properties, "flavor": "ecs.s4m8", "vcpus": 4, "ram_gb": 8})
    new = d.update(srv, req, {"flavor", "vcpus", "ram_gb"})
    assert (new.properties["flavor"], new.properties["vcpus"], new.properties["ram_gb"]) == \
        ("ecs.s4m8", 4, 8) and new.status == "ACTIVE"
    ec2 = raw_ec2()
    ec2.connection.request("/", params={"Action": "StopInstances", "InstanceId.1": srv.cloud_id})
    ec2.connection.request("/", params={"Action": "ModifyInstanceAttribute", "InstanceId":
                                        srv.cloud_id, "InstanceType.Value": "r5.large"})
    drifted = d.find(srv.address)
    assert drifted.properties["flavor"] == "ec2:r5.large" and drifted.status == "SHUTOFF"
    assert (drifted.properties["vcpus"], drifted.properties["ram_gb"]) == (2, 16)


def test_a_half_made_subnet_is_reported_broken(new_driver):
    d = new_driver()
    t = Tenant(d, cidr="10.73.0.0/24").base()
    sn = d.find(f"subnet:{t.pre}/subnet")
    raw = raw_ec2()
    rt = raw.connection.request("/", params={"Action": "DescribeRouteTables",
                                             "Filter.1.Name": "association.subnet-id",
                                             "Filter.1.Value.1": sn.cloud_id}).object
    assoc = [text(a, "routeTableAssociationId") for a in items(rt, "routeTableSet/item/associationSet/item")
             if text(a, "subnetId") == sn.cloud_id][0]
    raw.connection.request("/", params={"Action": "DisassociateRouteTable", "AssociationId": assoc})
    assert d.find(sn.address).status == "ERROR"       # the planner replaces it


@pytest.mark.parametrize("code,cls", [
    ("InvalidVolume.NotFound", NotFound), ("DependencyViolation", Conflict),
    ("VolumeInUse", Conflict), ("VpcLimitExceeded", QuotaExceeded),
    ("RequestLimitExceeded", TransientError), ("IncorrectState", TransientError),
    ("UnauthorizedOperation", DriverError)])
def test_ec2_errors_map_onto_govcloud_errors(code, cls):
    err = translate(BaseHTTPError(400, f"{code}: something"), "Op")
    assert type(err) is cls and code in str(err)
    assert type(translate(BaseHTTPError(503, ""), "Op")) is TransientError


def test_credentials_are_shown_by_name_only(monkeypatch):
    monkeypatch.setenv("K1", KEY_ID)
    monkeypatch.setenv("S1", SECRET)
    c = Credentials({"access_key_env": "K1", "secret_key_env": "S1"})
    assert c.values()[:2] == (KEY_ID, SECRET)
    assert KEY_ID not in repr(c) and SECRET not in str(c) and "$S1" in repr(c)
    assert not hasattr(c, "__dict__")
