"""The driver contract: every driver must pass this suite unchanged (see conftest.FACTORIES).

A driver declares the kinds it can hold (``driver.kinds``). The suite builds only those: a kind a
cloud lacks (EC2 has no Keystone domains or per-project quotas) is never faked by the driver, and
for such a driver the suite asserts instead that the planner refuses a spec needing that kind
before anything is touched. Nothing is skipped silently.
"""
from __future__ import annotations

import uuid

import pytest

from drivers.base import (ADDRESS_TAG, OWNER_TAG, Conflict, NotFound, NotOwned, QuotaExceeded,
                          Request)
from orchestrator.errors import GovcloudError
from orchestrator.models.spec import ResourceSpec
from orchestrator.core.planner import make_actions

BASE_KINDS = ("domain", "project", "quota", "network", "subnet", "router", "security_group")


class Tenant:
    """Builds one project's objects through a driver, as the executor would."""

    def __init__(self, driver, dept=None, proj="s1-internet", cidr="10.64.0.0/24"):
        # Domain names are global in a real cloud: each test gets its own department.
        dept = dept or f"ctd{uuid.uuid4().hex[:8]}"
        self.d = driver
        self.pre = f"x/{dept}/{proj}"
        self.ids = {}
        self.dept, self.proj, self.cidr = dept, proj, cidr

    def req(self, kind, name, props, refs=None, address=None):
        address = address or f"{kind}:{self.pre}/{name}"
        # A ref to a kind this driver does not hold (a project's domain on EC2) is left out.
        refs = {f: self.ids[a] for f, a in (refs or {}).items()
                if a.split(":", 1)[0] in self.d.kinds}
        return Request(address, kind, name, props, refs, {OWNER_TAG: self.d.owner, ADDRESS_TAG: address})

    def make(self, kind, name, props, refs=None, address=None):
        if kind not in self.d.kinds:
            return None
        obj = self.d.create(self.req(kind, name, props, refs, address))
        self.ids[obj.address] = obj.cloud_id
        return obj

    def base(self, quota=None):
        self.make("domain", self.dept, {"name": self.dept, "description": "dept"},
                  address=f"domain:x/{self.dept}")
        # cidr: the project's address block (a VPC's CIDR where a project is a VPC).
        self.make("project", self.proj, {"name": self.proj, "description": "", "cidr": self.cidr},
                  {"domain": f"domain:x/{self.dept}"}, address=f"project:x/{self.dept}/{self.proj}")
        self.project = f"project:x/{self.dept}/{self.proj}"
        self.make("quota", "quota", quota or {"cores": 4, "ram_mb": 8192, "instances": 2,
                  "volumes": 4, "gigabytes": 200, "snapshots": 0, "floating_ips": 1, "networks": 1,
                  "subnets": 1, "routers": 1, "ports": 4, "security_groups": 2,
                  "security_group_rules": 8}, {"project": self.project})
        self.make("network", "net", {"name": "net"}, {"project": self.project})
        self.make("subnet", "subnet", {"name": "sn", "cidr": self.cidr,
                  "gateway_ip": self.cidr.replace("0/24", "1")}, {"network": f"network:{self.pre}/net"})
        self.make("router", "router", {"name": "r", "external_network": "internet"},
                  {"project": self.project, "subnet": f"subnet:{self.pre}/subnet"})
        self.make("security_group", "sg", {"name": "sg", "description": "", "rules": [
            {"direction": "ingress", "protocol": "tcp", "port_min": 443, "port_max": 443,
             "remote_ip_prefix": "0.0.0.0/0"}]}, {"project": self.project})
        return self

    def server(self, name, vcpus=2, ram_gb=4):
        return self.make("server", name, {"name": name, "flavor": "ecs.s2m4", "vcpus": vcpus,
                         "ram_gb": ram_gb, "image": "kylin-v10-sp3", "system_disk_gb": 40,
                         "system_disk_type": "ssd"},
                         {"project": self.project, "network": f"network:{self.pre}/net",
                          "security_group": f"security_group:{self.pre}/sg"})

    def volume(self, name, gb=10):
        return self.make("volume", name, {"name": name, "size_gb": gb, "volume_type": "ssd"},
                         {"project": self.project})


def test_created_objects_are_observed_in_one_batch_with_tags_and_properties(make_driver):
    d = make_driver()
    t = Tenant(d).base()
    srv = t.server("web-1")
    vol = t.volume("data")
    t.make("volume_attachment", "data", {"device_index": 1},
           {"server": srv.address, "volume": vol.address})
    calls = d.api_calls
    seen = {o.address: o for o in d.observe()}
    assert d.api_calls - calls <= 16  # batched: one list per type (+3 quota reads per project), not one GET per object
    assert len(seen) == len(t.ids) == 3 + sum(k in d.kinds for k in BASE_KINDS)
    assert seen[srv.address].properties["vcpus"] == 2
    assert seen[srv.address].refs["network"] == t.ids[f"network:{t.pre}/net"]
    assert all(o.tags[OWNER_TAG] == d.owner for o in seen.values())
    assert d.find(vol.address).cloud_id == vol.cloud_id
    assert d.find("volume:x/none/none") is None


def test_observe_returns_only_this_owners_objects(make_driver, tmp_path):
    mine = make_driver("ws-aaaaaaaaaaaa")
    Tenant(mine).base()
    other = make_driver("ws-bbbbbbbbbbbb")
    Tenant(other, proj="s2-internet").base()
    assert {o.tags[OWNER_TAG] for o in mine.observe()} == {"ws-aaaaaaaaaaaa"}
    assert len(mine.observe()) == sum(k in mine.kinds for k in BASE_KINDS)


def test_objects_without_our_ownership_tag_are_never_changed(make_driver):
    owner = make_driver("ws-aaaaaaaaaaaa")
    t = Tenant(owner).base()
    vol = t.volume("v1")
    intruder = make_driver("ws-cccccccccccc")
    with pytest.raises(NotOwned):
        intruder.delete(vol)
    with pytest.raises(NotOwned):
        intruder.update(vol, t.req("volume", "v1", {"size_gb": 20}), {"size_gb"})
    assert owner.find(vol.address).properties["size_gb"] == 10


def test_update_in_place(make_driver):
    d = make_driver()
    t = Tenant(d).base()
    vol = t.volume("v1", 10)
    new = d.update(vol, t.req("volume", "v1", {"name": "v1", "size_gb": 30, "volume_type": "ssd"}),
                   {"size_gb"})
    assert new.cloud_id == vol.cloud_id and new.properties["size_gb"] == 30
    with pytest.raises(Conflict, match="shrink"):
        d.update(new, t.req("volume", "v1", {"size_gb": 5}), {"size_gb"})


def test_a_kind_the_driver_lacks_is_refused_by_the_planner_before_any_change(make_driver):
    d = make_driver()
    lacking = sorted(set(BASE_KINDS) - d.kinds)
    if not lacking:
        assert {"domain", "quota"} <= d.kinds
        return
    spec = [ResourceSpec(address=f"{k}:x/d1/p/{k}", kind=k, name=k, target="x", properties={})
            for k in lacking]
    with pytest.raises(GovcloudError) as err:
        make_actions({r.address: r for r in spec}, {}, [], {"x": d.kinds})
    assert [i.message for i in err.value.issues] == [f"no support for x: {k}" for k in lacking]
    assert d.observe() == []


def test_quota_is_enforced_by_the_cloud(make_driver):
    d = make_driver()
    if "quota" not in d.kinds:
        # No per-project quota on this cloud: the planner refuses quota specs (test above); the
        # approved totals are enforced by govcloud's own validation and compile only.
        with pytest.raises(GovcloudError, match="cannot hold"):
            make_actions({"quota:x/d/p/quota": ResourceSpec(
                address="quota:x/d/p/quota", kind="quota", name="quota", target="x",
                properties={})}, {}, [], {"x": d.kinds})
        return
    t = Tenant(d).base()
    t.server("a-1")                       # 2 of 4 cores
    t.server("a-2")                       # 4 of 4 cores
    with pytest.raises(QuotaExceeded, match="cores"):
        t.server("a-3")
    with pytest.raises(QuotaExceeded, match="gigabytes"):
        t.volume("huge", 500)
    quota = d.find(f"quota:{t.pre}/quota")
    with pytest.raises(Conflict, match="below current usage|cannot be lowered to the approval "
                                       "while the excess is in use"):
        d.update(quota, t.req("quota", "quota", {**quota.properties, "cores": 2}), {"cores"})
    assert len([o for o in d.observe() if o.kind == "server"]) == 2


def test_not_found_and_conflict_like_a_real_cloud(make_driver):
    d = make_driver()
    t = Tenant(d).base()
    net = d.find(f"network:{t.pre}/net")
    with pytest.raises(Conflict):
        d.delete(net)                     # still has a subnet
    with pytest.raises(Conflict):
        t.make("project", "s1-internet", {"name": "s1-internet", "description": "",
                                          "cidr": "10.65.0.0/24"},
               {"domain": f"domain:x/{t.dept}"}, address=f"project:x/{t.dept}/dup")
    with pytest.raises(NotFound):
        t.make("floating_ip", "eip", {"external_network": "nowhere", "bandwidth_mbps": 5},
               {"project": t.project})
    srv, vol = t.server("s-1"), t.volume("v")
    t.make("volume_attachment", "v", {"device_index": 1}, {"server": srv.address, "volume": vol.address})
    with pytest.raises(Conflict, match="in-use"):
        t.make("volume_attachment", "v2", {"device_index": 2},
               {"server": srv.address, "volume": vol.address}, address="volume_attachment:x/again")
    with pytest.raises(Conflict):
        d.delete(vol)                     # attached
    d.delete(srv)                         # detaches, like Nova
    d.delete(vol)
    with pytest.raises(NotFound):
        d.delete(vol)


def test_projects_do_not_share_networks(make_driver):
    d = make_driver()
    a = Tenant(d).base()
    b = Tenant(d, dept=a.dept, proj="s1-extranet", cidr="10.128.0.0/24")
    b.ids = a.ids
    b.make("project", "s1-extranet", {"name": "s1-extranet", "description": "",
                                      "cidr": b.cidr},
           {"domain": f"domain:x/{a.dept}"}, address=f"project:x/{a.dept}/s1-extranet")
    b.project = f"project:x/{a.dept}/s1-extranet"
    with pytest.raises(Conflict, match="another project"):
        b.make("router", "router", {"name": "r", "external_network": "extranet"},
               {"project": b.project, "subnet": f"subnet:{a.pre}/subnet"})


def test_teardown_in_reverse_order_leaves_nothing(make_driver):
    d = make_driver()
    t = Tenant(d).base()
    t.server("w-1")
    t.volume("v")
    order = ["server", "volume", "security_group", "router", "subnet", "network", "quota",
             "project", "domain"]
    objs = sorted(d.observe(), key=lambda o: order.index(o.kind))
    for o in objs:
        d.delete(o)
    assert d.observe() == []


def test_deleting_a_server_never_detaches_another_workspaces_volume(make_driver):
    """A cascading delete checks ownership: the cloud detaches a server's volumes when it is
    deleted, so a server carrying another workspace's attachment is refused, untouched."""
    import dataclasses
    d = make_driver()
    t = Tenant(d).base()
    srv = t.server("app", vcpus=1, ram_gb=1)
    other = make_driver()
    theirs = lambda r: dataclasses.replace(r, tags={**r.tags, OWNER_TAG: other.owner})  # noqa: E731
    vol = other.create(theirs(t.req("volume", "theirs", {"name": "theirs", "size_gb": 1,
                                                        "volume_type": "ssd"}, {"project": t.project})))
    t.ids[vol.address] = vol.cloud_id
    att = other.create(theirs(t.req("volume_attachment", "theirs-att", {"device_index": 1},
                                    {"server": srv.address, "volume": vol.address})))
    with pytest.raises(Conflict) as exc:
        d.delete(d.find(srv.address))
    assert "does not own" in str(exc.value)
    assert d.find(srv.address) is not None                       # the server is still there
    assert att.cloud_id in {o.cloud_id for o in other.observe()}  # and their attachment
    other.delete(att)                                             # negative control: once they
    d.delete(d.find(srv.address))                                 # detach, it is deleted
    assert d.find(srv.address) is None
    other.delete(other.find(vol.address))
