"""`govcloud decommission SYSTEM` (the workflow itself: orchestrator/decommission.py) and
`govcloud certificate verify FILE`."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from ..errors import GovcloudError
from ..workspace import Workspace
from .session import locked, open_drivers, open_state

SANITIZERS = ("zeros", "random", "crypto-erase")
VERIFY_MODES = ("full", "sample")


@dataclass
class DecommissionResult:
    stack: str
    system_name: str
    dry_run: bool
    objects: list[dict[str, Any]]     # what is (or was) wiped and deleted
    workflow: dict[str, Any] | None   # the recorded workflow document (None on a dry run)

    @property
    def status(self) -> str:
        if self.dry_run:
            return "dry-run"
        return "finished" if (self.workflow or {}).get("finished") else "held"

    @property
    def certificate_files(self) -> dict[str, str]:
        return (self.workflow or {}).get("certificate", {}).get("files", {})

    def to_dict(self) -> dict[str, Any]:
        return {"format": "govcloud-decommission/1", "stack": self.stack, "status": self.status,
                "dry_run": self.dry_run, "objects": self.objects, "workflow": self.workflow}


def decommission(ws: Workspace, system: str, opts, lock_timeout: float,
                 say: Callable[[str], None] = lambda s: None) -> DecommissionResult:
    """Run (or resume) the workflow of ``system`` with ``opts`` (decommission.Options);
    ``say`` gets one line per step."""
    from ..decommission import Decommission, find_subject
    if opts.sanitizer not in SANITIZERS:
        raise GovcloudError(f"--sanitizer {opts.sanitizer!r}: use zeros, random or crypto-erase")
    if opts.sanitizer == "crypto-erase":
        raise GovcloudError("--sanitizer crypto-erase needs encrypted volume types and a key "
                            "manager; the configured targets have neither",
                            fix="use --sanitizer zeros or random")
    if opts.verify_mode not in VERIFY_MODES:
        raise GovcloudError(f"--verify {opts.verify_mode!r}: use full or sample")
    with open_state(ws) as store, locked(store, "decommission", lock_timeout, ws):
        spec = find_subject(ws, store, system)
        with open_drivers(ws, spec.targets) as drivers:
            say(f"Decommissioning {spec.stack} ({spec.system['name']})"
                + (" — orphaned: its approval is gone; it leaves through the exit process"
                   if spec.orphaned else "") + ":")
            out = Decommission(ws, store, drivers, spec, opts, say).run()
    if out.get("dry_run"):
        return DecommissionResult(spec.stack, spec.system["name"], True, out["objects"], None)
    return DecommissionResult(spec.stack, spec.system["name"], False, out.get("objects", []), out)


def certificate_verify(ws: Workspace | None, file: Path, key: Path | None = None) -> dict[str, Any]:
    """Check a certificate by its content: seal and signature (with ``key``, or the workspace's
    provider key), and inside a workspace also the audit chain; raises when anything fails."""
    from ..certificate import verify_certificate
    pem = None
    if key is not None:
        try:
            pem = key.read_text(encoding="utf-8")
        except OSError as exc:
            raise GovcloudError(f"--key {key}: cannot read the public key ({exc.strerror})")
    if ws is None:
        return {"format": "govcloud-certificate-verify/1", **verify_certificate(None, file, pem)}
    if pem is None:
        from ..trust.provider_key import key_path, load
        if key_path(ws.root).exists():
            pem = load(ws.root).public_pem()
    with open_state(ws) as store:
        return {"format": "govcloud-certificate-verify/1", **verify_certificate(store, file, pem)}


def provider_public_key(ws: Workspace) -> str:
    """The provider's public key (PEM), to hand to departments with their certificates."""
    from ..trust.provider_key import load_or_create
    return load_or_create(ws.root).public_pem()
