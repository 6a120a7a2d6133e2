"""Storage media holding tenant data: sparse-aware reading, backup copies, overwriting, verifying.

All of this is I/O on file-backed media (the local cloud's volume and root-disk files; Cinder's
NFS/file backend where govcloud runs with access to the share). Other media plug in through the
``Sanitizer`` protocol: a crypto-erase sanitizer for encrypted volume types destroys the volume's
key in the key manager (Barbican) and verifies that the key is gone and the ciphertext no longer
decrypts; its place is marked by ``CryptoErase`` below.

Sparse files: a hole holds no tenant data (it reads as zeros and has no blocks), so overwriting
and verifying walk the data extents found with SEEK_DATA/SEEK_HOLE, and the rest is known zero.
"""
from __future__ import annotations

import errno
import functools
import hashlib
import math
import os
import random
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator, Protocol

CHUNK = 4 << 20          # I/O unit: 4 MiB
HASH_BLOCK = 1 << 20     # content hash granularity: 1 MiB blocks


@dataclass(frozen=True)
class Medium:
    """One thing that holds a system's data."""

    id: str                  # cloud id of the object (volume, server root disk, backup...)
    kind: str                # "volume" | "root-disk" | "snapshot" | "image" | "backup"
    path: Path
    address: str = ""        # govcloud address of the owning object
    size: int = 0

    def describe(self) -> dict:
        return {"id": self.id, "kind": self.kind, "path": str(self.path), "address": self.address,
                "size_bytes": self.size}


def data_extents(path: Path) -> Iterator[tuple[int, int]]:
    """(start, end) byte ranges that hold allocated data; holes are skipped."""
    size = path.stat().st_size
    with open(path, "rb") as f:
        fd = f.fileno()
        pos = 0
        while pos < size:
            try:
                start = os.lseek(fd, pos, os.SEEK_DATA)
            except OSError as exc:
                if exc.errno == errno.ENXIO:  # no more data after pos
                    return
                raise
            end = os.lseek(fd, start, os.SEEK_HOLE)
            yield start, min(end, size)
            pos = end


def content_sha256(path: Path, size: int | None = None) -> str:
    """SHA-256 over the logical content, computed without reading holes.

    Hashes (block index, block) for every 1 MiB block that is not all zeros, then the size: equal
    for equal contents whatever the allocation, so a restored copy hashes like its original.
    With ``size``, only the first ``size`` bytes count (a volume larger than the backup written
    into it hashes like the backup).
    """
    h = hashlib.sha256()
    zero = bytes(HASH_BLOCK)
    size = path.stat().st_size if size is None else size
    with open(path, "rb") as f:
        seen = -1
        for start, end in data_extents(path):
            if start >= size:
                break
            first = max(start // HASH_BLOCK, seen + 1)
            for idx in range(first, (min(end, size) - 1) // HASH_BLOCK + 1):
                f.seek(idx * HASH_BLOCK)
                block = f.read(min(HASH_BLOCK, size - idx * HASH_BLOCK))
                seen = idx
                if block and block != zero[:len(block)]:
                    h.update(idx.to_bytes(8, "big"))
                    h.update(block)
    h.update(b"size" + size.to_bytes(8, "big"))
    return h.hexdigest()


def allocated_bytes(path: Path) -> int:
    """Bytes in the file's data extents (what a copy, a wipe or a full read-back touches)."""
    return sum(e - s for s, e in data_extents(path))


def sparse_copy(src: Path, dst: Path, progress: Callable[[int], None] | None = None) -> None:
    """Copy a file keeping its holes (a 100 GB volume with 1 GB written copies 1 GB).
    ``progress(n)`` is called after each chunk with the bytes just copied."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    size = src.stat().st_size
    with open(src, "rb") as fi, open(dst, "wb") as fo:
        fo.truncate(size)
        for start, end in data_extents(src):
            fi.seek(start)
            fo.seek(start)
            remaining = end - start
            while remaining:
                buf = fi.read(min(CHUNK, remaining))
                if not buf:
                    break
                fo.write(buf)
                remaining -= len(buf)
                if progress:
                    progress(len(buf))
        fo.flush()
        os.fsync(fo.fileno())


# --- sanitizers ----------------------------------------------------------------------------

class Sanitizer(Protocol):
    name: str
    nist_method: str          # NIST SP 800-88: "clear" | "purge" | "destroy"
    technique: str

    def sanitize(self, medium: Medium) -> dict: ...

    def expected(self, offset: int, length: int) -> bytes: ...


@functools.lru_cache(maxsize=4)
def _random_chunk(seed: int, index: int) -> bytes:
    return random.Random((seed << 32) ^ index).randbytes(CHUNK)


@dataclass
class Overwrite:
    """Single-pass overwrite of every allocated byte (NIST 800-88 Clear for file-backed media).

    ``pattern`` "zeros" or "random" (a seeded stream, reproducible per 4 MiB chunk, so that the
    verifier can recompute what every byte must now be). ``fault_fraction`` < 1 overwrites only
    that fraction of each medium: fault injection that verification must catch.
    """

    pattern: str = "zeros"
    seed: int = 0
    fault_fraction: float = 1.0
    name: str = field(init=False)
    nist_method: str = "clear"

    def __post_init__(self):
        if self.pattern not in ("zeros", "random"):
            raise ValueError(f"unknown overwrite pattern {self.pattern!r}")
        self.name = f"overwrite-{self.pattern}"
        self.technique = (f"single-pass overwrite with {'zeros' if self.pattern == 'zeros' else 'a seeded pseudo-random stream'} "
                          "of every allocated extent, then fsync")

    def expected(self, offset: int, length: int) -> bytes:
        if self.pattern == "zeros":
            return bytes(length)
        out = bytearray()
        pos = offset
        while pos < offset + length:
            idx, inner = divmod(pos, CHUNK)
            take = min(CHUNK - inner, offset + length - pos)
            out += _random_chunk(self.seed, idx)[inner:inner + take]
            pos += take
        return bytes(out)

    def sanitize(self, medium: Medium, progress: Callable[[int], None] | None = None) -> dict:
        path = medium.path
        written = 0
        extents = list(data_extents(path))
        total = sum(e - s for s, e in extents)
        budget = int(total * self.fault_fraction) if self.fault_fraction < 1 else None
        zero = bytes(CHUNK)
        with open(path, "r+b", buffering=0) as f:
            for start, end in extents:
                pos = start
                while pos < end:
                    if budget is not None and written >= budget:
                        break
                    n = min(CHUNK - pos % CHUNK, end - pos)
                    f.seek(pos)
                    f.write(zero[:n] if self.pattern == "zeros" else self.expected(pos, n))
                    pos += n
                    written += n
                    if progress:
                        progress(n)
            os.fsync(f.fileno())
        return {"bytes_overwritten": written, "extents": len(extents), "passes": 1}


@dataclass
class CryptoErase:
    """Plug point for encrypted volume types: destroy the key, then verify it is gone.

    Not available with the local cloud or the test cloud (no key manager); selecting it fails
    before anything is touched.
    """

    name: str = "crypto-erase"
    nist_method: str = "purge"
    technique: str = "cryptographic erase: destroy the volume's encryption key in the key manager"

    def sanitize(self, medium: Medium, progress=None) -> dict:
        raise NotImplementedError("crypto-erase needs a key manager (Barbican) and encrypted volume types")

    def expected(self, offset: int, length: int) -> bytes:
        raise NotImplementedError


SANITIZERS = {"zeros": lambda **kw: Overwrite("zeros", **kw),
              "random": lambda **kw: Overwrite("random", **kw),
              "crypto-erase": lambda **kw: CryptoErase()}


# --- verification -----------------------------------------------------------------------------

@dataclass
class Verification:
    method: str
    ok: bool
    bytes_checked: int
    bad_ranges: list[tuple[int, int]]
    detection_probability: float | None = None
    note: str = ""

    def to_dict(self) -> dict:
        return {"method": self.method, "result": "pass" if self.ok else "fail",
                "bytes_checked": self.bytes_checked, "bad_ranges": self.bad_ranges[:20],
                "bad_range_count": len(self.bad_ranges),
                "detection_probability": self.detection_probability, "note": self.note}


def _drop_cache(fd: int) -> None:
    if hasattr(os, "posix_fadvise"):
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)


def verify_full(medium: Medium, sanitizer: Sanitizer,
                progress: Callable[[int], None] | None = None) -> Verification:
    """Read back every allocated byte and compare with what the sanitizer must have left."""
    checked = 0
    bad: list[tuple[int, int]] = []
    with open(medium.path, "rb") as f:
        _drop_cache(f.fileno())  # read what the device holds, not what the page cache remembers
        for start, end in data_extents(medium.path):
            pos = start
            while pos < end:
                n = min(CHUNK - pos % CHUNK, end - pos)
                f.seek(pos)
                got = f.read(n)
                if got != sanitizer.expected(pos, n):
                    bad.append((pos, pos + n))
                checked += n
                pos += n
                if progress:
                    progress(n)
    return Verification("full read-back of every allocated extent (holes read as zeros and hold "
                        "no data)", not bad, checked, bad, 1.0)


def verify_sample(medium: Medium, sanitizer: Sanitizer, samples: int = 1024,
                  block: int = 64 << 10, seed: int = 0) -> Verification:
    """Read ``samples`` random blocks of the allocated extents.

    If a fraction f of the allocated blocks still held old data, the chance that at least one of
    n uniformly drawn blocks hits one is 1 - (1 - f)^n; reported for f = 1% (n = 1024: 99.997%).
    """
    extents = list(data_extents(medium.path))
    blocks = [(s + i * block, min(s + (i + 1) * block, e))
              for s, e in extents for i in range(math.ceil((e - s) / block))]
    rng = random.Random(seed)
    chosen = blocks if len(blocks) <= samples else rng.sample(blocks, samples)
    bad = []
    checked = 0
    with open(medium.path, "rb") as f:
        for s, e in chosen:
            f.seek(s)
            if f.read(e - s) != sanitizer.expected(s, e - s):
                bad.append((s, e))
            checked += e - s
    n = len(chosen)
    p = 1.0 if n >= len(blocks) else 1 - (1 - 0.01) ** n
    return Verification(f"random sampling of {n} blocks of {block} bytes", not bad, checked, bad, p,
                        "detection probability stated for 1% of blocks left unwiped")


def find_markers(path: Path, markers: list[bytes]) -> list[tuple[int, bytes]]:
    """Offsets where any of the markers occurs (test and forensic aid; scans data extents)."""
    found = []
    longest = max(len(m) for m in markers)
    with open(path, "rb") as f:
        for start, end in data_extents(path):
            pos = start
            tail = b""
            while pos < end:
                f.seek(pos)
                buf = f.read(min(CHUNK, end - pos))
                hay = tail + buf
                for m in markers:
                    i = hay.find(m)
                    while i != -1:
                        found.append((pos - len(tail) + i, m))
                        i = hay.find(m, i + 1)
                tail = hay[-(longest - 1):] if longest > 1 else b""
                pos += len(buf)
    return sorted(set(found))


def remove(path: Path) -> None:
    try:
        path.unlink()
    except FileNotFoundError:
        pass


__all__ = ["Medium", "Overwrite", "CryptoErase", "SANITIZERS", "Verification", "verify_full",
           "verify_sample", "data_extents", "content_sha256", "sparse_copy", "find_markers",
           "remove", "shutil"]
