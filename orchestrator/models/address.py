"""A resource address: ``kind:target/department/project/name`` (a domain is ``domain:target/department``,
a project ``project:target/department/project``); a duplicate found in the cloud is keyed
``ADDRESS#cloud_id`` in a plan. One parser, so no module splits addresses by hand.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Address:
    kind: str
    target: str
    path: tuple[str, ...]          # department[, project[, name...]]
    duplicate: str | None = None   # the cloud id after "#": a second object with this address

    @classmethod
    def parse(cls, text: str) -> "Address":
        """Raises ValueError naming the text when it is not ``kind:target/...``."""
        base, _, dup = text.partition("#")
        kind, sep, rest = base.partition(":")
        parts = tuple(rest.split("/")) if rest else ()
        if not sep or not kind or len(parts) < 2 or any(not p for p in parts[:2]):
            raise ValueError(f"{text!r} is not a resource address (kind:target/department/...)")
        return cls(kind, parts[0], parts[1:], dup or None)

    @property
    def department(self) -> str:
        return self.path[0]

    @property
    def project(self) -> str | None:
        """The project's name for objects inside one (and for the project itself)."""
        return self.path[1] if len(self.path) > 1 else None

    @property
    def name(self) -> str:
        return self.path[-1]

    @property
    def base(self) -> str:
        """The address without a duplicate's ``#cloud_id``: the state's key."""
        return f"{self.kind}:{self.target}/{'/'.join(self.path)}"

    def with_kind(self, kind: str, *tail: str) -> "Address":
        """The address of a sibling kind in the same place (``quota`` of a project, ...)."""
        return Address(kind, self.target, self.path + tail)

    def __str__(self) -> str:
        return self.base + (f"#{self.duplicate}" if self.duplicate else "")


def kind_of(text: str) -> str:
    """The kind of an address, without a full parse (hot path of the planner)."""
    return text.partition(":")[0]


def target_of(text: str) -> str:
    return text.partition(":")[2].partition("/")[0]
