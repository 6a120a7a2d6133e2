"""The planner, pure: every action kind with its reason, replacement cascades, determinism."""
import pytest

from orchestrator.errors import GovcloudError
from orchestrator.core.graph import build
from orchestrator.models.cloud import Observed
from orchestrator.models.spec import ResourceSpec
from orchestrator.models.state import StateRecord
from orchestrator.core.planner import collect_desired, make_actions
from orchestrator.core.resources import KINDS

CAPS = {"t": frozenset(KINDS)}
P = "t/d/s-internet"


def spec(kind, name, props, refs=None, address=None):
    return ResourceSpec(address=address or f"{kind}:{P}/{name}", kind=kind, name=name, target="t",
                        zone="internet", stack="d/s", properties=props, refs=refs or {})


def world():
    dom = ResourceSpec(address="domain:t/d", kind="domain", name="d", target="t",
                       properties={"name": "d", "description": "D"})
    proj = spec("project", "s-internet", {"name": "s-internet", "description": "x"},
                {"domain": "domain:t/d"}, address=f"project:{P}")
    net = spec("network", "net", {"name": "n"}, {"project": proj.address})
    sub = spec("subnet", "subnet", {"name": "sn", "cidr": "10.0.0.0/24", "gateway_ip": "10.0.0.1"},
               {"network": net.address})
    vol = spec("volume", "v", {"name": "v", "size_gb": 10, "volume_type": "ssd"},
               {"project": proj.address})
    return [dom, proj, net, sub, vol]


def observed_of(resources, ids=None, **overrides):
    ids = ids or {r.address: f"id-{r.name}" for r in resources}
    out = []
    for r in resources:
        props = {**r.properties, **overrides.get(r.address, {})}
        out.append(Observed(r.address, r.kind, ids[r.address], props,
                            {f: ids[a] for f, a in r.refs.items()}, {}))
    return out


def records_of(resources, status="ok"):
    return {r.address: StateRecord(r.address, r.kind, "t", f"id-{r.name}", status, r.stack, None,
                                   r.properties, r.refs) for r in resources}


def by_addr(actions):
    return {a.address: a for a in actions}


def test_fresh_world_creates_everything_in_dependency_order():
    res = world()
    acts = make_actions(collect_desired(res), {}, [], CAPS)
    assert [a.action for a in acts] == ["create"] * 5
    assert all(a.reason == "new in stack spec" for a in acts)
    waves = build(acts).batches()
    order = [s[0].split(":")[0] for wave in waves for s in wave]
    assert order.index("domain") < order.index("project") < order.index("network") < order.index("subnet")


def test_matching_world_is_all_noop_with_reasons():
    res = world()
    acts = make_actions(collect_desired(res), records_of(res), observed_of(res), CAPS)
    assert {a.action for a in acts} == {"no-op"}
    assert all(a.reason == "up to date" for a in acts)


def test_updatable_field_is_an_update_and_replace_field_cascades():
    res = world()
    obs = observed_of(res, **{f"volume:{P}/v": {"size_gb": 5}, f"subnet:{P}/subnet": {"cidr": "10.9.0.0/24"}})
    acts = by_addr(make_actions(collect_desired(res), records_of(res), obs, CAPS))
    assert acts[f"volume:{P}/v"].action == "update"
    assert acts[f"volume:{P}/v"].changes["size_gb"] == {"old": 5, "new": 10}
    assert acts[f"subnet:{P}/subnet"].action == "replace"
    assert "cidr" in acts[f"subnet:{P}/subnet"].reason


def test_shrinking_a_volume_forces_replacement_not_an_update():
    res = world()
    obs = observed_of(res, **{f"volume:{P}/v": {"size_gb": 20}})
    acts = by_addr(make_actions(collect_desired(res), records_of(res), obs, CAPS))
    assert acts[f"volume:{P}/v"].action == "replace"


def test_replacing_a_parent_replaces_its_children():
    res = world()
    obs = observed_of(res, **{f"network:{P}/net": {}})
    # the network's name is updatable, but its project is replaced: everything below follows
    obs = [o if o.kind != "project" else Observed(o.address, o.kind, o.cloud_id,
                                                   {**o.properties, "name": "other"}, o.refs, {})
           for o in obs]
    acts = by_addr(make_actions(collect_desired(res), records_of(res), obs, CAPS))
    assert acts[f"project:{P}"].action == "replace"
    assert acts[f"network:{P}/net"].action == "replace"
    assert acts[f"network:{P}/net"].reason == "project is replaced"
    assert acts[f"subnet:{P}/subnet"].action == "replace"
    assert acts["domain:t/d"].action == "no-op"


def test_missing_from_cloud_is_recreated_with_reason():
    res = world()
    obs = [o for o in observed_of(res) if o.kind != "volume"]
    acts = by_addr(make_actions(collect_desired(res), records_of(res), obs, CAPS))
    assert acts[f"volume:{P}/v"].action == "create"
    assert "deleted outside govcloud" in acts[f"volume:{P}/v"].reason


def test_untracked_owned_object_is_adopted_not_duplicated():
    res = world()
    recs = records_of(res)
    del recs[f"volume:{P}/v"]
    acts = by_addr(make_actions(collect_desired(res), recs, observed_of(res), CAPS))
    assert acts[f"volume:{P}/v"].action == "adopt"
    assert "interrupted apply" in acts[f"volume:{P}/v"].reason


def test_tainted_is_replaced():
    res = world()
    recs = records_of(res)
    recs[f"volume:{P}/v"] = StateRecord(f"volume:{P}/v", "volume", "t", "id-v", "tainted")
    acts = by_addr(make_actions(collect_desired(res), recs, observed_of(res), CAPS))
    assert acts[f"volume:{P}/v"].action == "replace"
    assert acts[f"volume:{P}/v"].reason.startswith("tainted")


def test_no_longer_desired_is_deleted_children_first():
    res = world()
    keep = res[:2]
    acts = make_actions(collect_desired(keep), records_of(res), observed_of(res), CAPS)
    deletes = [a for a in acts if a.action == "delete"]
    assert {a.address.split(":")[0] for a in deletes} == {"network", "subnet", "volume"}
    waves = build(acts).batches()
    flat = [s[0].split(":")[0] for w in waves for s in w]
    assert flat.index("subnet") < flat.index("network")


def test_duplicate_owned_objects_are_deleted_keeping_the_recorded_one():
    res = world()
    obs = observed_of(res)
    vol = next(o for o in obs if o.kind == "volume")
    obs.append(Observed(vol.address, "volume", "id-zz-dup", vol.properties, vol.refs, {}))
    acts = make_actions(collect_desired(res), records_of(res), obs, CAPS)
    dup = [a for a in acts if a.action == "delete"]
    assert len(dup) == 1 and dup[0].prior["cloud_id"] == "id-zz-dup"
    assert "duplicate" in dup[0].reason


def test_missing_capability_is_refused_before_anything():
    res = world()
    with pytest.raises(GovcloudError, match="cannot hold") as exc:
        make_actions(collect_desired(res), {}, [], {"t": frozenset({"domain", "project"})})
    assert any("t: volume" in str(i) for i in exc.value.issues)


def test_specs_that_disagree_on_a_shared_object_are_refused():
    a = world()[0]
    b = ResourceSpec(**{**a.model_dump(), "properties": {"name": "d", "description": "other"}})
    with pytest.raises(GovcloudError, match="disagree"):
        collect_desired([a, b])


def test_same_inputs_same_plan():
    res = world()
    one = make_actions(collect_desired(res), {}, [], CAPS)
    two = make_actions(collect_desired(list(reversed(res))), {}, [], CAPS)
    assert [a.to_dict() for a in one] == [a.to_dict() for a in two]


def test_every_action_carries_a_structured_cause():
    """Code decides on ActionKind and Cause, never on the reason's text."""
    from datetime import date
    from orchestrator.models.plan import ActionKind, Cause
    res = world()
    fresh = make_actions(collect_desired(res), {}, [], CAPS)
    assert {(a.action, a.cause) for a in fresh} == {(ActionKind.CREATE, Cause.NEW)}
    same = make_actions(collect_desired(res), records_of(res), observed_of(res), CAPS)
    assert {a.cause for a in same} == {Cause.UP_TO_DATE}
    vol = res[-1]
    drift = by_addr(make_actions(collect_desired(res), records_of(res),
                                 observed_of(res, **{vol.address: {"size_gb": 5}}), CAPS))
    assert (drift[vol.address].action, drift[vol.address].cause) == ("update", Cause.DRIFT)
    gone = by_addr(make_actions(collect_desired(res[:-1]), records_of(res), observed_of(res), CAPS))
    assert (gone[vol.address].action, gone[vol.address].cause) == ("delete", Cause.REMOVED_FROM_SPEC)
    untracked = by_addr(make_actions(collect_desired(res), records_of(res[:-1]), observed_of(res), CAPS))
    assert untracked[vol.address].cause is Cause.UNTRACKED
    sub = res[3]
    moved = by_addr(make_actions(collect_desired(res), records_of(res),
                                 observed_of(res, **{sub.address: {"cidr": "10.9.0.0/24"}}), CAPS))
    assert moved[sub.address].cause is Cause.FORCES_REPLACEMENT
    ended = vol.model_copy(update={"expires_on": date(2026, 7, 1)})
    expired = by_addr(make_actions(collect_desired([*res[:-1], ended]), records_of(res),
                                   observed_of(res), CAPS, today=date(2026, 7, 1)))
    assert (expired[vol.address].action, expired[vol.address].cause) == ("delete", Cause.EXPIRED)
    # The reason is for people: a delete whose text says "expired on" is not treated as expired.
    assert gone[vol.address].reason != expired[vol.address].reason


def test_plan_actions_round_trip_with_typed_values():
    from orchestrator.models.plan import Action, ActionKind, Cause, Desired
    res = world()
    for a in make_actions(collect_desired(res), {}, [], CAPS):
        back = Action.from_dict(a.to_dict())
        assert back == a and isinstance(back.action, ActionKind) and isinstance(back.cause, Cause)
        assert isinstance(back.desired, Desired) and back.desired.refs == a.desired.refs
    with pytest.raises(ValueError):
        Action.from_dict({**a.to_dict(), "action": "explode"})


def test_destroy_guard_orphans_a_system_without_a_spec_and_the_exit_process_releases_it():
    from orchestrator.models.plan import ActionKind, Cause
    res = world()
    dom, rest = res[0], res[1:]
    # The system's spec is gone (its approval removed): nothing of it is deleted, the domain
    # of its department is held too; state-less objects found by their tags are held as well.
    obs = [o if o.kind == "domain" else
           Observed(o.address, o.kind, o.cloud_id, o.properties, o.refs, {"govcloud.stack": "d/s"})
           for o in observed_of(res)]
    acts = make_actions({}, records_of(res), obs, CAPS)
    assert {(a.action, a.cause) for a in acts} == {(ActionKind.NOOP, Cause.ORPHANED)}
    assert len(acts) == len(res)
    lost_state = make_actions({}, {}, obs, CAPS)
    assert all(a.cause is Cause.ORPHANED for a in lost_state if a.kind != "domain")
    # decommission releases its own stack: then the deletes are planned
    freed = make_actions({}, records_of(res), obs, CAPS, release={"d/s"})
    assert {a.action for a in freed} == {ActionKind.DELETE}
    # another system's spec present keeps nothing of this one
    other = [r.model_copy(update={"address": r.address.replace("/s-internet", "/t-internet"),
                                  "stack": "d/t"}) for r in rest]
    mixed = by_addr(make_actions(collect_desired([dom, *other]), records_of(res), obs, CAPS))
    assert mixed[rest[-1].address].cause is Cause.ORPHANED
    assert mixed[dom.address].action is not ActionKind.DELETE
