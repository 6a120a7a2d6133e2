"""`govcloud verify-isolation`: the isolation checks (orchestrator/isolation.py) against the
running cloud of every target the compiled specs use."""
from __future__ import annotations

import datetime as dt
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

    def to_dict(self) -> dict[str, Any]:
        return {"format": "govcloud-verify-isolation/1", "passed": not self.failed,
                "checks": [c.to_dict() for c in self.checks]}


def verify_isolation(ws: Workspace, probe: bool = True,
                     today: dt.date | None = None) -> IsolationReport:
    """``today``: the temporary windows open that day (accepted extensions included) are
    approved rules, as for `plan` and `expire`."""
    from ..extensions import extension_ends
    specs = ws.load_specs()
    ends = extension_ends(ws) if today is not None else None
    with open_drivers(ws, {z.target for s in specs for z in s.zones.values()}) as drivers:
        return IsolationReport(verify(specs, drivers, probe, today, ends))
