"""Backups in S3-compatible object storage through libcloud's S3 storage driver.

The decommission workflow's backup step writes each medium's copy here and records the returned
``BackupRecord`` (``s3://bucket/key`` and SHA-256). Every object carries its SHA-256 as user
metadata (``x-amz-meta-sha256``) computed while uploading; ``put_file`` reads the object back
through a streamed GET and compares before it reports success, and ``get_file`` hashes what it
downloads and refuses (``BackupCorrupt``, destination left untouched) when it differs from the
recorded or expected digest.

Options (a ``[backup]``-like dict, or the same keys as a libcloud target): ``bucket``,
``prefix``, ``endpoint`` (URL; default AWS), ``region`` and the credential environment variable
names ``access_key_env`` / ``secret_key_env`` / ``session_token_env`` (credentials come from the
environment only, as for the compute driver).
"""
from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from drivers.base import BackupStore, DriverError, NotFound

from .connection import Credentials, check_options, endpoint_kwargs, translate

CHUNK = 4 << 20
META_KEY = "sha256"


class BackupCorrupt(DriverError):
    """What was read back does not match the recorded SHA-256."""


@dataclass(frozen=True)
class BackupRecord:
    uri: str          # s3://bucket/key
    sha256: str       # hex digest of the object's bytes
    size: int

    def to_dict(self) -> dict[str, Any]:
        return {"uri": self.uri, "sha256": self.sha256, "size": self.size}


def _digest_file(path: Path) -> tuple[str, int]:
    h, n = hashlib.sha256(), 0
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            h.update(chunk)
            n += len(chunk)
    return h.hexdigest(), n


class S3Backup(BackupStore):
    """A bucket (and key prefix) holding decommission backups: the BackupStore capability."""

    def __init__(self, options: dict[str, Any]):
        check_options(options)
        from libcloud.storage.drivers.s3 import S3StorageDriver
        self.bucket = options["bucket"]
        self.prefix = options.get("prefix", "").strip("/")
        region = options.get("region", "us-east-1")
        key, secret, token = Credentials(options).values()
        kw: dict[str, Any] = {"region": region, "token": token, **endpoint_kwargs(options)}
        try:
            self.s3 = S3StorageDriver(key, secret, **kw)
        except ValueError as exc:
            raise DriverError(f"backup storage: {exc}") from None
        if region != "us-east-1":
            self.s3.ex_location_name = region
        self._container = None

    def _key(self, name: str) -> str:
        return f"{self.prefix}/{name}" if self.prefix else name

    def uri(self, name: str) -> str:
        return f"s3://{self.bucket}/{self._key(name)}"

    def container(self):
        """The bucket, created on first use."""
        if self._container is None:
            from libcloud.storage.types import ContainerDoesNotExistError
            try:
                self._container = self.s3.get_container(self.bucket)
            except ContainerDoesNotExistError:
                try:
                    self._container = self.s3.create_container(self.bucket)
                except Exception as exc:
                    raise translate(exc, f"create bucket {self.bucket}") from None
            except Exception as exc:
                raise translate(exc, f"open bucket {self.bucket}") from None
        return self._container

    def put_file(self, path: Path, name: str) -> BackupRecord:
        """Upload ``path`` as ``name``; read it back and compare SHA-256 before returning."""
        digest, size = _digest_file(path)
        try:
            self.s3.upload_object(str(path), self.container(), self._key(name),
                                  extra={"meta_data": {META_KEY: digest}})
        except DriverError:
            raise
        except Exception as exc:
            raise translate(exc, f"upload {self.uri(name)}") from None
        back, back_size = self._stream_digest(name)
        if back != digest or back_size != size:
            raise BackupCorrupt(f"{self.uri(name)}: read back {back_size} bytes with SHA-256 "
                                f"{back}, uploaded {size} bytes with {digest}")
        return BackupRecord(self.uri(name), digest, size)

    def put_bytes(self, data: bytes, name: str) -> BackupRecord:
        with tempfile.NamedTemporaryFile(delete=False) as f:
            f.write(data)
        try:
            return self.put_file(Path(f.name), name)
        finally:
            os.unlink(f.name)

    def _object(self, name: str):
        from libcloud.storage.types import ContainerDoesNotExistError, ObjectDoesNotExistError
        try:
            return self.s3.get_object(self.bucket, self._key(name))
        except (ObjectDoesNotExistError, ContainerDoesNotExistError):
            raise NotFound(f"backup {self.uri(name)} not found") from None
        except Exception as exc:
            raise translate(exc, f"read {self.uri(name)}") from None

    def _chunks(self, name: str) -> Iterator[bytes]:
        obj = self._object(name)
        try:
            yield from self.s3.download_object_as_stream(obj, chunk_size=CHUNK)
        except Exception as exc:
            raise translate(exc, f"download {self.uri(name)}") from None

    def _stream_digest(self, name: str) -> tuple[str, int]:
        h, n = hashlib.sha256(), 0
        for chunk in self._chunks(name):
            h.update(chunk)
            n += len(chunk)
        return h.hexdigest(), n

    def recorded_sha256(self, name: str) -> str | None:
        return (self._object(name).meta_data or {}).get(META_KEY)

    def get_file(self, name: str, dest: Path, expected_sha256: str | None = None) -> BackupRecord:
        """Download ``name`` to ``dest`` (atomically) if its SHA-256 matches ``expected_sha256``
        or, when none is given, the digest recorded with the object."""
        expected = expected_sha256 or self.recorded_sha256(name)
        if not expected:
            raise BackupCorrupt(f"{self.uri(name)} has no recorded SHA-256; refusing to trust it")
        dest = Path(dest)
        dest.parent.mkdir(parents=True, exist_ok=True)
        h, n = hashlib.sha256(), 0
        fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.")
        try:
            with os.fdopen(fd, "wb") as f:
                for chunk in self._chunks(name):
                    h.update(chunk)
                    n += len(chunk)
                    f.write(chunk)
            if h.hexdigest() != expected:
                raise BackupCorrupt(f"{self.uri(name)}: SHA-256 {h.hexdigest()} does not match "
                                    f"the recorded {expected}; {dest} not written")
            os.replace(tmp, dest)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        return BackupRecord(self.uri(name), expected, n)

    def get_bytes(self, name: str, expected_sha256: str | None = None) -> bytes:
        expected = expected_sha256 or self.recorded_sha256(name)
        data = b"".join(self._chunks(name))
        if hashlib.sha256(data).hexdigest() != expected:
            raise BackupCorrupt(f"{self.uri(name)}: SHA-256 does not match the recorded {expected}")
        return data
