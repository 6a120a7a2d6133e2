"""The bureau's keyring, ``trust/approvers.yaml``: the keys whose signatures make an approval.

    # Who may sign approvals and change documents. Rotation and revocation are edits of this
    # file, reviewed in git like any other.
    keys:
      - key_id: bz-dsj-2026            # named in every signature it makes
        algorithm: sm2-sm3             # or ed25519
        public_key: |                  # SubjectPublicKeyInfo PEM (openssl pkey -pubout)
          -----BEGIN PUBLIC KEY-----
          ...
          -----END PUBLIC KEY-----
        holder: {office: 市政务服务和大数据管理局资源审核科, person: 王敏}
        valid_from: 2026-01-01
        valid_until: 2027-12-31        # optional
        revoked_on: null               # the day it stopped being trusted (a leaked key)
        demo: false                    # true: made by `govcloud init` for the examples

The provider's own key (orchestrator/trust/provider_key.py) may never be an entry: the provider
signs plans and certificates, never approvals.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import InputError, Issue

KEYRING = Path("trust") / "approvers.yaml"
ALGORITHMS = ("sm2-sm3", "ed25519")


@dataclass(frozen=True)
class Key:
    key_id: str
    algorithm: str
    public_key: str          # PEM
    office: str
    person: str
    valid_from: dt.date
    valid_until: dt.date | None
    revoked_on: dt.date | None
    demo: bool = False

    @property
    def holder(self) -> str:
        return f"{self.person} ({self.office})"

    def unusable_on(self, day: dt.date, check_start: bool = True) -> str | None:
        """Why the key cannot vouch for anything on ``day``; None when it can.
        ``check_start=False`` (the approval's date): a successor key made after the approval may
        re-sign it (rotation), but a key expired or revoked before it never vouches for it."""
        if self.revoked_on is not None and day >= self.revoked_on:
            return f"key {self.key_id} was revoked on {self.revoked_on}"
        if check_start and day < self.valid_from:
            return f"key {self.key_id} is valid only from {self.valid_from}"
        if self.valid_until is not None and day > self.valid_until:
            return f"key {self.key_id} expired on {self.valid_until}"
        return None

    def to_dict(self) -> dict[str, Any]:
        return {"key_id": self.key_id, "algorithm": self.algorithm, "office": self.office,
                "person": self.person, "valid_from": str(self.valid_from),
                "valid_until": str(self.valid_until) if self.valid_until else None,
                "revoked_on": str(self.revoked_on) if self.revoked_on else None,
                "demo": self.demo}


def raw_public(algorithm: str, pem: str) -> bytes:
    """The key's raw public bytes (ValueError when the PEM is not a key of ``algorithm``)."""
    if algorithm == "sm2-sm3":
        from . import sm2
        return sm2.public_from_pem(pem)
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
    try:
        pub = serialization.load_pem_public_key(pem.encode())
    except (ValueError, TypeError) as exc:
        raise ValueError(f"not a PEM public key ({exc})") from None
    if not isinstance(pub, Ed25519PublicKey):
        raise ValueError("not an Ed25519 public key")
    return pub.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def _date(v: Any, field: str, issues: list[Issue], required: bool = False) -> dt.date | None:
    if v is None:
        if required:
            issues.append(Issue(field, "required (YYYY-MM-DD)"))
        return None
    if isinstance(v, dt.datetime):
        return v.date()
    if isinstance(v, dt.date):
        return v
    try:
        return dt.date.fromisoformat(str(v))
    except ValueError:
        issues.append(Issue(field, f"{v!r} is not a date (YYYY-MM-DD)"))
        return None


def load(root: Path, provider_public: bytes | None = None,
         rel: str | Path = KEYRING) -> dict[str, Key]:
    """key_id -> Key from ``<root>/trust/approvers.yaml``; every broken entry reported at once.
    ``provider_public``: the provider key's raw public bytes, refused as an entry."""
    from ..inputs import read_yaml
    path = root / rel
    display = str(rel)
    if not path.is_file():
        raise InputError(display, [Issue("keys", "no keyring: the workspace requires signed "
                                                 "approvals")],
                         fix="add the bureau's public keys to trust/approvers.yaml (README: Trust)")
    data = read_yaml(path, display) or {}
    issues: list[Issue] = []
    entries = data.get("keys") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        raise InputError(display, [Issue("keys", "expected a list of keys")])
    out: dict[str, Key] = {}
    for i, e in enumerate(entries):
        where = f"keys[{i}]"
        if not isinstance(e, dict):
            issues.append(Issue(where, "expected a mapping"))
            continue
        unknown = set(e) - {"key_id", "algorithm", "public_key", "holder", "valid_from",
                            "valid_until", "revoked_on", "demo"}
        for k in sorted(unknown):
            issues.append(Issue(f"{where}.{k}", "unknown field"))
        kid, alg, pem = e.get("key_id"), e.get("algorithm"), e.get("public_key")
        holder = e.get("holder") if isinstance(e.get("holder"), dict) else {}
        if not isinstance(kid, str) or not kid.strip():
            issues.append(Issue(f"{where}.key_id", "required"))
            continue
        if kid in out:
            issues.append(Issue(f"{where}.key_id", f"{kid!r} appears twice"))
        if alg not in ALGORITHMS:
            issues.append(Issue(f"{where}.algorithm", f"{alg!r}: use one of {', '.join(ALGORITHMS)}"))
            continue
        try:
            raw = raw_public(alg, str(pem or ""))
        except ValueError as exc:
            issues.append(Issue(f"{where}.public_key", str(exc)))
            continue
        if provider_public is not None and alg == "ed25519" and raw == provider_public:
            issues.append(Issue(f"{where}.public_key", "this is the provider's own signing key: "
                                "the provider signs plans and certificates, never approvals "
                                "(separation of duties)", rule="separation-of-duties"))
            continue
        if not holder.get("office") or not holder.get("person"):
            issues.append(Issue(f"{where}.holder", "office and person are required"))
        vf = _date(e.get("valid_from"), f"{where}.valid_from", issues, required=True)
        vu = _date(e.get("valid_until"), f"{where}.valid_until", issues)
        rv = _date(e.get("revoked_on"), f"{where}.revoked_on", issues)
        if vf and vu and vu < vf:
            issues.append(Issue(f"{where}.valid_until", "before valid_from"))
        if vf:
            out[kid] = Key(kid, alg, str(pem), str(holder.get("office", "")),
                           str(holder.get("person", "")), vf, vu, rv, bool(e.get("demo", False)))
    if issues:
        raise InputError(display, issues)
    return out


def entry_yaml(key_id: str, algorithm: str, public_pem: str, office: str, person: str,
               valid_from: dt.date, demo: bool = False) -> str:
    """One keyring entry as YAML text (init and `approval keygen` append it)."""
    pem = "\n".join("      " + line for line in public_pem.strip().splitlines())
    return (f"  - key_id: {key_id}\n    algorithm: {algorithm}\n    public_key: |\n{pem}\n"
            f"    holder: {{office: {office}, person: {person}}}\n"
            f"    valid_from: {valid_from}\n    valid_until: null\n    revoked_on: null\n"
            + ("    demo: true\n" if demo else ""))
