"""Wipe + verify throughput of a volume versus dd + cmp on the same disk, in one run.

    python benchmarks/bench_wipe.py [--size-gib 4] [--rounds 3] [--dir DIR] [--json]

For each round: fill a file with random data (not timed), then time
  govcloud: Overwrite("zeros").sanitize + verify_full (drops the file's page cache first, reads
            back every byte from the device);
  baseline: dd if=/dev/zero of=FILE bs=4M count=N conv=notrunc,fsync; drop the page cache of the
            file the same way; cmp -n SIZE FILE /dev/zero.
Prints each round, the medians and the ratio govcloud / baseline (target: <= 1.3).
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from drivers.media import Medium, Overwrite, verify_full  # noqa: E402

MIB = 1 << 20


def fill(path: Path, size: int) -> None:
    block = os.urandom(4 * MIB)
    with open(path, "wb") as f:
        for _ in range(size // len(block)):
            f.write(block)
        f.flush()
        os.fsync(f.fileno())


def drop_cache(path: Path) -> None:
    with open(path, "rb") as f:
        os.posix_fadvise(f.fileno(), 0, 0, os.POSIX_FADV_DONTNEED)


def ours(path: Path, size: int) -> float:
    t = time.perf_counter()
    s = Overwrite("zeros")
    m = Medium("bench", "volume", path, size=size)
    s.sanitize(m)
    assert verify_full(m, s).ok
    return time.perf_counter() - t


def baseline(path: Path, size: int) -> float:
    t = time.perf_counter()
    subprocess.run(["dd", "if=/dev/zero", f"of={path}", "bs=4M", f"count={size // (4 * MIB)}",
                    "conv=notrunc,fsync", "status=none"], check=True)
    drop_cache(path)
    r = subprocess.run(["cmp", "-n", str(size), str(path), "/dev/zero"])
    assert r.returncode == 0
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--size-gib", type=float, default=4)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--dir", type=Path, default=None)
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    size = int(a.size_gib * 1024) * MIB
    with tempfile.TemporaryDirectory(dir=a.dir, prefix="govcloud-wipe-") as d:
        path = Path(d) / "volume.img"
        rows = []
        for i in range(a.rounds):
            # alternate the order so neither side always runs on a warmer disk
            order = [("govcloud", ours), ("dd+cmp", baseline)]
            if i % 2:
                order.reverse()
            for name, fn in order:
                fill(path, size)
                drop_cache(path)
                secs = fn(path, size)
                rows.append({"round": i + 1, "tool": name, "seconds": round(secs, 3),
                             "MiB_per_s": round(size / MIB / secs, 1)})
                if not a.json:
                    print(f"round {i + 1} {name:<9} {secs:7.2f} s  {size / MIB / secs:8.1f} MiB/s")
    med = {t: statistics.median(r["seconds"] for r in rows if r["tool"] == t)
           for t in ("govcloud", "dd+cmp")}
    ratio = med["govcloud"] / med["dd+cmp"]
    result = {"size_bytes": size, "rounds": rows, "median_seconds": med, "ratio": round(ratio, 3)}
    if a.json:
        print(json.dumps(result, indent=2))
    else:
        print(f"median: govcloud {med['govcloud']:.2f} s, dd+cmp {med['dd+cmp']:.2f} s; "
              f"ratio {ratio:.2f} (target <= 1.3) for {size / (1 << 30):.1f} GiB write + read-back")


if __name__ == "__main__":
    main()
