"""Detached signatures of approvals and change documents, and the bureau's signing keys.

A signature sits next to the file it signs, ``approvals/X.yaml.sig`` (``changes/Y.yaml.sig``),
and covers the file's exact bytes. Its format, ``govcloud-signature/1``, is a YAML mapping::

    format: govcloud-signature/1
    key_id: bz-dsj-2026          # an entry of trust/approvers.yaml
    algorithm: sm2-sm3           # SM2 with SM3, user ID 1234567812345678; or ed25519
    file: X.yaml                 # the name it was signed as (informational)
    sha256: 3f1c...              # of the signed bytes: tells "altered" from "forged"
    signed_on: 2026-03-02
    signature: <base64>          # sm2-sm3: r || s (64 bytes); ed25519: 64 bytes

Only ``signature`` is checked cryptographically; ``sha256`` lets the message say that the file
changed after signing rather than that the signature is bad.

A signing key file (the bureau's secret; mode 0600, never in the workspace repository)::

    format: govcloud-signing-key/1
    key_id: bz-dsj-2026
    algorithm: sm2-sm3
    private_key: <hex>           # sm2: d (32 bytes); ed25519: the raw 32-byte seed
"""
from __future__ import annotations

import base64
import datetime as dt
import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ..errors import GovcloudError
from .keyring import Key, raw_public

SIG_FORMAT = "govcloud-signature/1"
KEY_FORMAT = "govcloud-signing-key/1"
SUFFIX = ".sig"


@dataclass(frozen=True)
class SigningKey:
    key_id: str
    algorithm: str
    private: bytes

    def public_pem(self) -> str:
        if self.algorithm == "sm2-sm3":
            from . import sm2
            return sm2.public_pem(sm2.public_of(int.from_bytes(self.private, "big")))
        from cryptography.hazmat.primitives import serialization
        return _ed(self.private).public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()

    def sign(self, data: bytes) -> bytes:
        if self.algorithm == "sm2-sm3":
            from . import sm2
            d = int.from_bytes(self.private, "big")
            return sm2.sign(d, sm2.public_of(d), data)
        return _ed(self.private).sign(data)


def _ed(seed: bytes):
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    return Ed25519PrivateKey.from_private_bytes(seed)


def generate_key(key_id: str, algorithm: str) -> SigningKey:
    if algorithm == "sm2-sm3":
        from . import sm2
        return SigningKey(key_id, algorithm, sm2.generate().private.to_bytes(32, "big"))
    if algorithm == "ed25519":
        return SigningKey(key_id, algorithm, os.urandom(32))
    raise GovcloudError(f"unknown algorithm {algorithm!r}", fix="use sm2-sm3 or ed25519")


def write_key(key: SigningKey, path: Path, comment: str = "") -> None:
    """The key file, created 0600 (refused if it exists: a key is never overwritten)."""
    text = (f"# govcloud approval signing key: SECRET. Keep it off the workspace repository.\n"
            + (f"# {comment}\n" if comment else "")
            + f"format: {KEY_FORMAT}\nkey_id: {key.key_id}\nalgorithm: {key.algorithm}\n"
            f"private_key: {key.private.hex()}\n")
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise GovcloudError(f"{path} already exists", fix="a key is never overwritten: "
                            "choose another file") from None
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)


def read_key(path: Path) -> SigningKey:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise GovcloudError(f"{path}: no such key file") from None
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise GovcloudError(f"{path}: cannot read the key file ({exc})") from None
    if not isinstance(data, dict) or data.get("format") != KEY_FORMAT:
        raise GovcloudError(f"{path} is not a {KEY_FORMAT} key file")
    try:
        key = SigningKey(str(data["key_id"]), str(data["algorithm"]),
                         bytes.fromhex(str(data["private_key"])))
    except (KeyError, ValueError) as exc:
        raise GovcloudError(f"{path}: damaged key file ({exc})") from None
    if key.algorithm not in ("sm2-sm3", "ed25519") or len(key.private) != 32:
        raise GovcloudError(f"{path}: damaged key file (algorithm or key length)")
    return key


def sig_path(path: Path) -> Path:
    return path.with_name(path.name + SUFFIX)


def sign_file(path: Path, key: SigningKey, today: dt.date) -> Path:
    """Write ``path``.sig over the exact bytes of ``path``."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise GovcloudError(f"{path}: cannot read ({exc.strerror})") from None
    sig = key.sign(data)
    out = sig_path(path)
    out.write_text(f"format: {SIG_FORMAT}\nkey_id: {key.key_id}\nalgorithm: {key.algorithm}\n"
                   f"file: {path.name}\nsha256: {hashlib.sha256(data).hexdigest()}\n"
                   f"signed_on: {today}\nsignature: {base64.b64encode(sig).decode()}\n",
                   encoding="utf-8")
    return out


@dataclass
class Verdict:
    """One file's signature status. ``status``: ok, unsigned, malformed, unknown-key,
    altered, bad-signature, key-not-valid, provider-key."""
    file: str
    status: str
    reason: str = ""
    sha256: str = ""
    key_id: str | None = None
    algorithm: str | None = None
    holder: str | None = None
    signature_sha256: str = ""      # of the .sig file: a plan remembers it
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def to_dict(self) -> dict[str, Any]:
        return {"file": self.file, "status": self.status, "ok": self.ok, "reason": self.reason,
                "sha256": self.sha256, "key_id": self.key_id, "algorithm": self.algorithm,
                "holder": self.holder}


def check_signature(algorithm: str, public_pem: str, data: bytes, signature: bytes) -> bool:
    if algorithm == "sm2-sm3":
        from . import sm2
        try:
            return sm2.verify(sm2.public_from_pem(public_pem), data, signature)
        except ValueError:
            return False
    from . import provider_key
    return provider_key.verify(public_pem, data, signature)


def verify_bytes(display: str, data: bytes, sig_text: str | None, keys: dict[str, Key],
                 days: list[tuple[str, dt.date]], provider_public: bytes | None,
                 verified: "VerifiedCache | None" = None) -> Verdict:
    """The verdict on ``data`` (the file ``display``) and its signature file's text.
    ``days``: (what, day) on which the key must be valid, e.g. the approval date and today.
    ``verified``: signatures already checked (the same bytes, signature and public key) skip
    the curve arithmetic (SM2 in pure Python is ~25 ms a verify); the dates are always checked."""
    sha = hashlib.sha256(data).hexdigest()
    v = Verdict(display, "ok", sha256=sha)
    if sig_text is None:
        v.status, v.reason = "unsigned", f"{display} is not signed (no {display}{SUFFIX})"
        return v
    v.signature_sha256 = hashlib.sha256(sig_text.encode("utf-8")).hexdigest()
    try:
        meta = yaml.safe_load(sig_text)
        if not isinstance(meta, dict) or meta.get("format") != SIG_FORMAT:
            raise ValueError(f"not a {SIG_FORMAT} signature")
        v.key_id, v.algorithm = str(meta["key_id"]), str(meta["algorithm"])
        signature = base64.b64decode(str(meta["signature"]), validate=True)
    except (yaml.YAMLError, ValueError, KeyError, TypeError) as exc:
        v.status, v.reason = "malformed", f"{display}{SUFFIX} is damaged ({exc})"
        return v
    if provider_public is not None and v.algorithm == "ed25519":
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
        from cryptography.exceptions import InvalidSignature
        try:
            Ed25519PublicKey.from_public_bytes(provider_public).verify(signature, data)
            v.status = "provider-key"
            v.reason = (f"{display} is signed by the provider's own key: the provider signs plans "
                        "and certificates, never approvals (separation of duties)")
            return v
        except (InvalidSignature, ValueError):
            pass
    key = keys.get(v.key_id)
    if key is None:
        v.status = "unknown-key"
        v.reason = f"{display} is signed by key {v.key_id!r}, which is not in trust/approvers.yaml"
        return v
    v.holder = key.holder
    if key.algorithm != v.algorithm:
        v.status, v.reason = "bad-signature", (f"{display}: the signature says {v.algorithm}, key "
                                               f"{key.key_id} is {key.algorithm}")
        return v
    token = VerifiedCache.token(v.sha256, v.signature_sha256, key)
    if verified is not None and token in verified:
        pass
    elif not check_signature(key.algorithm, key.public_key, data, signature):
        if meta.get("sha256") and meta.get("sha256") != sha:
            v.status = "altered"
            v.reason = f"{display} was altered after it was signed (its bytes are not the signed ones)"
        else:
            v.status = "bad-signature"
            v.reason = f"{display}: the signature is not valid for key {key.key_id} (forged or damaged)"
        return v
    elif verified is not None:
        verified.add(token)
    for what, day in days:
        why = key.unusable_on(day, check_start=what == "today")
        if why:
            v.status, v.reason = "key-not-valid", f"{display}: {why} (checked at {what}, {day})"
            return v
    return v


def provider_public_raw(workspace_root: Path) -> bytes | None:
    """The provider key's raw public bytes, when the workspace has one (never created here)."""
    from . import provider_key
    if not provider_key.key_path(workspace_root).exists():
        return None
    try:
        return raw_public("ed25519", provider_key.load(workspace_root).public_pem())
    except (GovcloudError, ValueError):
        return None


class VerifiedCache:
    """``.govcloud/signature-cache.json``: tokens of signatures that verified (SHA-256 over the
    signed bytes' digest, the signature file's digest, the algorithm and the public key).
    Local to the workspace like the parse cache (whoever can write .govcloud/ can write the
    state database too); a CI checkout starts without it and verifies everything."""

    def __init__(self, path: Path):
        import json
        self.path = path
        try:
            self.tokens = set(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError, TypeError):
            self.tokens = set()
        self.dirty = False

    @staticmethod
    def token(data_sha: str, sig_sha: str, key: Key) -> str:
        return hashlib.sha256(f"{data_sha}|{sig_sha}|{key.algorithm}|{key.public_key}".encode()
                              ).hexdigest()

    def __contains__(self, token: str) -> bool:
        return token in self.tokens

    def add(self, token: str) -> None:
        self.tokens.add(token)
        self.dirty = True

    def save(self) -> None:
        import json
        if not self.dirty:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(sorted(self.tokens)), encoding="utf-8")
        tmp.replace(self.path)
