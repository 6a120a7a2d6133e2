"""`govcloud verify-isolation`: the isolation checks (orchestrator/isolation.py) against the
running cloud of every target the compiled specs use."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..isolation import Check, verify
from ..workspace import Workspace
from .session import open_drivers


@dataclass
class IsolationReport:
    checks: list[Check]

    @property
    def failed(self) -> list[Check]:
        return [c for c in self.checks if c.status == "FAIL"]

    def counts(self) -> dict[str, int]:
        return {s: sum(c.status == s for c in self.checks) for s in ("PASS", "FAIL", "N/A")}

    @property
    def summary(self) -> str:
        """"passed", "passed with N checks not performed" or "failed: F of T checks"; N/A rows
        are never counted as passes."""
        n = self.counts()
        if self.failed:
            return (f"failed: {n['FAIL']} of {len(self.checks)} checks"
                    + (f" ({n['N/A']} not performed)" if n["N/A"] else ""))
        if n["N/A"]:
            return f"passed with {n['N/A']} check{'s' if n['N/A'] != 1 else ''} not performed"
        return "passed"

    def to_dict(self) -> dict[str, Any]:
        n = self.counts()
        return {"format": "govcloud-verify-isolation/1", "passed": not self.failed,
                "summary": self.summary, "counts": {"pass": n["PASS"], "fail": n["FAIL"],
                                                    "not_performed": n["N/A"]},
                "checks": [c.to_dict() for c in self.checks]}


def verify_isolation(ws: Workspace, probe: bool = True) -> IsolationReport:
    specs = ws.load_specs()
    with open_drivers(ws, {z.target for s in specs for z in s.zones.values()}) as drivers:
        return IsolationReport(verify(specs, drivers, probe))
