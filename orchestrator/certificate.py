"""Certificates of sanitization (NIST SP 800-88 Rev.1 Appendix G fields), rendered with jinja2
as HTML and Markdown next to a JSON record; their hashes are chained into the audit log."""
from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path
from typing import Any

from .errors import GovcloudError
from .markup import environment
from .state.base import StateStore
from .workspace import PACKAGE_ROOT, Workspace


def record(ws: Workspace, doc: dict[str, Any], today: dt.date, actor: str, organization: str,
           version: str) -> dict[str, Any]:
    profile = ws.profile
    rule = profile.rules.data_clearing
    media = []
    for m in doc.get("media", []):
        wipe, check = m.get("wipe", {}), m.get("verification", {})
        media.append({
            "identifier": m["id"], "type": m["kind"], "object": m["address"],
            "make_model": "file-backed virtual disk (govcloud local cloud)",
            "location": m["path"], "size_bytes": m["size_bytes"],
            "backup": m.get("backup"),
            "method_type": wipe.get("nist_method", "clear").capitalize(),
            "method": wipe.get("method"), "technique": wipe.get("technique"),
            "bytes_overwritten": wipe.get("bytes_overwritten"),
            "verification_method": check.get("method"), "verification_result": check.get("result"),
            "detection_probability": check.get("detection_probability"),
            "destination": "deleted; storage returned to the pool",
        })
    for u in doc.get("media_unreachable", []):
        media.append({
            "identifier": u["id"], "type": u["kind"], "object": u["address"],
            "make_model": f"cloud-managed storage (target {u['target']})", "location": "",
            "size_bytes": None, "backup": None, "method_type": "N/A", "method": None,
            "technique": "not sanitized by govcloud: the cloud gives no block access; "
                         "deleted through the cloud's API",
            "bytes_overwritten": None, "verification_method": "none",
            "verification_result": "n/a", "detection_probability": None,
            "destination": "deleted through the cloud's API",
        })
    return {
        "certificate": "Certificate of Sanitization (数据清除证明)",
        "standard": "NIST SP 800-88 Rev.1 Appendix G",
        "stack": doc["stack"], "department": doc["department"], "system": doc["system"],
        "approvals": doc["approvals"],
        "person": {"name": actor, "organization": organization, "role": "sanitization operator"},
        "date": today.isoformat(), "started": doc["started"], "offline_on": doc.get("offline_on"),
        "hold_until": doc.get("hold_until"),
        "classification": "非涉密 (unclassified)",
        "tool": f"govcloud {version} (orchestrator.decommission, drivers.media)",
        "media": media,
        "objects_reclaimed": len(doc.get("objects", [])),
        "census": "no object of the system, and nothing referencing its volumes, remains",
        "regulation": {"profile": profile.code, "title": profile.name_zh,
                       "article": rule.article if rule else None,
                       "requirement": rule.value if rule else None},
        "validated_by": {"name": actor, "method": "automated read-back verification"},
    }


def write_certificate(ws: Workspace, doc: dict[str, Any], today: dt.date, actor: str,
                      organization: str, version: str) -> dict[str, Path]:
    data = record(ws, doc, today, actor, organization, version)
    out_dir = ws.root / "certificates"
    out_dir.mkdir(exist_ok=True)
    base = out_dir / f"{doc['stack'].replace('/', '__')}-{today.isoformat()}"
    templates = PACKAGE_ROOT / "templates"   # escaped by format (orchestrator/markup.py)
    files = {"json": base.with_suffix(".json"), "md": base.with_suffix(".md"),
             "html": base.with_suffix(".html")}
    files["json"].write_text(json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True) + "\n",
                             encoding="utf-8")
    files["md"].write_text(environment(templates, "markdown").get_template("certificate.md.j2").render(c=data), encoding="utf-8")
    files["html"].write_text(environment(templates, "html").get_template("certificate.html.j2").render(c=data), encoding="utf-8")
    return files


def verify_certificate(store: StateStore, path: Path) -> dict[str, Any]:
    """Match a certificate file against the hashes chained into the audit log."""
    try:
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
    except FileNotFoundError:
        raise GovcloudError(f"certificate file {path} not found")
    from .core.audit import verify_chain
    entries = store.audit_entries()
    brk = verify_chain(entries, store.audit_head(), store.audit_anchor())
    if brk is not None:
        raise GovcloudError(f"the audit log is tampered at entry {brk.seq}: {brk.reason}; "
                            "certificates cannot be verified against it")
    for e in entries:
        if e.action != "decommission-certificate":
            continue
        for kind, name in e.detail.get("files", {}).items():
            if name == path.name:
                if e.detail["sha256"][kind] == digest:
                    return {"file": str(path), "valid": True, "audit_entry": e.seq,
                            "stack": e.target, "sha256": digest}
                raise GovcloudError(f"{path.name} was changed after it was issued",
                                    fix=f"its SHA-256 is {digest}; audit entry {e.seq} recorded "
                                        f"{e.detail['sha256'][kind]}")
    raise GovcloudError(f"{path.name} is not a certificate recorded in this workspace's audit log")
