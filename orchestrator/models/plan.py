"""A plan is a value: the actions to take, why, and the state it was made against.

Its file format (``govcloud-plan/1``), signature and freshness rules: orchestrator/planfile.py.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

ACTIONS = ("create", "update", "replace", "delete", "adopt", "no-op")
CHANGING = frozenset({"create", "update", "replace", "delete", "adopt"})
PLAN_FORMAT = "govcloud-plan/1"


@dataclass(frozen=True)
class Action:
    address: str
    kind: str
    target: str
    action: str
    reason: str
    changes: dict[str, dict[str, Any]] = field(default_factory=dict)
    desired: dict[str, Any] | None = None
    prior: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        # Shallow on purpose: the values are already plain JSON data, and dataclasses.asdict's
        # deep copy was a third of a 19,000-object no-op plan.
        return {"address": self.address, "kind": self.kind, "target": self.target,
                "action": self.action, "reason": self.reason, "changes": self.changes,
                "desired": self.desired, "prior": self.prior}


@dataclass
class Plan:
    workspace_id: str
    lineage: str
    serial: int
    inputs_digest: str
    actions: list[Action]
    created_at: str = ""
    digest: str = ""   # a property (below): as given, or computed on first read (sign_with)

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
            counts[act.action] += 1
        return counts

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
        }
        if actions:
            out["actions"] = [a.to_dict() for a in self.actions]
        return out

    def to_dict(self) -> dict[str, Any]:
        return {**self.body(), "created_at": self.created_at, "digest": self.digest}


def _get_digest(self: Plan) -> str:
    d = self.__dict__
    if d.get("_digest") is None and d.get("_signer") is not None:
        d["_digest"] = d.pop("_signer")(self)
    return d.get("_digest") or ""


def _set_digest(self: Plan, value: str) -> None:
    self.__dict__["_digest"] = value
    self.__dict__.pop("_signer", None)


Plan.digest = property(_get_digest, _set_digest)  # type: ignore[assignment,method-assign]
