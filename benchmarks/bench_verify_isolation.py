"""Wall time of a full `govcloud verify-isolation` (whole-cloud checks and the primary/alternate
probes) on the OpenStack test cloud, for N systems (one department ``osiso-bench``, each system
one project in the internet zone with a public IP; no servers, so the setup stays short).

    OS_CLIENT_CONFIG_FILE=/var/tmp/govcloud-osbox/clouds.yaml \\
        .venv/bin/python benchmarks/bench_verify_isolation.py --sizes 2,20

Prints, per size: the setup (apply) time, verify-isolation with probes and with --no-probe
(wall seconds, rows, API calls are not visible from outside: rows instead), and the ratio of
the two sizes. Removes everything it made (purge_stale("osiso-bench")) before and after.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from orchestrator.usecases.init import init_workspace  # noqa: E402
from tests.openstack.cloud import CLOUD, purge_stale, require_cloud  # noqa: E402

GOVCLOUD = [sys.executable, "-m", "orchestrator.cli"]


def gc(ws: Path, *args: str) -> tuple[float, subprocess.CompletedProcess]:
    t = time.monotonic()
    r = subprocess.run([*GOVCLOUD, *args, "-C", str(ws)], capture_output=True, text=True,
                       timeout=3600, env=os.environ.copy())
    return time.monotonic() - t, r


def workspace(root: Path, n: int) -> Path:
    ws = root / f"ws{n}"
    init_workspace(ws, "bazhong", examples=False)
    cfg = ws / "govcloud.toml"
    cfg.write_text(cfg.read_text().replace('target = "local"', 'target = "os"') +
                   f'\n[targets.os]\ndriver = "openstack"\ncloud = "{CLOUD}"\n')
    for i in range(1, n + 1):
        a = {"approval_no": f"OSISO-B{i:03d}", "department": {"code": "osiso-bench", "name": "bench"},
             "system": {"code": f"bs{i:02d}", "name": f"bs{i:02d}", "dengbao_level": 2},
             "approvers": [{"name": "王敏", "org": "大数据局"}], "approved_on": "2026-03-02",
             "term": {"kind": "permanent"},
             "zones": {"internet": {"public_ips": 1, "bandwidth_mbps": 5,
                                    "inbound": [{"protocol": "tcp", "port": 443, "source": "0.0.0.0/0"}]}}}
        (ws / "approvals" / f"{a['approval_no']}.yaml").write_text(
            yaml.safe_dump(a, allow_unicode=True), encoding="utf-8")
    return ws


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="2,20")
    sizes = [int(x) for x in ap.parse_args().sizes.split(",")]
    require_cloud()
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            purge_stale(r"osiso-bench")
            ws = workspace(Path(tmp), n)
            try:
                assert gc(ws, "compile")[1].returncode == 0
                setup, r = gc(ws, "apply", "--auto-approve", "--parallelism", "4")
                assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
                full, r = gc(ws, "verify-isolation", "--output", "json")
                rep = json.loads(r.stdout)
                assert rep["passed"], [c for c in rep["checks"] if c["status"] == "FAIL"]
                quick, r2 = gc(ws, "verify-isolation", "--no-probe", "--output", "json")
                results[n] = (setup, full, len(rep["checks"]), quick,
                              len(json.loads(r2.stdout)["checks"]))
                print(f"{n:>3} systems: apply {setup:6.1f} s | verify-isolation {full:6.1f} s "
                      f"({len(rep['checks'])} rows, {rep['summary']}) | --no-probe {quick:5.1f} s "
                      f"({results[n][4]} rows)", flush=True)
            finally:
                purge_stale(r"osiso-bench")
    if len(sizes) == 2:
        a, b = (results[n] for n in sizes)
        print(f"ratio {sizes[1]}/{sizes[0]} systems: verify-isolation x{b[1] / a[1]:.1f}, "
              f"--no-probe x{b[3] / a[3]:.1f}")


if __name__ == "__main__":
    main()
