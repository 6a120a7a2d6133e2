"""Each fix in drivers/libcloud/quirks.py, shown failing without it and working with it, against
the real moto server (libcloud 3.9.1, moto 5.2.5). If a new libcloud or moto makes a fix
unnecessary, its "without" assertion fails here and tells us so."""
from __future__ import annotations

import pytest
from libcloud.common.exceptions import BaseHTTPError
from libcloud.common.types import MalformedResponseError
from libcloud.compute.base import NodeSize

from drivers.base import Conflict
from drivers.libcloud import quirks
from drivers.libcloud.ec2xml import items, text
from tests.libcloud.moto_server import KEY_ID, SECRET, endpoint, raw_ec2


def ec2(cls):
    port = int(endpoint().rsplit(":", 1)[1])
    return cls(KEY_ID, SECRET, secure=False, host="127.0.0.1", port=port, region="us-east-1",
               signature_version="4")


def without(name):
    return ec2(quirks.driver_without(name))


@pytest.fixture(scope="module")
def fixed():
    return raw_ec2()


def _server_and_volume(drv):
    image = drv.list_images(ex_filters={"name": "kylin-v10-sp3"})[0]
    node = drv.create_node(name="q", image=image,
                           size=NodeSize("t2.micro", "t2.micro", 1, 1, 1, 0, drv))
    vol = drv.create_volume(1, "q-vol", location=drv.list_locations()[0])
    return node, vol


def test_every_fix_is_in_the_fixed_driver():
    assert set(quirks.QUIRKS.values()) <= set(quirks.FixedEC2NodeDriver.__mro__)
    reply = quirks.FixedEC2NodeDriver.connectionCls.responseCls
    assert {quirks._NamespaceReply, quirks._Utf8Reply, quirks._ServerErrorReply} <= set(reply.__mro__)
    with pytest.raises(KeyError, match="unknown quirk"):
        quirks.driver_without("nope")


def test_1_namespace(fixed):
    vpc = fixed.ex_create_network("10.201.0.0/24", name="ns-probe")
    stock = without("namespace")
    assert stock.ex_list_networks() == []                      # silently empty
    with pytest.raises(IndexError, match="list index out of range"):
        stock.ex_create_network("10.202.0.0/24")
    with pytest.raises(BaseHTTPError) as hidden:
        stock.ex_delete_network(type("V", (), {"id": "vpc-0000000000"})())
    assert str(hidden.value) == ""                             # the API error text is lost
    assert vpc.id in [n.id for n in fixed.ex_list_networks()]
    with pytest.raises(BaseHTTPError, match="InvalidVpcID.NotFound: VpcID vpc-0000000000"):
        fixed.ex_delete_network(type("V", (), {"id": "vpc-0000000000"})())


def test_2_tag_index(fixed):
    with pytest.raises(BaseHTTPError, match="MissingParameter: The request must contain the "
                                            "parameter resourceIdSet"):
        without("tag_index").ex_create_network("10.203.0.0/24", name="named")
    vpc = fixed.ex_create_network("10.204.0.0/24", name="named")
    assert vpc.extra["tags"]["Name"] == "named"
    seen = {n.id: n for n in fixed.ex_list_networks()}
    assert seen[vpc.id].name == "named"


def test_3_detach_volume(fixed):
    node, vol = _server_and_volume(fixed)
    fixed.attach_volume(node, vol, "/dev/sdf")
    vol = [v for v in fixed.list_volumes() if v.id == vol.id][0]
    with pytest.raises(MalformedResponseError, match="Failed to parse XML"):   # moto's HTTP 500
        without("detach_volume").detach_volume(vol)
    assert fixed.detach_volume(vol)
    assert [v for v in fixed.list_volumes() if v.id == vol.id][0].extra["state"] == "available"


def test_4_boolean_reply(fixed):
    stock = without("boolean_reply")
    vol = fixed.create_volume(1, "b1", location=fixed.list_locations()[0])
    assert stock.destroy_volume(vol) is False                  # yet the volume is gone:
    assert vol.id not in [v.id for v in fixed.list_volumes()]
    vol = fixed.create_volume(1, "b2", location=fixed.list_locations()[0])
    assert fixed.destroy_volume(vol) is True


def test_5_utf8_reply(fixed):
    vpc = fixed.ex_create_network("10.205.0.0/24", name="市教育局")
    mojibake = {n.id: n.name for n in without("utf8_reply").ex_list_networks()}[vpc.id]
    assert mojibake != "市教育局" and mojibake == "市教育局".encode().decode("latin-1")
    assert {n.id: n.name for n in fixed.ex_list_networks()}[vpc.id] == "市教育局"


def test_9_server_error_reply_without_xml_is_transient():
    """A 503 page from a proxy in front of the cloud (tests/faults/proxy.py, body not XML):
    without the fix libcloud says 'Failed to parse XML' (permanent); with it, HTTP 503,
    which translate retries."""
    from drivers.base import TransientError
    from drivers.libcloud.connection import translate
    from tests.faults.proxy import FaultPlan, FaultProxy

    def through(cls, fault):
        with FaultProxy(endpoint(), FaultPlan(at={1: fault})) as p:
            drv = cls(KEY_ID, SECRET, secure=False, host="127.0.0.1", port=int(p.url.rsplit(":", 1)[1]),
                      region="us-east-1", signature_version="4")
            with pytest.raises(Exception) as err:
                drv.ex_list_networks()
            assert drv.ex_list_networks() is not None       # call 2 passes
            return err.value
    for fault, status in (("503", 503), ("500", 500)):
        bare = through(quirks.driver_without("server_error_reply"), fault)
        assert isinstance(bare, MalformedResponseError) and "Failed to parse XML" in str(bare)
        assert not translate(bare, "DescribeVpcs").transient
        fixed_err = through(quirks.FixedEC2NodeDriver, fault)
        assert isinstance(fixed_err, BaseHTTPError) and fixed_err.code == status
        assert isinstance(translate(fixed_err, "DescribeVpcs"), TransientError)


# --- moto behaviours the driver works around (6-8): the raw sequence fails, the driver's works


class _Calls:
    """What the quirk helpers need of the driver, over a plain fixed libcloud driver."""

    def __init__(self, drv):
        self.ec2 = drv

    def call(self, what, fn, *a, **kw):
        return fn(*a, **kw)

    def req(self, action, **params):
        return self.ec2.connection.request("/", params={"Action": action, **params}).object

    def describe(self, action, path, **params):
        return items(self.req(action, **params), path)

    @staticmethod
    def filters(by):
        from drivers.libcloud.driver import LibcloudDriver
        return LibcloudDriver.filters(by)


def _volume_el(calls, vid):
    return calls.describe("DescribeVolumes", "volumeSet/item", **{"VolumeId.1": vid})[0]


def test_6_attaching_an_attached_volume(fixed):
    calls = _Calls(fixed)
    node, vol = _server_and_volume(fixed)
    other, _ = _server_and_volume(fixed)
    fixed.attach_volume(node, vol, "/dev/sdf")
    fixed.attach_volume(other, vol, "/dev/sdf")               # moto accepts (EC2: VolumeInUse)
    moved = items(_volume_el(calls, vol.id), "attachmentSet/item")
    assert [text(a, "instanceId") for a in moved] == [other.id]   # silently taken from `node`
    fixed.attach_volume(other, vol, "/dev/sdg")               # again, on the same instance
    with pytest.raises(BaseHTTPError, match="InvalidAttachment.NotFound: Volume .* can not be "
                                            "detached from .* because it is not attached"):
        fixed.destroy_node(other)
    node2, vol2 = _server_and_volume(fixed)
    fixed.attach_volume(node2, vol2, "/dev/sdf")
    el = _volume_el(calls, vol2.id)
    with pytest.raises(Conflict, match="in-use"):
        quirks.check_attach(el, other.id, "/dev/sdf")
    assert quirks.check_attach(el, node2.id, "/dev/sdf") is True      # already as asked
    assert quirks.check_attach(_volume_el(calls, fixed.create_volume(
        1, "free", location=fixed.list_locations()[0]).id), node2.id, "/dev/sdg") is False


def _vpc_subnet_table(calls, cidr):
    vpc = text(calls.req("CreateVpc", CidrBlock=cidr), "vpc/vpcId")
    sn = text(calls.req("CreateSubnet", VpcId=vpc, CidrBlock=cidr,
                        AvailabilityZone="us-east-1a"), "subnet/subnetId")
    rt = text(calls.req("CreateRouteTable", VpcId=vpc), "routeTable/routeTableId")
    calls.req("AssociateRouteTable", RouteTableId=rt, SubnetId=sn)
    return vpc, sn, rt


def test_7_deleted_subnet_keeps_its_route_table_association(fixed):
    calls = _Calls(fixed)
    _vpc, sn, rt = _vpc_subnet_table(calls, "10.206.0.0/24")
    calls.req("DeleteSubnet", SubnetId=sn)
    with pytest.raises(BaseHTTPError, match="DependencyViolation: The routeTable .* has "
                                            "dependencies and cannot be deleted"):
        calls.req("DeleteRouteTable", RouteTableId=rt)
    _vpc, sn, rt = _vpc_subnet_table(calls, "10.207.0.0/24")
    quirks.drop_subnet_associations(calls, sn)
    calls.req("DeleteSubnet", SubnetId=sn)
    calls.req("DeleteRouteTable", RouteTableId=rt)
    assert calls.describe("DescribeRouteTables", "routeTableSet/item",
                          **calls.filters({"route-table-id": rt})) == []


def test_8_subnet_with_servers_is_deleted_by_moto(fixed):
    calls = _Calls(fixed)
    image = fixed.list_images(ex_filters={"name": "kylin-v10-sp3"})[0]
    _vpc, sn, _rt = _vpc_subnet_table(calls, "10.208.0.0/24")
    calls.req("RunInstances", ImageId=image.id, MinCount="1", MaxCount="1",
              InstanceType="t2.micro", SubnetId=sn)
    with pytest.raises(Conflict, match=f"subnet {sn} is in use by server i-"):
        quirks.refuse_busy_subnet(calls, sn)
    calls.req("DeleteSubnet", SubnetId=sn)                     # moto lets it go (EC2 would not)
    assert calls.describe("DescribeSubnets", "subnetSet/item",
                          **calls.filters({"subnet-id": sn})) == []
