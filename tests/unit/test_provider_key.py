"""The provider key: created once with mode 0600, stable, and its signatures verify only over
the exact bytes and only with its own public key."""
import os
import stat

import pytest

from orchestrator.errors import GovcloudError
from orchestrator.trust import provider_key as pk


def test_created_0600_and_stable(tmp_path, monkeypatch):
    monkeypatch.delenv(pk.ENV_VAR, raising=False)
    k1 = pk.load_or_create(tmp_path)
    mode = stat.S_IMODE(os.stat(tmp_path / pk.KEY_FILE).st_mode)
    assert mode == 0o600
    k2 = pk.load_or_create(tmp_path)
    assert k1.key_id == k2.key_id and k1.key_id.startswith("ed25519:")


def test_signature_covers_exact_bytes_and_key(tmp_path, monkeypatch):
    monkeypatch.delenv(pk.ENV_VAR, raising=False)
    key = pk.load_or_create(tmp_path / "a")
    other = pk.load_or_create(tmp_path / "b")
    sig = key.sign(b"certificate body")
    assert pk.verify(key.public_pem(), b"certificate body", sig)
    assert not pk.verify(key.public_pem(), b"certificate bodY", sig)      # one byte changed
    assert not pk.verify(other.public_pem(), b"certificate body", sig)    # another key
    assert not pk.verify("not a key", b"certificate body", sig)


def test_loose_mode_tightened_and_missing_key_named(tmp_path, monkeypatch):
    monkeypatch.delenv(pk.ENV_VAR, raising=False)
    pk.load_or_create(tmp_path)
    path = tmp_path / pk.KEY_FILE
    os.chmod(path, 0o644)
    pk.load(tmp_path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    with pytest.raises(GovcloudError, match="provider signing key does not exist"):
        pk.load(tmp_path / "nowhere")


def test_env_var_points_elsewhere(tmp_path, monkeypatch):
    monkeypatch.setenv(pk.ENV_VAR, str(tmp_path / "keys" / "p.pem"))
    key = pk.load_or_create(tmp_path / "ws")
    assert key.path == tmp_path / "keys" / "p.pem" and key.path.exists()
    assert not (tmp_path / "ws" / pk.KEY_FILE).exists()
