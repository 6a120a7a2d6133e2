"""Certificates of sanitization (NIST SP 800-88 Rev.1 Appendix G fields), rendered with jinja2
as HTML and Markdown next to a JSON record; their hashes are chained into the audit log."""
from __future__ import annotations

import base64
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
        "objects_reclaimed": doc.get("reclaimed", {}).get("total", len(doc.get("objects", []))),
        # full copies of the data: where each is held, its SHA-256 and when it is destroyed
        "backups_held": [{"medium": m["id"], "location": m["backup"]["uri"],
                          "sha256": m["backup"]["sha256"],
                          "destroy_on": m["backup"].get("destroy_on")}
                         for m in doc.get("media", []) if m.get("backup")
                         and (m["backup"].get("destruction") or {}).get("state") != "destroyed"],
        "census": "no object of the system, and nothing referencing its volumes, remains; "
                  "the backups listed in backups_held are kept until their destroy date",
        "regulation": {"profile": profile.code, "title": profile.name_zh,
                       "article": rule.article if rule else None,
                       "requirement": rule.value if rule else None},
        "validated_by": {"name": actor, "method": "automated read-back verification"},
    }


SEAL = "govcloud-seal"


def _json_text(data: dict[str, Any]) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True) + "\n"


def _seal(body: bytes, key, data: dict[str, Any]) -> dict[str, Any]:
    """The certificate's own digest and the provider's Ed25519 signature over it."""
    digest = hashlib.sha256(body).hexdigest()
    return {"algorithm": "Ed25519", "sha256": digest, "key_id": key.key_id,
            "signature": base64.b64encode(key.sign(digest.encode())).decode(),
            "public_key": key.public_pem(), "stack": data["stack"], "date": data["date"]}


def _seal_line(seal: dict[str, Any]) -> str:
    return f"<!-- {SEAL} {json.dumps(seal, ensure_ascii=False, sort_keys=True)} -->\n"


def write_certificate(ws: Workspace, doc: dict[str, Any], today: dt.date, actor: str,
                      organization: str, version: str) -> dict[str, Path]:
    """The three renderings, each sealed: JSON with a ``seal`` key (over the canonical JSON of
    the rest), Markdown and HTML with a last comment line (over the bytes before it)."""
    from .trust.provider_key import load_or_create
    key = load_or_create(ws.root)
    data = record(ws, doc, today, actor, organization, version)
    out_dir = ws.root / "certificates"
    out_dir.mkdir(exist_ok=True)
    base = out_dir / f"{doc['stack'].replace('/', '__')}-{today.isoformat()}"
    templates = PACKAGE_ROOT / "templates"   # escaped by format (orchestrator/markup.py)
    files = {"json": base.with_suffix(".json"), "md": base.with_suffix(".md"),
             "html": base.with_suffix(".html")}
    body = _json_text(data)
    files["json"].write_text(_json_text({**data, "seal": _seal(body.encode(), key, data)}),
                             encoding="utf-8")
    for kind, template, fmt in (("md", "certificate.md.j2", "markdown"),
                                ("html", "certificate.html.j2", "html")):
        text = environment(templates, fmt).get_template(template).render(c=data)
        text = text if text.endswith("\n") else text + "\n"
        files[kind].write_text(text + _seal_line(_seal(text.encode(), key, data)), encoding="utf-8")
    return files


def read_seal(content: bytes) -> tuple[bytes, dict[str, Any]]:
    """(the sealed body, the seal) of a certificate in any of its renderings, by content."""
    if content.lstrip().startswith(b"{"):
        try:
            data = json.loads(content.decode("utf-8"))
            seal = data.pop("seal")
        except (ValueError, KeyError, AttributeError):
            raise GovcloudError("not a sealed certificate: JSON without a seal") from None
        if _json_text({**data, "seal": seal}).encode() != content:
            raise GovcloudError("the certificate was changed after it was issued: its JSON is "
                                "not in the form it was sealed in")
        return _json_text(data).encode(), seal
    marker = f"<!-- {SEAL} ".encode()
    at = content.rfind(b"\n" + marker)
    if at < 0 or not content.endswith(b" -->\n"):
        raise GovcloudError(f"not a sealed certificate: no {SEAL} line at its end")
    try:
        seal = json.loads(content[at + 1 + len(marker):-len(" -->\n")].decode("utf-8"))
    except ValueError:
        raise GovcloudError(f"the certificate's {SEAL} line is damaged") from None
    return content[:at + 1], seal


def check_seal(content: bytes, trusted_pem: str | None) -> dict[str, Any]:
    """Verify the digest and the signature; raises when either fails. ``trusted_pem``: the
    provider's public key (``--key``, or the workspace's); without it the key inside the
    certificate is used and ``key_trusted`` is false."""
    from .trust.provider_key import key_id_of, verify
    body, seal = read_seal(content)
    digest = hashlib.sha256(body).hexdigest()
    if digest != seal.get("sha256"):
        raise GovcloudError("the certificate was changed after it was issued",
                            fix=f"its content's SHA-256 is {digest}; the seal says "
                                f"{seal.get('sha256')}")
    pem = trusted_pem or seal.get("public_key", "")
    try:
        signature = base64.b64decode(seal.get("signature", ""), validate=True)
    except ValueError:
        signature = b""
    if not verify(pem, digest.encode(), signature):
        who = "the given provider key" if trusted_pem else "the key it names"
        raise GovcloudError(f"the certificate's signature does not verify with {who}",
                            fix="it was not issued by this provider, or it was changed")
    return {"sha256": digest, "signed_by": key_id_of(pem), "key_trusted": trusted_pem is not None,
            "stack": seal.get("stack")}


def verify_certificate(store: StateStore | None, path: Path,
                       trusted_pem: str | None = None) -> dict[str, Any]:
    """A certificate checked by its content: its seal (digest + signature), and, inside the
    issuing workspace (``store``), the audit chain and the entry that recorded its hash."""
    try:
        content = path.read_bytes()
    except FileNotFoundError:
        raise GovcloudError(f"certificate file {path} not found")
    sealed = check_seal(content, trusted_pem)
    digest = hashlib.sha256(content).hexdigest()
    out = {"file": str(path), "valid": True, "audit_entry": None, "stack": sealed["stack"],
           "sha256": digest, "signed_by": sealed["signed_by"],
           "key_trusted": sealed["key_trusted"], "audit_checked": False}
    if store is None:
        return out
    from .core.audit import verify_chain
    head, entries = store.audit_consistent()
    brk = verify_chain(entries, head, store.audit_anchor())
    if brk is not None:
        raise GovcloudError(f"the audit log is tampered at entry {brk.seq}: {brk.reason}; "
                            "certificates cannot be verified against it")
    for e in entries:
        if e.action == "decommission-certificate" and digest in e.detail.get("sha256", {}).values():
            return {**out, "audit_entry": e.seq, "stack": e.target, "audit_checked": True}
    raise GovcloudError(f"{path.name}: its seal verifies, but no certificate with this content is "
                        "recorded in this workspace's audit log",
                        fix="verify it outside the workspace with the issuer's public key "
                            "(--key), or in the workspace that issued it")
