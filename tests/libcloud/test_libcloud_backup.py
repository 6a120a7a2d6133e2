"""S3-compatible backups through libcloud's storage driver, against moto S3 on 127.0.0.1."""
from __future__ import annotations

import hashlib
import os
import uuid

import pytest

from drivers.base import DriverError, NotFound, Unsupported
from drivers.libcloud.backup import BackupCorrupt, S3Backup
from tests.libcloud.moto_server import KEY_ENV, SECRET, SECRET_ENV, endpoint


def _backup(**more) -> S3Backup:
    return S3Backup({"bucket": f"govcloud-backup-{uuid.uuid4().hex[:8]}", "prefix": "edu/portal",
                     "endpoint": endpoint(), "access_key_env": KEY_ENV,
                     "secret_key_env": SECRET_ENV, **more})


def test_put_and_get_a_file_with_its_sha256(tmp_path):
    data = os.urandom(1 << 20) + b"govcloud" * 1000
    src = tmp_path / "vol.img"
    src.write_bytes(data)
    b = _backup()
    rec = b.put_file(src, "vol-1.img")
    assert rec.sha256 == hashlib.sha256(data).hexdigest() and rec.size == len(data)
    assert rec.uri == f"s3://{b.bucket}/edu/portal/vol-1.img"
    assert b.recorded_sha256("vol-1.img") == rec.sha256
    got = b.get_file("vol-1.img", tmp_path / "restore" / "vol.img", expected_sha256=rec.sha256)
    assert (tmp_path / "restore" / "vol.img").read_bytes() == data and got.sha256 == rec.sha256
    assert b.get_bytes("vol-1.img") == data


def test_a_changed_object_is_refused_and_nothing_is_written(tmp_path):
    b = _backup()
    rec = b.put_bytes(b"original contents", "db.dump")
    b.put_bytes(b"tampered contents", "db.dump")             # replaced behind the record's back
    dest = tmp_path / "db.dump"
    with pytest.raises(BackupCorrupt, match="does not match"):
        b.get_file("db.dump", dest, expected_sha256=rec.sha256)
    assert not dest.exists() and list(tmp_path.iterdir()) == []
    with pytest.raises(BackupCorrupt):
        b.get_bytes("db.dump", expected_sha256=rec.sha256)


def test_missing_object_and_other_region(tmp_path):
    b = _backup(region="eu-west-1")
    with pytest.raises(NotFound):
        b.get_file("nope", tmp_path / "x")
    rec = b.put_bytes(b"x" * 10, "small")
    assert b.get_bytes("small", rec.sha256) == b"x" * 10


def test_credentials_only_from_the_environment(monkeypatch):
    with pytest.raises(Unsupported, match="credentials never go in govcloud.toml"):
        _backup(secret_key=SECRET)
    monkeypatch.delenv(SECRET_ENV)
    with pytest.raises(DriverError, match=SECRET_ENV):
        _backup()
