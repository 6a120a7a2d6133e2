"""Many runners on one PostgreSQL: 4 `govcloud apply` processes (one department each, cut with
-target, so they take only their stacks' locks) against 1 process applying the same 4
departments, on the embedded cloud with its simulated API latency, in one run.

    python benchmarks/bench_runners.py [--departments 4] [--latency-ms 20] [--parallelism 4]
                                       [--pg postgresql://postgres@127.0.0.1:5432/postgres]

Each measurement starts from a fresh workspace (empty cloud, empty state in a fresh database
named h15c_bench_*, dropped at the end). Prints wall times, the objects made, and the speed-up
(1 runner's time / N runners' time).
"""
from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg

REPO = Path(__file__).resolve().parent.parent
GOVCLOUD = [sys.executable, "-m", "orchestrator.cli"]
SOURCES = [("BZ-2026-0012", "edu", "edu-portal"), ("BZ-2026-0031", "hrss", "social-insurance")]


def run(*args: str, cwd: Path | None = None) -> str:
    r = subprocess.run([*GOVCLOUD, *args], capture_output=True, text=True, timeout=1800,
                       env={**os.environ, "PYTHONPATH": str(REPO)})
    if r.returncode:
        sys.exit(f"govcloud {' '.join(args)} failed:\n{r.stdout}\n{r.stderr}")
    return r.stdout


def workspace(root: Path, url: str, departments: int, latency_ms: float) -> tuple[Path, list[str]]:
    """The init example's two approvals copied to ``departments`` departments, unsigned."""
    ws = root / "ws"
    run("init", str(ws), "--profile", "bazhong")
    cfg = ws / "govcloud.toml"
    text = cfg.read_text().replace('url = "sqlite:///.govcloud/state.db"', f'url = "{url}"')
    text = text.replace("require_signatures = true", "require_signatures = false")
    cfg.write_text(text.replace('driver = "local"', f'driver = "local"\nlatency_ms = {latency_ms}'))
    apps = ws / "approvals"
    originals = {no: (apps / f"{no}.yaml").read_text(encoding="utf-8") for no, _, _ in SOURCES}
    for f in apps.iterdir():
        f.unlink()
    stacks = []
    for i in range(departments):
        no, dept, system = SOURCES[i % 2]
        code = f"{dept}{i}"
        text = originals[no].replace(f"approval_no: {no}", f"approval_no: BZ-2026-{i + 100:04d}")
        text = re.sub(rf"department: {{code: {dept}, name: ([^}}]+)}}",
                      rf"department: {{code: {code}, name: \g<1>{i}}}", text)
        (apps / f"BZ-2026-{i + 100:04d}.yaml").write_text(text, encoding="utf-8")
        stacks.append(f"{code}/{system}")
    run("compile", "-C", str(ws))
    return ws, stacks


def objects(ws: Path) -> int:
    import sqlite3
    db = sqlite3.connect(ws / ".govcloud" / "local-cloud" / "cloud.db")
    try:
        return db.execute("SELECT count(*) FROM objects").fetchone()[0]
    finally:
        db.close()


def measure(server: str, runners: int, departments: int, latency: float, par: int) -> dict:
    name = "h15c_bench_" + os.urandom(4).hex()
    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    p = urlsplit(server)
    url = urlunsplit((p.scheme, p.netloc, "/" + name, p.query, p.fragment))
    try:
        with tempfile.TemporaryDirectory(prefix="h15c-bench-runners-") as tmp:
            ws, stacks = workspace(Path(tmp), url, departments, latency)
            base = [*GOVCLOUD, "apply", "--auto-approve", "--lock-timeout", "1800",
                    "--parallelism", str(par), "-C", str(ws)]
            if runners == 1:
                cmds = [base]                           # one runner, every department
            else:
                cmds = [[*base, "-target", s] for s in stacks]
            env = {**os.environ, "PYTHONPATH": str(REPO)}
            t0 = time.perf_counter()
            procs = [subprocess.Popen(c, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                      text=True, env=env) for c in cmds]
            outs = [pr.communicate(timeout=1800)[0] for pr in procs]
            wall = time.perf_counter() - t0
            if any(pr.returncode for pr in procs):
                sys.exit("an apply failed:\n" + "\n".join(outs))
            return {"runners": len(cmds), "seconds": round(wall, 2), "objects": objects(ws)}
    finally:
        with psycopg.connect(server, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--departments", type=int, default=4)
    ap.add_argument("--latency-ms", type=float, default=20)
    ap.add_argument("--parallelism", type=int, default=4)
    ap.add_argument("--pg", default=os.environ.get("GOVCLOUD_TEST_PG_URL",
                                                   "postgresql://postgres@127.0.0.1:5432/postgres"))
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args(argv)
    one = measure(a.pg, 1, a.departments, a.latency_ms, a.parallelism)
    many = measure(a.pg, a.departments, a.departments, a.latency_ms, a.parallelism)
    assert one["objects"] == many["objects"], (one, many)
    out = {"departments": a.departments, "latency_ms": a.latency_ms,
           "parallelism": a.parallelism, "one": one, "many": many,
           "speedup": round(one["seconds"] / many["seconds"], 2)}
    if a.json:
        print(json.dumps(out))
    else:
        print(f"{a.departments} departments, {one['objects']} objects, latency {a.latency_ms:g} ms, "
              f"--parallelism {a.parallelism} per runner")
        print(f"  1 runner : {one['seconds']:8.2f} s")
        print(f"  {many['runners']} runners: {many['seconds']:8.2f} s")
        print(f"  speed-up : {out['speedup']:.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
