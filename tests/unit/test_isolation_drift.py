"""Isolation drift in the plan (orchestrator/core/drift.py) and the whole-cloud checks
(orchestrator/isolation_cloud.py), pure: each drift is an update naming the change and the fix,
each with a negative control (the clean world has none)."""
from dataclasses import replace

from orchestrator.core.compile import DEFAULT_GROUP_POLICY
from orchestrator.core.planner import collect_desired, make_actions
from orchestrator.isolation_cloud import CHECKS, cloud_checks, not_looked
from orchestrator.models.cloud import Observed
from tests.unit.test_planner import CAPS, P, by_addr, observed_of, records_of, spec, world


def full_world():
    res = world()
    res[1] = res[1].model_copy(update={"properties": {**res[1].properties,
                                                      "default_security_group": DEFAULT_GROUP_POLICY}})
    proj, net, sub = res[1].address, res[2].address, res[3].address
    sg = spec("security_group", "sg", {"name": "sg", "rules": [], "description": "x"}, {"project": proj})
    router = spec("router", "router", {"name": "r", "external_network": "internet"},
                  {"project": proj, "subnet": sub})
    server = spec("server", "app-1", {"name": "app-1", "flavor": "f", "vcpus": 1, "ram_gb": 1,
                  "image": "i", "system_disk_gb": 1, "system_disk_type": "ssd"},
                  {"project": proj, "network": net, "security_group": sg.address})
    quota = spec("quota", "quota", {"cores": 2, "floating_ips": 1}, {"project": proj})
    return res + [sg, router, server, quota]


def plan(res, change=lambda o: o):
    obs = [change(o) for o in observed_of(res)]
    return by_addr(make_actions(collect_desired(res), records_of(res), obs, CAPS))


def with_(address, props=None, tags=None, refs=None):
    def change(o):
        if o.address != address:
            return o
        return replace(o, properties={**o.properties, **(props or {})}, tags={**o.tags, **(tags or {})},
                       refs={**o.refs, **(refs or {})})
    return change


def test_a_clean_world_with_the_evidence_has_no_drift():
    res = full_world()
    clean = lambda o: replace(o, properties={**o.properties, **{  # noqa: E731
        "network": {"foreign_ports": []}, "server": {"security_groups": [f"security_group:{P}/sg"]},
        "project": {"role_assignments": [], "default_group": {
            "ingress": ["any from group 1234abcd (IPv4)"], "ports": []}}}.get(o.kind, {})},
        tags={**o.tags, **({"_interfaces": "id-subnet"} if o.kind == "router" else {})})
    assert {a.action.value for a in plan(res, clean).values()} == {"no-op"}
    # a cloud that reports none of it (the embedded cloud stores the spec's properties as given,
    # the default-group policy included): nothing is invented
    assert {a.action.value for a in plan(res).values()} == {"no-op"}


def test_every_router_interface_is_compared_and_an_extra_one_is_removed_not_replaced():
    res = full_world()
    # the foreign subnet listed FIRST: the old planner judged the router by it ("replace")
    acts = plan(res, with_(f"router:{P}/router", tags={"_interfaces": "aaa-foreign,id-subnet"},
                           refs={"subnet": "aaa-foreign"}))
    a = acts[f"router:{P}/router"]
    assert a.action.value == "update", a.reason
    assert a.changes["interfaces"] == {"old": ["aaa-foreign", f"subnet:{P}/subnet"],
                                       "new": [f"subnet:{P}/subnet"]}
    assert "extra interface on aaa-foreign" in a.reason and "remove the interface" in a.reason
    assert "replace" not in a.reason and a.desired.properties["interfaces"] == [f"subnet:{P}/subnet"]
    # its own interface gone: that is still a replacement (the router lost its subnet)
    acts = plan(res, with_(f"router:{P}/router", tags={"_interfaces": "aaa-foreign"},
                           refs={"subnet": "aaa-foreign"}))
    assert acts[f"router:{P}/router"].action.value == "replace"


def test_foreign_ports_groups_roles_and_the_default_group_are_updates_naming_the_fix():
    res = full_world()
    proj = f"project:{P}"
    changes = [with_(f"network:{P}/net", {"foreign_ports": ["p1 (network:router_interface r9, project adm)"]}),
               with_(f"server:{P}/app-1", {"security_groups": [f"security_group:{P}/sg",
                                                                "default (g1, not govcloud's)"]}),
               with_(proj, {"role_assignments": ["member for user b-ops@dept-b"],
                            "default_group": {"ingress": ["tcp 22 from 0.0.0.0/0 (IPv4)",
                                                                   "any from group g1 (IPv4)"],
                                                       "ports": []}})]
    acts = plan(res, lambda o: changes[2](changes[1](changes[0](o))))
    net, srv, prj = acts[f"network:{P}/net"], acts[f"server:{P}/app-1"], acts[proj]
    assert net.action.value == srv.action.value == prj.action.value == "update"
    assert "r9" in net.reason and "remove the interface or delete the port" in net.reason
    assert "default (g1, not govcloud's)" in srv.reason and "detach it" in srv.reason
    assert srv.changes["security_groups"]["new"] == [f"security_group:{P}/sg"]
    assert "member for user b-ops@dept-b" in prj.reason and "remove it" in prj.reason
    assert "admits tcp 22 from 0.0.0.0/0 (IPv4): delete the rule" in prj.reason
    assert prj.changes["default_group"]["new"] == {"ingress": ["any from group g1 (IPv4)"],
                                                            "ports": []}


def test_a_hand_raised_quota_is_named_as_raised_outside_the_approval():
    res = full_world()
    q = f"quota:{P}/quota"
    a = plan(res, with_(q, {"cores": 8}))[q]
    assert a.action.value == "update"
    assert "cores raised outside the approval (approved 2, cloud 8)" in a.reason
    # negative control: the approval itself changed (state says 8 was applied): no such words
    res2 = [r if r.address != q else r.model_copy(update={"properties": {"cores": 2, "floating_ips": 1}})
            for r in res]
    recs = records_of(res2)
    recs[q] = replace(recs[q], properties={"cores": 8, "floating_ips": 1})
    obs = [with_(q, {"cores": 8})(o) for o in observed_of(res2)]
    a = by_addr(make_actions(collect_desired(res2), recs, obs, CAPS))[q]
    assert a.action.value == "update" and "outside the approval" not in a.reason


def survey(**over):
    s = {"looked": {"managed_networks": 1, "ports": 2, "routers": 5, "security_groups": 9,
                    "rbac_policies": 3, "role_assignments": 7, "floating_ips": 4,
                    "managed_projects": 1, "managed_domains": 1},
         "ports": [{"id": "p-dhcp", "network": f"network:{P}/net", "network_id": "id-net",
                    "project": "id-s-internet", "device_owner": "network:dhcp", "device_id": "d",
                    "subnets": ["id-subnet"], "security_groups": [], "role": "dhcp"}],
         "routers": [], "security_groups": {}, "default_groups": {}, "rbac": [],
         "floating_ips": [], "role_assignments": [], "external_networks": ["ext-1"]}
    s.update(over)
    return s


def test_whole_cloud_checks_count_what_they_looked_at_and_fail_what_they_find():
    obs = observed_of(full_world())
    rows = cloud_checks("t", obs, survey())
    assert not [r for r in rows if r[2] != "PASS"]
    assert {r[0] for r in rows} == set(CHECKS)
    assert any("looked at 5 routers" in r[3] for r in rows)
    bridge = {"id": "r9", "name": "bridge", "project": "adm", "address": "", "gateway_on_managed": "",
              "interfaces": [(f"network:{P}/net", "id-subnet"), ("network:t/d/s-extranet/net", "x")]}
    obs.append(Observed("network:t/d/s-extranet/net", "network", "id-x", {}, {"project": "p2"},
                        {"govcloud.zone": "extranet"}))
    obs = [replace(o, tags={**o.tags, "govcloud.zone": "internet"}) if o.kind == "network"
           and o.cloud_id == "id-net" else o for o in obs]
    role = {"scope": "project", "scope_id": "id-s-internet", "where": f"project:{P}",
            "who": "user b-ops@dept-b", "role": "member", "allowed": "", "user_id": "u",
            "group_id": None, "role_id": "m"}
    rows = cloud_checks("t", obs, survey(routers=[bridge], role_assignments=[role]))
    bad = {r[0]: r for r in rows if r[2] == "FAIL"}
    assert set(bad) == {"foreign-routers", "role-assignments"}
    assert "a direct path between the zones extranet and internet" in bad["foreign-routers"][3]
    assert "member for user b-ops@dept-b" in bad["role-assignments"][3]


def test_a_driver_without_a_survey_gets_n_a_rows_never_passes():
    rows = not_looked("local", "no view")
    assert {r[0] for r in rows} == set(CHECKS) and {r[2] for r in rows} == {"N/A"}


def test_an_rbac_share_of_a_managed_network_is_an_update_deleting_the_policy():
    res = full_world()
    share = "access_as_shared of network id-net to other-proj (policy pol-1)"
    a = plan(res, with_(f"network:{P}/net", {"rbac_policies": [share]}))[f"network:{P}/net"]
    assert a.action.value == "update"
    assert a.changes["rbac_policies"] == {"old": [share], "new": []}
    assert "pol-1" in a.reason and "shares this network" in a.reason and "delete the policy" in a.reason
    # negative control: the survey found none
    a = plan(res, with_(f"network:{P}/net", {"rbac_policies": []}))[f"network:{P}/net"]
    assert a.action.value == "no-op"


def test_a_check_the_cloud_cannot_model_is_n_a_with_its_reason_never_a_pass():
    obs = observed_of(full_world())
    rows = cloud_checks("t", obs, survey(not_modeled={"role-assignments": "no users here"}))
    ra = [r for r in rows if r[0] == "role-assignments"]
    assert ra == [("role-assignments", "t", "N/A", "not looked: no users here")]
    assert {r[0] for r in rows} == set(CHECKS)
    # a foreign RBAC policy on the managed network fails; the external-network grant does not
    ext = {"id": "x1", "action": "access_as_external", "object_type": "network", "object_id": "ext-1",
           "target": "id-s-internet", "on_managed_network": "", "to_managed_project": f"project:{P}",
           "foreign": False}
    shared = {"id": "x2", "action": "access_as_shared", "object_type": "network", "object_id": "id-net",
              "target": "p9", "on_managed_network": f"network:{P}/net", "to_managed_project": "",
              "foreign": True}
    assert not [r for r in cloud_checks("t", obs, survey(rbac=[ext])) if r[2] == "FAIL"]
    bad = [r for r in cloud_checks("t", obs, survey(rbac=[ext, shared])) if r[2] == "FAIL"]
    assert [(r[0], r[1]) for r in bad] == [("rbac-policies", f"network:{P}/net")]
