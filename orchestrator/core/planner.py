"""Desired specs x recorded state x observed cloud -> a plan. Pure and deterministic.

Per address: create what is desired and absent; adopt what the cloud holds with our tags but the
state lost (an apply killed between create and state write); replace what is tainted or differs
in a field that cannot change in place (and everything that points at a replaced object);
update what differs in updatable fields; delete what we own and no spec wants. Each action says
why. Objects without this workspace's ownership tag never reach the planner.

The destroy guard: a system whose spec is gone altogether (its approval removed or renamed) is
*orphaned*, never deleted: each of its objects is a no-op with cause ``orphaned``, and so is its
department's domain while such a system is in it. Only the exit process removes a system: the
decommission workflow passes its stack in ``release``. Removing a resource from a system that is
still approved (a change that drops a server or volume) deletes it as before, wipe first.
"""
from __future__ import annotations

from dataclasses import replace as with_fields
from datetime import date
from typing import Any, Iterable

from ..errors import GovcloudError, Issue
from ..models.cloud import STACK_TAG, Observed
from ..models.address import Address, kind_of, target_of
from ..models.plan import Action, ActionKind as A, Cause
from ..models.spec import ResourceSpec
from .drift import interfaces, isolation_drift, quota_outside
from .resources import KIND_ORDER, KINDS, rule_key
from ..models.state import StateRecord


def _order(address: str, kind: str) -> tuple[int, str]:
    return (KIND_ORDER.get(kind, 99), address)


def collect_desired(resources: Iterable[ResourceSpec]) -> dict[str, ResourceSpec]:
    """Union of all specs' resources; shared ones (a department's domain) must agree."""
    want: dict[str, ResourceSpec] = {}
    for r in resources:
        prev = want.get(r.address)
        if prev is None:
            want[r.address] = r
        elif prev.properties != r.properties or prev.refs != r.refs:
            raise GovcloudError(f"two stack specs disagree about {r.address}",
                                [Issue(r.address, f"{prev.properties} vs {r.properties}")],
                                fix="recompile: run `govcloud compile`")
    return want


def make_actions(desired: dict[str, ResourceSpec], records: dict[str, StateRecord],
                 observed: list[Observed], capabilities: dict[str, frozenset[str]],
                 today: date | None = None,
                 serialized: dict[str, tuple[ResourceSpec, dict]] | None = None,
                 release: Iterable[str] = (),
                 moves: Iterable[dict[str, str]] = (),
                 retaggable: frozenset[str] | None = None,
                 replace: Iterable[str] = ()) -> list[Action]:
    """``serialized`` (optional): address -> (resource, its ``model_dump(mode="json")``) known
    already (Workspace.load_specs fills it from the spec cache); used when the resource is the
    very object desired, instead of serialising it again. ``release``: stacks the exit process
    is removing (the only deletes of systems without a spec). ``moves``: the specs' ``moved:``
    records; a recorded or observed object at ``from`` is planned at ``to``, renamed in place
    (cause ``moved``), on targets in ``retaggable`` (those whose driver can rename and retag;
    None: no check). ``replace``: addresses to replace on purpose (``-replace``): each must be
    an object a spec wants that exists; what points at it is replaced with it."""
    missing = sorted({f"{r.target}: {r.kind}" for r in desired.values()
                      if r.kind not in capabilities.get(r.target, frozenset())})
    if missing:
        raise GovcloudError("the cloud target cannot hold what the specs need",
                            [Issue("targets", f"no support for {m}") for m in missing],
                            fix="point the zone at a target whose driver supports these kinds; "
                                "an EC2-compatible target (driver libcloud) has no domains or "
                                "quotas: give it layout = \"vpc\" (the default for libcloud) "
                                "and run `govcloud compile` again")
    obs: dict[str, Observed] = {}
    extras: list[Observed] = []
    for o in sorted(observed, key=lambda o: o.cloud_id):
        if not o.address:
            continue
        keep = obs.get(o.address)
        rec = records.get(o.address)
        if keep is None:
            obs[o.address] = o
        elif rec is not None and rec.cloud_id == o.cloud_id:
            extras.append(keep)
            obs[o.address] = o
        else:
            extras.append(o)
    moved_from: dict[str, str] = {}
    if moves:
        records = dict(records)
        moved_from = _apply_moves(list(moves), desired, records, obs, retaggable)
    id_to_addr = {o.cloud_id: o.address for o in obs.values()}

    approved = {r.stack for r in desired.values() if r.stack} | set(release)
    orphan_of = _orphans(approved, records, obs)
    scheduled: dict[str, tuple[Cause, str]] = {}
    if today is not None:
        for addr, r in list(desired.items()):
            if r.not_before and today < r.not_before:
                scheduled[addr] = (Cause.SCHEDULED, f"scheduled: its window starts {r.not_before}")
                del desired[addr]
            elif r.expires_on and today >= r.expires_on:
                scheduled[addr] = (Cause.EXPIRED, f"expired on {r.expires_on}")
                del desired[addr]
    quota_notes: dict[str, str] = {}
    for addr, r in list(desired.items()):
        if r.windows:
            props, note = effective_properties(r, today)
            desired[addr] = r.model_copy(update={"properties": props})
            quota_notes[addr] = note

    actions: dict[str, Action] = {}
    addresses = set(desired) | set(records) | set(obs) | set(scheduled)
    for addr in sorted(addresses, key=lambda a: _order(a, _kind(a, desired, records, obs))):
        d, s, o = desired.get(addr), records.get(addr), obs.get(addr)
        if d is None:
            if s is None and o is None:
                actions[addr] = _noop_scheduled(addr, *scheduled[addr])
                continue
            if addr in orphan_of and addr not in scheduled:
                actions[addr] = _held(addr, s, o, orphan_of[addr])
                continue
            cause, why = scheduled.get(addr) or (
                (Cause.REMOVED_FROM_SPEC, "no longer in any stack spec") if s else
                (Cause.OWNED_UNKNOWN, "owned by this workspace (tags) but in no spec or state"))
            actions[addr] = _delete(addr, s, o, id_to_addr, why, cause)
            continue
        pre = serialized.get(addr) if serialized else None
        dd = pre[1] if pre is not None and pre[0] is d else d.model_dump(mode="json")
        if o is None:
            if s is None:
                cause, why = Cause.NEW, "new in stack spec"
            elif s.status == "tainted":
                cause, why = Cause.TAINTED, "tainted (its create failed) and gone from the cloud"
            else:
                cause, why = Cause.MISSING, ("recorded in state but missing from the cloud "
                                             "(deleted outside govcloud)")
            actions[addr] = Action(addr, d.kind, d.target, A.CREATE, why,
                                   {f: {"old": None, "new": v} for f, v in sorted(d.properties.items())},
                                   dd, _prior(s, None), cause)
            continue
        if d.kind == "router" and d.refs.get("subnet") in interfaces(o, id_to_addr):
            # every interface is compared (drift.py), not the first one listed
            o = with_fields(o, refs={**o.refs, "subnet": _id_of(d.refs["subnet"], obs, o.refs.get("subnet"))})
        changes, needs_replace = _diff(d, o, id_to_addr)
        extra, drift_why = isolation_drift(d, o, id_to_addr)
        if d.kind == "quota" and changes:
            drift_why += quota_outside(changes, s.properties if s is not None else None)
        if extra:
            changes.update(extra)
            dd = {**dd, "properties": {**dd["properties"], **{f: c["new"] for f, c in extra.items()}}}
        prior = _prior(s, o)
        if (s is not None and s.status == "tainted") or o.status == "ERROR":
            actions[addr] = Action(addr, d.kind, d.target, A.REPLACE,
                                   f"tainted: its create failed (cloud status {o.status})",
                                   changes, dd, prior, Cause.TAINTED)
        elif needs_replace:
            fields = ", ".join(f for f in changes if changes[f].get("forces_replacement"))
            actions[addr] = Action(addr, d.kind, d.target, A.REPLACE,
                                   f"{fields} cannot change in place", changes, dd, prior,
                                   Cause.FORCES_REPLACEMENT)
        elif s is None:
            why = "found in the cloud by its ownership tags but not in state (interrupted apply)"
            actions[addr] = Action(addr, d.kind, d.target, A.ADOPT,
                                   why + (": adopt and update" if changes else ": adopt"),
                                   changes, dd, prior, Cause.UNTRACKED)
        elif changes:
            actions[addr] = Action(addr, d.kind, d.target, A.UPDATE,
                                   f"{', '.join(changes)} changed{quota_notes.get(addr, '')}"
                                   + "".join(f"; {w}" for w in drift_why),
                                   changes, dd, prior, Cause.DRIFT)
        else:
            actions[addr] = Action(addr, d.kind, d.target, A.NOOP, "up to date", {}, dd, prior,
                                   Cause.UP_TO_DATE)

    for to, frm in moved_from.items():
        if to in actions:
            actions[to] = _as_move(actions[to], frm)

    for addr in replace:
        actions[addr] = _requested_replace(addr, actions.get(addr))

    # A replaced object gets a new cloud id: whatever points at it is replaced too. ``actions``
    # is in plan order already (inserted in it; the loops above only replace values), so it
    # is not sorted again: two sorts of 185,000 addresses were a tenth of a no-op plan.
    for addr in actions:
        act = actions[addr]
        if act.action not in (A.UPDATE, A.NOOP, A.ADOPT) or act.desired is None:
            continue
        moved = [f for f, ref in act.desired.refs.items()
                 if ref in actions and actions[ref].action is A.REPLACE]
        if moved:
            actions[addr] = Action(addr, act.kind, act.target, A.REPLACE,
                                   f"{', '.join(moved)} is replaced", act.changes, act.desired,
                                   act.prior, Cause.REF_REPLACED)
    result = list(actions.values())
    for o in extras:
        if o.address in orphan_of:   # not even a duplicate of an orphaned system is deleted
            result.append(_held(f"{o.address}#{o.cloud_id}", None, o, orphan_of[o.address]))
            continue
        result.append(_delete(o.address, None, o, id_to_addr,
                              f"duplicate of {o.address} (an extra object with the same tags)",
                              Cause.DUPLICATE, key=f"{o.address}#{o.cloud_id}"))
    return result


def expand_moves(moves: list[dict[str, str]], addresses: Iterable[str],
                 stacks: dict[str, str | None]) -> dict[str, str]:
    """``from -> to`` per address: an address move as it is; a system move (DEPT/SYSTEM)
    for every address of that stack (``stacks``: address -> stack), its project segment
    ``<system>-<zone>`` renamed."""
    out: dict[str, str] = {}
    for m in moves:
        frm, to = m["from"], m["to"]
        if ":" in frm:
            out[frm] = to
            continue
        old_sys, new_sys = frm.split("/")[1], to.split("/")[1]
        for addr in addresses:
            if stacks.get(addr) != frm:
                continue
            a = Address.parse(addr)
            if a.project is None or not a.project.startswith(old_sys + "-"):
                continue
            project = new_sys + a.project[len(old_sys):]
            out[addr] = str(Address(a.kind, a.target, (a.department, project, *a.path[2:])))
    return out


def _apply_moves(moves, desired, records, obs, retaggable) -> dict[str, str]:
    """Re-key moved records and observations (in place) from ``from`` to ``to``; returns
    ``to -> from`` for the objects that move in this plan."""
    stacks = {a: r.stack for a, r in records.items()}
    stacks.update({a: o.tags.get(STACK_TAG) for a, o in obs.items() if a not in stacks})
    moved: dict[str, str] = {}
    for frm, to in sorted(expand_moves(moves, set(records) | set(obs), stacks).items()):
        if to not in desired:
            raise GovcloudError(f"moved: {to} is not in any stack spec",
                                [Issue("moved", f"{frm} -> {to}")],
                                fix="move to an address of an approved system (govcloud plan "
                                    "lists them), or remove the moved record")
        rec, o = records.get(frm), obs.get(frm)
        if rec is None and o is None:
            continue                                  # moved before (or never existed)
        if to in records or to in obs:
            raise GovcloudError(f"moved: {frm} -> {to}, but {to} already exists",
                                [Issue("moved", f"{to} is in state or in the cloud already")],
                                fix="remove the moved record, or `govcloud state rm` one of them")
        target = desired[to].target
        if retaggable is not None and target not in retaggable:
            raise GovcloudError(f"moved: cloud target {target!r} cannot rename or retag objects "
                                f"in place, so {frm} -> {to} would be destroy + create",
                                [Issue("moved", "the target's driver does not declare the "
                                                "'retag' capability")],
                                fix="remove the moved record (then plan shows the replacement), "
                                    "or use a target whose driver can retag")
        if rec is not None:
            records[to] = StateRecord(to, rec.kind, rec.target, rec.cloud_id, rec.status,
                                      desired[to].stack, rec.approval, rec.properties, rec.refs)
            del records[frm]
        if o is not None:
            obs[to] = Observed(to, o.kind, o.cloud_id, o.properties, o.refs, o.tags, o.status)
            del obs[frm]
        moved[to] = frm
    return moved


def _requested_replace(addr: str, act: Action | None) -> Action:
    if act is None or act.desired is None:
        raise GovcloudError(f"-replace {addr}: no stack spec wants this object",
                            [Issue("-replace", act.reason if act else "not in the plan")],
                            fix="name an approved object's address (govcloud state list); an "
                                "orphaned system's objects leave only through the exit process")
    if act.action is A.CREATE:
        raise GovcloudError(f"-replace {addr}: it does not exist yet; the plan creates it",
                            [Issue("-replace", act.reason)], fix="leave out -replace")
    if act.action is A.REPLACE:
        return act
    return Action(addr, act.kind, act.target, A.REPLACE,
                  "replacement requested with -replace" + (
                      f" (also {', '.join(act.changes)} changed)" if act.changes else ""),
                  act.changes, act.desired, act.prior, Cause.REPLACE_REQUESTED)


def _as_move(act: Action, frm: str) -> Action:
    """The action at a moved object's new address: a rename in place. Its name changes
    without a replacement; anything else that cannot change in place still replaces it."""
    changes = {f: ({k: v for k, v in ch.items() if k != "forces_replacement"} if f == "name" else ch)
               for f, ch in act.changes.items()}
    changes = {"address": {"old": frm, "new": act.address}, **changes}
    prior = {**(act.prior or {}), "moved_from": frm}
    if act.action is A.CREATE or act.desired is None:   # gone from the cloud: made anew at ``to``
        return Action(act.address, act.kind, act.target, act.action,
                      f"{act.reason} (moved from {frm})", act.changes, act.desired, prior, act.cause)
    forced = [f for f, ch in changes.items() if ch.get("forces_replacement")]
    if forced or act.cause is Cause.TAINTED:
        return Action(act.address, act.kind, act.target, A.REPLACE,
                      f"moved from {frm}; {', '.join(forced) or 'tainted'} cannot change in place",
                      changes, act.desired, prior, act.cause)
    return Action(act.address, act.kind, act.target, A.UPDATE,
                  f"moved from {frm}: renamed in the cloud and in state, not replaced",
                  changes, act.desired, prior, Cause.MOVED)


def effective_properties(r: ResourceSpec, today: date | None,
                         extension_ends: dict[str, date] | None = None) -> tuple[dict[str, Any], str]:
    """A quota's limits, or a security group's rules, on ``today``: the permanent ones plus
    every temporary window open then (:func:`orchestrator.core.windows.open_windows`); all
    windows when ``today`` is None (no date filtering)."""
    from .windows import open_windows
    props = dict(r.properties)
    open_now = open_windows(r, today, extension_ends)
    for w in open_now:
        for k, n in w.add.items():
            props[k] = props.get(k, 0) + n
    if any(w.rules for w in open_now):
        merged = {rule_key(x): x for x in props.get("rules", [])}
        for w in open_now:
            merged.update((rule_key(x), x) for x in w.rules)
        props["rules"] = [merged[k] for k in sorted(merged)]
    shut = [w for w in r.windows if w not in open_now]
    parts = []
    if open_now:
        verb = "opened" if r.kind == "security_group" else "raised"
        parts.append(f"{verb} for " + ", ".join(f"{w.approval} ({w.start} to {w.end})" for w in open_now))
    if shut:
        parts.append("without " + ", ".join(
            f"{w.approval} ({'opens ' + str(w.start) if today < w.start else 'ended, last day ' + str(w.end)})"
            for w in shut))
    return props, f" (temporary windows: {'; '.join(parts)})" if parts else ""


def _id_of(address: str, obs: dict[str, Observed], default: str | None) -> str | None:
    o = obs.get(address)
    return o.cloud_id if o is not None else default


def _kind(addr, desired, records, obs) -> str:
    for src in (desired, records, obs):
        if addr in src:
            return src[addr].kind
    return kind_of(addr)


def _noop_scheduled(addr: str, cause: Cause, why: str) -> Action:
    return Action(addr, kind_of(addr), target_of(addr), A.NOOP, why, cause=cause)


def _stack_of(s: StateRecord | None, o: Observed | None) -> str | None:
    return s.stack if s is not None else (o.tags.get(STACK_TAG) if o is not None else None)


def _orphans(approved: set[str], records: dict[str, StateRecord],
             obs: dict[str, Observed]) -> dict[str, str]:
    """Address -> its orphaned stack, for every recorded or observed object of a system that
    no spec has any more; a department's domain is held while one of its systems is."""
    out: dict[str, str] = {}
    known = set(records) | set(obs)
    for addr in known:
        stack = _stack_of(records.get(addr), obs.get(addr))
        if stack and stack not in approved:
            out[addr] = stack
    if not out:
        return out   # no orphaned system: no domain is held
    departments = {stack.partition("/")[0]: stack for stack in sorted(out.values())}
    for addr in known:
        if kind_of(addr) == "domain" and addr not in out:
            try:
                dept = Address.parse(addr).department
            except ValueError:
                continue
            if dept in departments:
                out[addr] = departments[dept]
    return out


def _held(key: str, s: StateRecord | None, o: Observed | None, stack: str) -> Action:
    """A no-op for an orphaned system's object: its approval is gone, its data stays."""
    prior = _prior(s, o) or {}
    prior["stack"] = stack
    return Action(key, (s or o).kind, s.target if s else target_of(key), A.NOOP,
                  f"orphaned: no approval compiles to {stack} any more (removed or renamed); "
                  f"nothing of it is deleted: it leaves only through the exit process "
                  f"(restore its approval file, then govcloud request-exit and govcloud decommission)",
                  {}, None, prior,
                  Cause.ORPHANED)


def _prior(s: StateRecord | None, o: Observed | None) -> dict[str, Any] | None:
    if s is None and o is None:
        return None
    return {"cloud_id": o.cloud_id if o else s.cloud_id,
            "status": s.status if s else "untracked",
            "refs": dict(s.refs) if s else {},
            "properties": dict(o.properties) if o else dict(s.properties)}


def _delete(addr, s, o, id_to_addr, why, cause: Cause, key=None) -> Action:
    kind = (s or o).kind
    target = s.target if s else target_of(addr)
    prior = _prior(s, o)
    if o is not None and not prior["refs"]:
        prior["refs"] = {f: id_to_addr.get(i, i) for f, i in o.refs.items()}
    if o is None:
        why += "; already gone from the cloud, only the state record is removed"
    return Action(key or addr, kind, target, A.DELETE, why, {}, None, prior, cause)


_SORTED_FIELDS: dict[str, tuple[str, ...]] = {}   # kind -> its fields, sorted (built once)


def _diff(d: ResourceSpec, o: Observed, id_to_addr: dict[str, str]) -> tuple[dict, bool]:
    kind = KINDS[d.kind]
    changes: dict[str, dict[str, Any]] = {}
    replace = False
    fields = _SORTED_FIELDS.get(d.kind)
    if fields is None:
        fields = _SORTED_FIELDS[d.kind] = tuple(sorted(kind.fields))
    props = d.properties
    for f in fields:   # = sorted(kind.fields & props.keys()), without a set and a sort each
        if f not in props:
            continue
        new, old = props[f], o.properties.get(f)
        if new == old:
            continue
        forces = f in kind.replace or (f in kind.grow_only and old is not None and new < old)
        changes[f] = {"old": old, "new": new, **({"forces_replacement": True} if forces else {})}
        replace |= forces
    for f in kind.refs:
        want, have = d.refs.get(f), id_to_addr.get(o.refs.get(f, ""), o.refs.get(f))
        if want != have:
            changes[f] = {"old": have, "new": want, "forces_replacement": True}
            replace = True
    return changes, replace
