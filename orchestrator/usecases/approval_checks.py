"""Which approvals passed their own checks, a cache (``.govcloud/approval-check-cache.json``).

An approval's own checks (core/validate.check_approval: catalog references, disk sizes, zones,
inbound sources, materials...) read the approval, the catalog, the profile, govcloud.toml and
the targets' offers, nothing else. The cache records the SHA-256 of each approval's model JSON
(as validated: change documents applied, legacy ends read) that passed them, under a context
digest of everything else they read (compile's shared digest: govcloud.toml, catalog/ with the
profiles, the shipped catalog, the code and the library versions; and the offers). Only a
successful compile saves it, so every recorded approval passed. The checks between approvals
(numbers, names, systems, change and migration references) and the profile's rules still see
every approval on every run; at 10,000 approvals the own checks were the larger part.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Mapping

from ..cache_file import write_cache
from ..core.validate import Offer
from ..models.approval import Approval

FORMAT = "govcloud-approval-checks/1"


def context_digest(shared: str, offers: Mapping[str, Offer]) -> str:
    def names(v: frozenset[str] | None) -> list[str] | None:
        return None if v is None else sorted(v)
    listed = {t: [names(o.images), names(o.external_networks)] for t, o in offers.items()}
    return hashlib.sha256(f"{shared}\0{json.dumps(listed, sort_keys=True)}".encode()).hexdigest()


class ApprovalChecks:
    """Loaded for one compile; ``shared``: its shared digest (usecases/compile.py)."""

    def __init__(self, path: Path, shared: str) -> None:
        self.path, self.shared = path, shared
        self.context: str | None = None       # set by passed(), once the offers are known
        self._recorded: tuple[str, set[str]] | None = None
        self._json: dict[str, tuple[Approval, str]] = {}
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
            if raw.get("format") == FORMAT and isinstance(raw.get("passed"), list):
                self._recorded = (str(raw.get("context")), set(raw["passed"]))
        except (OSError, ValueError, TypeError, AttributeError):
            pass

    def model_json(self, file: str, a: Approval) -> str:
        """``a.model_dump_json()``, computed once per run (the stack index digests it too)."""
        hit = self._json.get(file)
        if hit is not None and hit[0] is a:
            return hit[1]
        text = a.model_dump_json()
        self._json[file] = (a, text)
        return text

    def _digest(self, file: str, a: Approval) -> str:
        return hashlib.sha256(self.model_json(file, a).encode()).hexdigest()

    def passed(self, approvals: Mapping[str, Approval], offers: Mapping[str, Offer]) -> set[str]:
        """The files whose approval passed its own checks under the same context."""
        self.context = context_digest(self.shared, offers)
        if self._recorded is None or self._recorded[0] != self.context:
            return set()
        known = self._recorded[1]
        return {f for f, a in approvals.items() if self._digest(f, a) in known}

    def save(self, approvals: Mapping[str, Approval]) -> None:
        """After a successful compile: every approval in ``approvals`` passed."""
        if self.context is None:
            return
        passed = sorted({self._digest(f, a) for f, a in approvals.items()})
        if self._recorded == (self.context, set(passed)):
            return
        write_cache(self.path, json.dumps({"format": FORMAT, "context": self.context,
                                           "passed": passed}, separators=(",", ":")))
