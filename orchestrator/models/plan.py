"""A plan is a value: the actions to take, why, and the state it was made against.

Its file format (``govcloud-plan/1``), signature and freshness rules: orchestrator/planfile.py.

``action`` is an :class:`ActionKind` and ``cause`` a :class:`Cause`: code decides on those, never
on ``reason``, which is the sentence for people.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

PLAN_FORMAT = "govcloud-plan/1"


class ActionKind(str, enum.Enum):
    """What the executor does with an address (a str: JSON and comparisons see the value)."""
    CREATE = "create"
    UPDATE = "update"
    REPLACE = "replace"
    DELETE = "delete"
    ADOPT = "adopt"
    NOOP = "no-op"

    def __str__(self) -> str:
        return self.value


class Cause(str, enum.Enum):
    """Why the planner chose the action (the structured half of ``reason``)."""
    NEW = "new"                              # in a spec, nowhere else
    MISSING = "missing"                      # recorded, gone from the cloud (deleted outside)
    TAINTED = "tainted"                      # its create failed
    DRIFT = "drift"                          # updatable fields differ
    FORCES_REPLACEMENT = "forces-replacement"  # a field that cannot change in place differs
    REF_REPLACED = "ref-replaced"            # something it points at is replaced
    UNTRACKED = "untracked"                  # found by its tags, not in state (interrupted apply)
    UP_TO_DATE = "up-to-date"
    SCHEDULED = "scheduled"                  # its window has not opened yet
    EXPIRED = "expired"                      # its term ended (expires_on <= today)
    REMOVED_FROM_SPEC = "removed-from-spec"  # recorded, no spec wants it
    OWNED_UNKNOWN = "owned-unknown"          # our tags, in no spec and no state
    DUPLICATE = "duplicate"                  # a second object with the same address tag
    WINDOW_ENDED = "window-ended"            # expiry: quota lowered / rules closed
    ORPHANED = "orphaned"                    # its system's approval is gone: only the exit process
                                             # (decommission) may remove it
    MOVED = "moved"                          # a moved: record (or state mv) renames it in place
    REPLACE_REQUESTED = "replace-requested"  # plan/apply -replace ADDRESS

    def __str__(self) -> str:
        return self.value


ACTIONS = tuple(k.value for k in ActionKind)
CHANGING = frozenset(k for k in ActionKind if k is not ActionKind.NOOP)


@dataclass(frozen=True, slots=True)
class Desired:
    """A resource as its spec wants it: typed fields over the spec's JSON data, which stays as
    read (``data``: shared with the spec cache; the plan file and its digest are made of it)."""
    address: str
    kind: str
    name: str
    target: str
    properties: Mapping[str, Any]
    refs: Mapping[str, str]
    stack: str | None
    zone: str | None
    approval: str | None
    data: Mapping[str, Any] = field(repr=False, compare=False)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "Desired":
        return cls(d["address"], d["kind"], d["name"], d["target"], d.get("properties") or {},
                   d.get("refs") or {}, d.get("stack"), d.get("zone"), d.get("approval"), d)

    def with_properties(self, properties: Mapping[str, Any]) -> "Desired":
        return Desired.from_dict({**self.data, "properties": dict(properties)})

    def to_dict(self) -> Mapping[str, Any]:
        return self.data


@dataclass(frozen=True)
class Action:
    address: str
    kind: str
    target: str
    action: ActionKind
    reason: str
    changes: dict[str, dict[str, Any]] = field(default_factory=dict)
    desired: Desired | None = None
    prior: dict[str, Any] | None = None
    cause: Cause = Cause.UP_TO_DATE

    def __post_init__(self):
        # Accept plain values (a loaded plan file, tests) and keep one type inside.
        if not isinstance(self.action, ActionKind):
            object.__setattr__(self, "action", ActionKind(self.action))
        if not isinstance(self.cause, Cause):
            object.__setattr__(self, "cause", Cause(self.cause))
        if self.desired is not None and not isinstance(self.desired, Desired):
            object.__setattr__(self, "desired", Desired.from_dict(self.desired))

    @property
    def approval(self) -> str | None:
        return self.desired.approval if self.desired is not None else None

    def to_dict(self) -> dict[str, Any]:
        # Shallow on purpose: the values are already plain JSON data, and dataclasses.asdict's
        # deep copy was a third of a 19,000-object no-op plan.
        return {"address": self.address, "kind": self.kind, "target": self.target,
                "action": self.action.value, "cause": self.cause.value, "reason": self.reason,
                "changes": self.changes,
                "desired": self.desired.data if self.desired is not None else None,
                "prior": self.prior}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "Action":
        """From a plan file's action; raises KeyError/TypeError/ValueError on a damaged one."""
        return cls(d["address"], d["kind"], d["target"], ActionKind(d["action"]), d["reason"],
                   d.get("changes") or {}, d.get("desired"), d.get("prior"), Cause(d["cause"]))


@dataclass
class Plan:
    workspace_id: str
    lineage: str
    serial: int
    inputs_digest: str
    actions: list[Action]
    created_at: str = ""
    digest: str = ""   # a property (below): as given, or computed on first read (sign_with)
    # approval number -> {file, sha256, signature: {key_id, sha256} | None}: the approvals the
    # actions stand on (an action's number: its desired.approval or prior["approval"]); apply
    # refuses the plan when they changed since (usecases/approval.check_plan_seals).
    approvals: dict[str, Any] = field(default_factory=dict)
    # What the reviewer reads beside the actions (orchestrator/core/review.py, as plain data):
    # the quota view, the fee change, the excesses (a plan that has some is refused). Covered
    # by the digest; absent (None) from plans nobody reviews (the expiry job's).
    review: dict[str, Any] | None = None
    # What the refresh read, per target that could choose (core/refresh_scope.py): absent when
    # every target was read in full with no choice (``--refresh=full``, or no such target).
    refresh: list[dict[str, Any]] | None = None
    # Which stacks the plan covers (core/plan_scope.py: {planned, of, skipped, departments,
    # reason, last_full}): absent from plans of workspaces below ``[plan] skip_unchanged_from``.
    # With ``skipped`` > 0 the actions are the planned departments' only; the others were
    # found unchanged and not read.
    stacks: dict[str, Any] | None = None

    def sign_with(self, signer: Callable[["Plan"], str]) -> None:
        """The digest is ``signer(self)``, computed when first read: HMAC over the canonical
        JSON of every action is a fifth of a no-op plan of 19,000 objects, and only a plan
        that is saved, applied or shown as JSON needs it. Sign a plan once it is complete."""
        self.__dict__["_digest"] = None
        self.__dict__["_signer"] = signer

    @property
    def summary(self) -> dict[str, int]:
        counts = {a: 0 for a in ACTIONS}
        for act in self.actions:
            counts[act.action.value] += 1
        return counts

    @property
    def orphaned(self) -> list[str]:
        """Systems whose approval was removed or renamed: held, untouched, until they exit."""
        return sorted({a.prior.get("stack") or "" for a in self.actions
                       if a.cause is Cause.ORPHANED and a.prior} - {""})

    @property
    def has_changes(self) -> bool:
        return any(a.action in CHANGING for a in self.actions)

    def body(self, actions: bool = True) -> dict[str, Any]:
        """Everything the digest covers (without the actions when ``actions`` is false)."""
        out: dict[str, Any] = {
            "format": PLAN_FORMAT,
            "workspace_id": self.workspace_id,
            "state": {"lineage": self.lineage, "serial": self.serial},
            "inputs_digest": self.inputs_digest,
            "summary": self.summary,
            "approvals": self.approvals,
        }
        if self.review is not None:
            out["review"] = self.review
        if self.refresh is not None:
            out["refresh"] = self.refresh
        if self.stacks is not None:
            out["stacks"] = self.stacks
        if actions:
            out["actions"] = [a.to_dict() for a in self.actions]
        return out

    def to_dict(self) -> dict[str, Any]:
        out = {**self.body(), "created_at": self.created_at, "digest": self.digest}
        out.setdefault("refresh", [])   # the JSON shape is the same whatever the targets
        out.setdefault("stacks", None)  # and whatever the workspace's size
        return out


def _get_digest(self: Plan) -> str:
    d = self.__dict__
    if d.get("_digest") is None and d.get("_signer") is not None:
        d["_digest"] = d.pop("_signer")(self)
    return d.get("_digest") or ""


def _set_digest(self: Plan, value: str) -> None:
    self.__dict__["_digest"] = value
    self.__dict__.pop("_signer", None)


Plan.digest = property(_get_digest, _set_digest)  # type: ignore[assignment,method-assign]
