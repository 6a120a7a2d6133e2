"""The provider's Ed25519 signing key: one per workspace, outside the state database.

It signs what the provider issues (plans, certificates of sanitization, audit checkpoints) so
that a department or auditor can check them with the public key alone. It never signs
approvals: those are the bureau's (orchestrator/trust keyring), and a keyring entry holding this
key is refused there.

The private key lives in ``<workspace>/.govcloud/provider-key.pem`` (mode 0600, never
committed: init's .gitignore covers .govcloud/), or where ``GOVCLOUD_PROVIDER_KEY`` points.
"""
from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from ..errors import GovcloudError

KEY_FILE = Path(".govcloud") / "provider-key.pem"
ENV_VAR = "GOVCLOUD_PROVIDER_KEY"
ALGORITHM = "ed25519"


def key_path(workspace_root: Path) -> Path:
    env = os.environ.get(ENV_VAR)
    return Path(env) if env else Path(workspace_root) / KEY_FILE


def key_id_of(public_pem: str) -> str:
    """A short, stable id: the first 16 hex digits of SHA-256 over the public key's DER."""
    from cryptography.hazmat.primitives import serialization
    pub = serialization.load_pem_public_key(public_pem.encode())
    der = pub.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return "ed25519:" + hashlib.sha256(der).hexdigest()[:16]


@dataclass(frozen=True)
class ProviderKey:
    path: Path
    _private: object  # cryptography Ed25519PrivateKey (kept opaque: no import at module load)

    def sign(self, data: bytes) -> bytes:
        return self._private.sign(data)  # type: ignore[attr-defined]

    def public_pem(self) -> str:
        from cryptography.hazmat.primitives import serialization
        return self._private.public_key().public_bytes(  # type: ignore[attr-defined]
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()

    @property
    def key_id(self) -> str:
        return key_id_of(self.public_pem())


def _write_private(path: Path, pem: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    # O_EXCL: two processes racing to create the key never both win; 0600 from the start.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(pem)


def load(workspace_root: Path) -> ProviderKey:
    """The existing key; an error naming the file when it is missing or unreadable."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    path = key_path(workspace_root)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise GovcloudError(f"{path}: the provider signing key does not exist",
                            fix="run a command that issues a signed record (it creates the key), "
                                f"or point {ENV_VAR} at the key file") from None
    except OSError as exc:
        raise GovcloudError(f"{path}: cannot read the provider signing key: {exc.strerror}") from None
    try:
        private = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as exc:
        raise GovcloudError(f"{path}: not a PEM private key ({exc})") from None
    if not isinstance(private, Ed25519PrivateKey):
        raise GovcloudError(f"{path}: the provider key must be Ed25519")
    if path.stat().st_mode & 0o077:
        os.chmod(path, 0o600)  # tighten a key copied in with a loose mode
    return ProviderKey(path, private)


def load_or_create(workspace_root: Path) -> ProviderKey:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    path = key_path(workspace_root)
    if not path.exists():
        pem = Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption())
        try:
            _write_private(path, pem)
        except FileExistsError:
            pass  # another process created it first: use theirs
    return load(workspace_root)


def verify(public_pem: str, data: bytes, signature: bytes) -> bool:
    """True when ``signature`` is the Ed25519 signature of ``data`` by ``public_pem``'s key."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
    try:
        pub = serialization.load_pem_public_key(public_pem.encode())
    except (ValueError, TypeError):
        return False
    if not isinstance(pub, Ed25519PublicKey):
        return False
    try:
        pub.verify(signature, data)
        return True
    except InvalidSignature:
        return False
