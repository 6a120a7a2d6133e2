"""The Pulumi program (drivers/pulumi/program.py), offline under pulumi.runtime.set_mocks: resource
inputs, the wiring between resources (each input that refers to another resource carries that
resource's mock id) and the type tokens; a negative control shows a wrong expectation fails."""
from __future__ import annotations

import collections

import pulumi
import pytest

from tests.conftest import run_cli

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")  # pulumi_openstack's own

T = "openstack:"
TOKENS = {
    "domain": [T + "identity/project:Project"],
    "project": [T + "identity/project:Project", T + "identity/roleAssignment:RoleAssignment",
                "pulumi:providers:openstack"],
    "quota": [T + "compute/quotaSetV2:QuotaSetV2", T + "blockstorage/quoteSetV3:QuoteSetV3",
              T + "networking/quotaV2:QuotaV2"],
    "network": [T + "networking/network:Network"],
    "subnet": [T + "networking/subnet:Subnet"],
    "router": [T + "networking/router:Router", T + "networking/rbacPolicyV2:RbacPolicyV2",
               T + "networking/routerInterface:RouterInterface"],
    "security_group": [T + "networking/secGroup:SecGroup", T + "networking/secGroupRule:SecGroupRule"],
    "server": [T + "compute/instance:Instance"],
    "volume": [T + "blockstorage/volume:Volume"],
    "volume_attachment": [T + "compute/volumeAttach:VolumeAttach"],
    "floating_ip": [T + "networking/floatingIp:FloatingIp"],
}


class Mocks(pulumi.runtime.Mocks):
    """Records every resource (type, name, inputs, provider) and answers the program's invokes."""

    def __init__(self):
        self.made: dict[str, pulumi.runtime.MockResourceArgs] = {}
        self.calls: list[str] = []

    def new_resource(self, args):
        self.made[args.name] = args
        return [f"id:{args.name}", dict(args.inputs)]

    def call(self, args):
        self.calls.append(args.token)
        name = args.args.get("name")
        return {"openstack:networking/getNetwork:getNetwork": {"id": f"ext:{name}", "name": name},
                "openstack:identity/getRole:getRole": {"id": "role:admin", "name": name},
                "openstack:identity/getAuthScope:getAuthScope": {"id": "scope", "user_id": "user:svc",
                                                                 "name": name},
                "openstack:images/getImage:getImage": {"id": f"image:{name}", "name": name},
                }.get(args.token, {})


@pytest.fixture(scope="module")
def compiled(tmp_path_factory):
    from orchestrator.usecases.init import init_workspace
    from orchestrator.workspace import Workspace
    path = tmp_path_factory.mktemp("pulumi") / "ws"
    init_workspace(path, "bazhong")
    assert run_cli("compile", "-C", path).exit_code == 0
    ws = Workspace.at(path)
    return [r for s in ws.load_specs() for r in s.resources], ws.config.workspace.id


def _run(compiled, **kw):
    """Render under fresh mocks; return the mocks once every output has resolved."""
    from drivers.pulumi.program import render
    mocks = Mocks()
    pulumi.runtime.set_mocks(mocks, project="govcloud", stack="test", preview=False)
    resources, owner = compiled

    @pulumi.runtime.test
    def program():
        out = render(resources, owner, **kw)
        return pulumi.Output.all(*[r.urn for r in out.resources.values()])
    program()
    return mocks


@pytest.fixture(scope="module")
def mocks(compiled):
    return _run(compiled)


def by_type(mocks):
    out = collections.defaultdict(list)
    for name, args in mocks.made.items():
        out[args.typ].append(args)
    return out


def test_every_spec_resource_is_rendered_with_its_type_tokens(compiled, mocks):
    resources, _ = compiled
    made = {n: a.typ for n, a in mocks.made.items()}
    for r in {r.address: r for r in resources}.values():
        name = f"{r.address}#compute" if r.kind == "quota" else r.address
        assert made[name] == TOKENS[r.kind][0], r.address
    assert {a.typ for a in mocks.made.values()} == {t for ts in TOKENS.values() for t in ts}
    kinds = collections.Counter(r.kind for r in {r.address: r for r in resources}.values())
    types = collections.Counter(a.typ for a in mocks.made.values())
    assert types[T + "compute/instance:Instance"] == kinds["server"]
    assert types[T + "identity/project:Project"] == kinds["project"] + kinds["domain"]
    assert types["pulumi:providers:openstack"] == kinds["project"]
    rules = sum(len(r.properties["rules"]) for r in {r.address: r for r in resources}.values()
                if r.kind == "security_group")
    assert types[T + "networking/secGroupRule:SecGroupRule"] == rules


def wiring_of(mocks) -> dict[tuple[str, str], str]:
    """(resource, input) -> the name of the resource whose id that input carries."""
    out = {}
    for name, args in mocks.made.items():
        for key, value in args.inputs.items():
            values = value if isinstance(value, list) else [value]
            for v in values:
                if isinstance(v, dict):
                    v = v.get("uuid")
                if isinstance(v, str) and v.startswith("id:"):
                    out[(name, key)] = v[3:]
    return out


def expected_wiring(pre: str, dept: str) -> dict[tuple[str, str], str]:
    p, net, sub, sg = (f"project:{pre}", f"network:{pre}/net", f"subnet:{pre}/subnet",
                       f"security_group:{pre}/sg")
    return {
        (p, "domainId"): f"domain:local/{dept}",
        (f"{p}#admin", "projectId"): p,
        (f"{p}#provider", "tenantId"): p,
        (f"quota:{pre}/quota#compute", "projectId"): p,
        (f"quota:{pre}/quota#volume", "projectId"): p,
        (f"quota:{pre}/quota#network", "projectId"): p,
        (sub, "networkId"): net,
        (f"router:{pre}/router#rbac", "targetTenant"): p,
        (f"router:{pre}/router#interface", "routerId"): f"router:{pre}/router",
        (f"router:{pre}/router#interface", "subnetId"): sub,
        (f"{sg}#rule-1", "securityGroupId"): sg,
        (f"server:{pre}/web-1", "networks"): net,
        (f"volume_attachment:{pre}/web-1-data1", "instanceId"): f"server:{pre}/web-1",
        (f"volume_attachment:{pre}/web-1-data1", "volumeId"): f"volume:{pre}/web-1-data1",
    }


def check_wiring(mocks, expected):
    wiring = wiring_of(mocks)
    for key, target in expected.items():
        assert wiring.get(key) == target, f"{key} -> {wiring.get(key)}, expected {target}"


def test_resources_are_wired_to_each_other(mocks):
    check_wiring(mocks, expected_wiring("local/edu/edu-portal-internet", "edu"))


def test_negative_control_a_wrong_expectation_fails(mocks):
    wrong = expected_wiring("local/edu/edu-portal-internet", "edu")
    # The subnet of the internet zone on the extranet zone's network: must be caught.
    wrong[("subnet:local/edu/edu-portal-internet/subnet", "networkId")] = \
        "network:local/edu/edu-portal-extranet/net"
    with pytest.raises(AssertionError, match="expected network:local/edu/edu-portal-extranet"):
        check_wiring(mocks, wrong)
    with pytest.raises(AssertionError):
        check_inputs(mocks, cidr="10.99.0.0/24")


def test_a_sabotaged_program_is_caught(compiled, monkeypatch):
    """Mutation check: a program that wires a router into the wrong subnet fails the wiring test."""
    import drivers.pulumi.program as program
    real = program.openstack.networking.RouterInterface

    def wrong(name, router_id, subnet_id, opts=None):
        return real(name, router_id=router_id, subnet_id=pulumi.Output.from_input("id:elsewhere"),
                    opts=opts)
    monkeypatch.setattr(program.openstack.networking, "RouterInterface", wrong)
    with pytest.raises(AssertionError, match="routerInterface|#interface"):
        check_wiring(_run(compiled), expected_wiring("local/edu/edu-portal-internet", "edu"))


def test_resource_inputs_follow_the_spec(mocks):
    check_inputs(mocks)


def check_inputs(mocks, cidr="10.64.0.0/24"):
    m = mocks.made
    pre = "local/edu/edu-portal-internet"
    sub = m[f"subnet:{pre}/subnet"].inputs
    assert sub["cidr"] == cidr and sub["gatewayIp"] == "10.64.0.1"
    assert sub["ipVersion"] == 4
    router = m[f"router:{pre}/router"].inputs
    assert router["externalNetworkId"] == "ext:internet"
    rbac = m[f"router:{pre}/router#rbac"].inputs
    assert (rbac["action"], rbac["objectType"], rbac["objectId"]) == \
        ("access_as_external", "network", "ext:internet")
    extranet = m["router:local/edu/edu-portal-extranet/router"].inputs
    assert extranet["externalNetworkId"] == "ext:extranet"       # each zone its own gateway
    srv = m[f"server:{pre}/web-1"].inputs
    assert srv["flavorName"] == "ecs.s2m4" and srv["securityGroups"] == ["edu-portal-internet-sg"]
    bd = srv["blockDevices"][0]
    assert (bd["uuid"], bd["sourceType"], bd["destinationType"], bd["volumeSize"], bd["bootIndex"]) \
        == ("image:kylin-v10-sp3", "image", "volume", 40, 0)
    assert srv["metadata"]["govcloud.address"] == f"server:{pre}/web-1"
    rule = m[f"security_group:{pre}/sg#rule-1"].inputs
    assert (rule["direction"], rule["protocol"], rule["portRangeMin"], rule["remoteIpPrefix"]) == \
        ("ingress", "tcp", 80, "0.0.0.0/0")
    quota = m[f"quota:{pre}/quota#compute"].inputs
    assert (quota["cores"], quota["ram"], quota["instances"]) == (4, 8192, 2)
    net_quota = m[f"quota:{pre}/quota#network"].inputs
    assert (net_quota["router"], net_quota["network"], net_quota["subnet"]) == (1, 1, 1)
    dom = m["domain:local/edu"].inputs
    assert dom["isDomain"] is True and dom["name"] == "edu"
    assert any(t.startswith("govcloud.workspace=ws-") for t in m[f"network:{pre}/net"].inputs["tags"])
    assert "govcloud.address=network:local|edu|edu-portal-internet|net" in \
        m[f"network:{pre}/net"].inputs["tags"]


def test_inside_a_project_everything_goes_through_its_scoped_provider(mocks):
    pre = "local/edu/edu-portal-internet"
    for name in (f"network:{pre}/net", f"subnet:{pre}/subnet", f"router:{pre}/router",
                 f"security_group:{pre}/sg", f"server:{pre}/web-1", f"volume:{pre}/web-1-data1",
                 f"volume_attachment:{pre}/web-1-data1", f"floating_ip:{pre}/eip-1"):
        assert f"project:{pre}#provider" in (mocks.made[name].provider or ""), name
    for name in (f"project:{pre}", f"quota:{pre}/quota#compute", f"router:{pre}/router#rbac"):
        assert "#provider" not in (mocks.made[name].provider or ""), name


def test_windows_and_ec2_layouts(compiled):
    import datetime as dt

    from drivers.pulumi.program import UnsupportedSpec, render
    resources, owner = compiled
    with pytest.raises(UnsupportedSpec, match='layout "vpc"'):
        render(resources, owner, vpc_targets=["local"])
    m = _run(compiled, today=dt.date(2026, 6, 1))
    assert m.made and "openstack:images/getImage:getImage" in m.calls


def test_without_the_pulumi_cli_commands_say_what_to_install(compiled, tmp_path, monkeypatch):
    from orchestrator.usecases.init import init_workspace
    ws = tmp_path / "ws"
    init_workspace(ws, "bazhong")
    run_cli("compile", "-C", ws)
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))     # no `pulumi` anywhere
    for op in ("preview", "up"):
        r = run_cli("pulumi", op, "-C", ws)
        assert r.exit_code == 1
        text = " ".join(r.output.split())
        assert "the Pulumi CLI is not installed" in text and "get.pulumi.com" in text
        assert "pulumi plugin install resource openstack v5.5.3" in text
        assert "Traceback" not in r.output and "FileNotFoundError" not in r.output


def test_a_cli_that_vanishes_mid_call_is_reported_the_same_way(compiled, tmp_path, monkeypatch):
    """The Automation API's own failure (FileNotFoundError: 'pulumi') becomes the same message."""
    import pulumi.automation as auto

    from drivers.pulumi import engine
    from orchestrator.errors import GovcloudError
    from orchestrator.usecases.init import init_workspace
    ws = tmp_path / "ws"
    init_workspace(ws, "bazhong")
    run_cli("compile", "-C", ws)

    def missing(**kw):
        raise FileNotFoundError(2, "No such file or directory", "pulumi")
    monkeypatch.setattr(auto, "create_or_select_stack", missing)
    with pytest.raises(GovcloudError, match="the Pulumi CLI is not installed"):
        engine.run(ws, "preview", which=lambda name: "/usr/local/bin/pulumi")


def test_the_program_entry_point_reads_the_workspace_from_config(tmp_path):
    """What `pulumi up` runs (drivers/pulumi/__main__.py -> program.main), under mocks."""
    from drivers.pulumi.program import main
    from orchestrator.usecases.init import init_workspace
    ws = tmp_path / "ws"
    init_workspace(ws, "bazhong")
    run_cli("compile", "-C", ws)
    mocks = Mocks()
    pulumi.runtime.set_mocks(mocks, project="govcloud", stack="test", preview=False)
    pulumi.runtime.set_config("govcloud:workspace", str(ws))
    pulumi.runtime.set_config("govcloud:today", "2026-06-01")

    @pulumi.runtime.test
    def program():
        out = main()
        return pulumi.Output.all(*[r.urn for r in out.resources.values()])
    program()
    assert "server:local/edu/edu-portal-internet/web-1" in mocks.made
    assert "domain:local/hrss" in mocks.made
