"""`govcloud restore SYSTEM --from BACKUP --into VOLUME`: a decommission backup written back
into a volume of an approved system, the department's way back after its exit (the regulations
make the backup that). The backup is found in the system's decommission workflow (by file, URI
or the medium's id), its SHA-256 checked against what the backup step recorded, written into
the volume through the driver's MediaAccess, and the volume's bytes checked against the same
SHA-256. The volume must be a volume of an approved, managed system (so the bytes go where an
approval gave room: it is made by `apply` from an approval, never by restore), empty, and at
least as large as the backup. Audited ``restore``."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from drivers.base import MediaAccess
from drivers.media import HASH_BLOCK, content_sha256, data_extents

from ..core.planner import collect_desired
from ..decommission import workflow_name
from ..errors import GovcloudError
from ..models.cloud import Observed
from ..state.base import default_actor
from ..workspace import Workspace
from .session import locked, open_drivers, open_state


@dataclass
class RestoreResult:
    stack: str
    backup: str
    sha256: str
    into: str
    cloud_id: str
    bytes: int

    def to_dict(self) -> dict[str, Any]:
        return {"format": "govcloud-restore/1", **self.__dict__}


def prefix_sha256(path: Path, size: int) -> str:
    """content_sha256 of the first ``size`` bytes of ``path`` (a volume larger than the backup
    written into it hashes like the backup)."""
    return content_sha256(path, size)


def _local_path(uri: str) -> Path | None:
    p = urlsplit(uri)
    return Path(unquote(p.path)) if p.scheme == "file" else None


def restore(ws: Workspace, system: str, backup: str, into: str, lock_timeout: float) -> RestoreResult:
    with open_state(ws) as store, locked(store, "restore", lock_timeout):
        stacks = [s for s in ((store.get_workflow("decommission-index") or {}).get("stacks", []))
                  if system in (s, s.split("/")[-1])]
        wf = store.get_workflow(workflow_name(stacks[0])) if stacks else None
        if not wf:
            raise GovcloudError(f"{system} has no decommission record, so no backup to restore",
                                fix="name a system that went through `govcloud decommission`")
        stack = wf["stack"]
        wanted = Path(backup).resolve() if "://" not in backup else None
        media = [m for m in wf.get("media", []) if m.get("backup")]
        m = next((m for m in media if backup in (m["id"], m["backup"]["uri"])
                  or (wanted is not None and _local_path(m["backup"]["uri"]) == wanted)), None)
        if m is None:
            raise GovcloudError(f"{backup} is not a backup recorded for {stack}",
                                fix="backups of it: " + (", ".join(x["backup"]["uri"] for x in media)
                                                         or "none"))
        gone = m["backup"].get("destruction") or {}
        if gone:
            raise GovcloudError(
                f"backup {m['id']} of {stack} " + (f"was destroyed on {gone['on']}" if
                                                   gone.get("state") == "destroyed" else
                                                   "is being destroyed")
                + " (its retention ran out: wiped, verified and deleted by `govcloud backup "
                  "destroy`); nothing was restored")
        src = _local_path(m["backup"]["uri"])
        if src is None:
            raise GovcloudError(f"{m['backup']['uri']} is in object storage: download it to a file "
                                f"first and restore from that file")
        if not src.is_file():
            raise GovcloudError(f"backup file {src} is missing")
        recorded = m["backup"]["sha256"]
        if content_sha256(src) != recorded:
            raise GovcloudError(f"backup {src} does not match the SHA-256 recorded when it was made "
                                f"({recorded[:16]}…): altered or damaged; nothing was restored")
        desired = collect_desired(r for s in ws.load_specs() for r in s.resources)
        rec = store.read().records.get(into)
        d = desired.get(into)
        if d is None or d.kind != "volume" or d.stack == stack:
            raise GovcloudError(f"{into} is not a volume of an approved system",
                                fix="restore into a volume an approval grants (apply it first)")
        if rec is None:
            raise GovcloudError(f"{into} is approved but not created yet", fix="run `govcloud apply`")
        size = src.stat().st_size
        with open_drivers(ws, [rec.target]) as drivers:
            drv = drivers[rec.target]
            if not isinstance(drv, MediaAccess):
                raise GovcloudError(f"cloud target {rec.target!r} gives no access to volume bytes")
            media_of = drv.media(Observed(into, "volume", rec.cloud_id, {}, {}, {}))
            if not media_of:
                raise GovcloudError(f"the bytes of {into} are not reachable on this machine")
            dest = Path(media_of[0].path)
            if dest.stat().st_size < size:
                raise GovcloudError(f"{into} holds {dest.stat().st_size} bytes, less than the "
                                    f"backup's {size}", fix="approve a larger volume")
            if _has_data(dest):
                raise GovcloudError(f"{into} is not empty: restore writes only into an empty volume")
            with open(src, "rb") as fi, open(dest, "r+b") as fo:
                for start, end in data_extents(src):
                    fi.seek(start)
                    fo.seek(start)
                    left = end - start
                    while left > 0:
                        chunk = fi.read(min(left, 1 << 20))
                        if not chunk:
                            break
                        fo.write(chunk)
                        left -= len(chunk)
                fo.flush()
            after = prefix_sha256(dest, size)
        if after != recorded:
            raise GovcloudError(f"the restored bytes of {into} do not match the backup's SHA-256",
                                changed_nothing=False)
        store.append_audit(default_actor(), "restore", into, d.approval,
                           {"from_stack": stack, "backup": m["backup"]["uri"], "sha256": recorded,
                            "cloud_id": rec.cloud_id, "bytes": size})
        wf.setdefault("restores", []).append({"backup": m["backup"]["uri"], "into": into,
                                              "cloud_id": rec.cloud_id, "sha256": recorded})
        store.put_workflow(workflow_name(stack), wf)
    return RestoreResult(stack, m["backup"]["uri"], recorded, into, rec.cloud_id, size)


def _has_data(path: Path) -> bool:
    zero = bytes(HASH_BLOCK)
    with open(path, "rb") as f:
        for start, end in data_extents(path):
            f.seek(start)
            left = end - start
            while left > 0:
                block = f.read(min(left, HASH_BLOCK))
                if not block:
                    break
                if block != zero[:len(block)]:
                    return True
                left -= len(block)
    return False
