"""The plan guard lets isolation-drift repairs through only as the spec implies them: a
repair may take away what govcloud did not make, never add."""
from orchestrator.core.plan_guard import violations
from orchestrator.models.plan import Action, ActionKind
from orchestrator.models.spec import ResourceSpec


def _act(spec, **props):
    data = {"address": spec.address, "kind": spec.kind, "name": spec.name, "target": spec.target,
            "properties": {**spec.properties, **props}, "refs": dict(spec.refs)}
    return Action(spec.address, spec.kind, spec.target, ActionKind.UPDATE, "drift", {}, data)


NET = ResourceSpec(address="network:t/d/p/net", kind="network", name="net", target="t",
                   properties={})
SRV = ResourceSpec(address="server:t/d/p/app-1", kind="server", name="app-1", target="t",
                   properties={}, refs={"security_group": "security_group:t/d/p/sg"})


def test_removals_pass_additions_do_not():
    assert violations([_act(NET, foreign_ports=[])], [NET]) == []
    assert violations([_act(NET, rbac_policies=[])], [NET]) == []
    assert violations([_act(SRV, security_groups=["security_group:t/d/p/sg"])], [SRV]) == []
    # negative controls: a forged "repair" that adds is refused
    assert violations([_act(NET, foreign_ports=["port-x"])], [NET])
    assert violations([_act(NET, rbac_policies=["access_as_shared of network n to p (policy x)"])], [NET])
    assert violations([_act(SRV, security_groups=["sg-of-someone-else"])], [SRV])
    assert violations([_act(NET, default_group={"ingress": ["tcp 22 from 0.0.0.0/0 (IPv4)"],
                                                 "ports": []})], [NET])
