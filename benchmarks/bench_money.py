"""Money: billing a month, a Prometheus pull, the monthly report, at province scale.

    python benchmarks/bench_money.py [--approvals 12500] [--servers 1000] [--days 30]
                                     [--skip bill,pull,report] [--workdir DIR] [--keep]

  bill    a datong workspace of N synthetic approvals (benchmarks/bench_scale.py's generator:
          about 0.8 N systems) with a year of lifecycle events (provisioned, delivery-confirmed,
          changed; one in twelve systems leaves: exit-requested, exit-approved, reclaimed,
          terminated; windows provisioned), written straight into the state's events table;
          then (after `govcloud compile`, which leaves the approval parse cache bills read)
          `govcloud bill --month 2026-11 --output json` and `--output xlsx` in a fresh
          child process each (wall time from spawn to exit and the child's peak RSS)
  pull    a real Prometheus (Debian's, on 127.0.0.1) loaded through promtool with one gauge
          per server (`--servers` x `--days` at 5-minute resolution), then `metrics pull` of
          that range (one query_range per metric and 10,000-step chunk) into metrics.db
  report  `govcloud report --month 2026-11` on the bill workspace (HTML + XLSX, six bills)

Targets (issue 19): bill < 5 s and < 500 MiB for 10,000 systems; pull < 60 s for 1,000 servers
x 30 days x 5 min; report < 15 s for 10,000 systems. Figures are printed, not asserted.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_scale import generate, spawn  # noqa: E402

MONTH, TODAY = "2026-11", dt.date(2026, 12, 1)
YEAR_START = dt.date(2025, 12, 1)
CHINA = dt.timezone(dt.timedelta(hours=8))


def govcloud(*args: str) -> list[str]:
    return [sys.executable, "-m", "orchestrator.cli", *args]


def events_for(approvals_dir: Path, seed: int) -> list[tuple]:
    import yaml
    rng = random.Random(seed)
    rows = []
    for f in sorted(approvals_dir.glob("*.yaml")):
        a = yaml.load(f.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader)
        no = a["approval_no"]
        ap = a["approved_on"]
        start = max(ap, YEAR_START) + dt.timedelta(days=rng.randint(0, 200))
        if a["term"]["kind"] != "permanent":
            start = max(a["term"]["start"], start - dt.timedelta(days=200))
        ev = [("approved", ap), ("provisioned", start),
              ("delivery-confirmed", start + dt.timedelta(days=3))]
        if rng.random() < 0.1:
            ev.append(("changed", start + dt.timedelta(days=rng.randint(10, 100))))
        if a["term"]["kind"] == "permanent" and not a.get("change_of") and rng.random() < 1 / 12:
            ex = start + dt.timedelta(days=rng.randint(30, 300))
            ev += [("exit-requested", ex), ("exit-approved", ex),
                   ("reclaimed", ex + dt.timedelta(days=rng.choice([1, 2, 5]))),
                   ("terminated", ex + dt.timedelta(days=rng.choice([1, 2, 5])))]
        for kind, on in ev:
            if on <= TODAY:
                rows.append((no, kind, on.isoformat(), "{}", "2026-12-01T00:00:00+08:00"))
    return rows


def setup_bill(base: Path, n: int) -> Path:
    from orchestrator.usecases.init import init_workspace
    ws = base / "ws"
    init_workspace(ws, "datong", examples=False)
    stats = generate(ws / "approvals", n, TODAY, 1)
    # compile: the specs (servers for the report) and the approval parse cache bills read
    r = subprocess.run(govcloud("compile", "-C", str(ws)), capture_output=True, text=True,
                       cwd=ROOT, env={**os.environ, "GOVCLOUD_TODAY": TODAY.isoformat()})
    assert r.returncode == 0, r.stderr[-3000:]
    r = subprocess.run(govcloud("state", "list", "-C", str(ws)), capture_output=True, text=True,
                       cwd=ROOT)     # creates the state database
    assert r.returncode == 0, r.stderr
    rows = events_for(ws / "approvals", 2)
    db = sqlite3.connect(ws / ".govcloud" / "state.db")
    with db:
        db.executemany("INSERT INTO events(subject, kind, on_date, detail, recorded_at) "
                       "VALUES (?,?,?,?,?)", rows)
    db.close()
    print(f"setup: {n} approvals, {stats['systems']} systems, {stats['departments']} departments, "
          f"{len(rows)} events")
    return ws


def timed(label: str, cmd: list[str], log: Path) -> dict:
    rc, u = spawn(cmd, log)
    if rc != 0:
        raise SystemExit(f"{label} failed:\n{log.read_text()[-3000:]}")
    print(f"{label:<34} wall {u['wall_s']:6.2f} s   cpu {u['cpu_s']:6.2f} s   peak RSS "
          f"{u['peak_rss_mib']:6.0f} MiB   (load {u['load_1min']:.1f})")
    print(f"    reproduce: {' '.join(cmd[1:])}")
    return u


def bench_bill(ws: Path) -> None:
    out = ws.parent
    a = timed("bill --output json", govcloud("bill", "--month", MONTH, "--output", "json",
                                             "--out", str(out / "bill.json"), "-C", str(ws)),
              out / "bill-json.log")
    timed("bill --output xlsx", govcloud("bill", "--month", MONTH, "--output", "xlsx", "--out",
                                         str(out / "bill.xlsx"), "-C", str(ws)), out / "bill-x.log")
    doc = json.loads((out / "bill.json").read_text(encoding="utf-8"))
    lines = sum(len(s["lines"]) for s in doc["systems"])
    ded = sum(len(s["deductions"]) for s in doc["systems"])
    print(f"    {len(doc['systems'])} systems billed, {lines} lines, {ded} deductions, payable "
          f"{doc['payable']} CNY; target < 5 s and < 500 MiB: "
          f"{'met' if a['wall_s'] < 5 and a['peak_rss_mib'] < 500 else 'NOT met'}")


def bench_report(ws: Path) -> None:
    out = ws.parent / "report"
    u = timed("report (HTML + XLSX)", govcloud("report", "--month", MONTH, "--out", str(out),
                                                "-C", str(ws)), ws.parent / "report.log")
    size = sum(f.stat().st_size for f in out.iterdir())
    print(f"    {len(list(out.iterdir()))} files, {size / 1e6:.1f} MB; target < 15 s: "
          f"{'met' if u['wall_s'] < 15 else 'NOT met'}")


def bench_pull(base: Path, servers: int, days: int) -> None:
    prom, tool = shutil.which("prometheus"), shutil.which("promtool")
    if not prom or not tool:
        raise SystemExit("Prometheus is missing: bash scripts/prometheus/up.sh")
    step = 300
    t0 = int(dt.datetime(2026, 10, 1, tzinfo=CHINA).timestamp())
    n = days * 86400 // step
    om = base / "data.om"
    t = time.perf_counter()
    with om.open("w") as f:
        f.write("# TYPE govcloud_bench_mem_pct gauge\n")
        for s in range(servers):
            addr = f"server:local/d{s // 10:04d}/s{s:05d}-internet/app-1"
            lab = f'govcloud_bench_mem_pct{{govcloud_address="{addr}"}} '
            f.writelines(f"{lab}{(s + k) % 97} {t0 + k * step}\n" for k in range(n))
        f.write("# EOF\n")
    gen = time.perf_counter() - t
    tsdb = base / "tsdb"
    t = time.perf_counter()
    subprocess.run([tool, "tsdb", "create-blocks-from", "openmetrics", str(om), str(tsdb)],
                   check=True, capture_output=True)
    blocks = time.perf_counter() - t
    om.unlink()
    print(f"setup: {servers} servers x {n} points = {servers * n:,} samples "
          f"(OpenMetrics {gen:.1f} s, promtool blocks {blocks:.1f} s)")
    from tests.money.prometheus import _free_port
    port = _free_port()
    (base / "prometheus.yml").write_text("global: {scrape_interval: 1h}\nscrape_configs: []\n")
    log = open(base / "prometheus.log", "w")
    p = subprocess.Popen([prom, f"--config.file={base / 'prometheus.yml'}",
                          f"--storage.tsdb.path={tsdb}", "--storage.tsdb.retention.time=100y",
                          f"--web.listen-address=127.0.0.1:{port}",
                          "--query.max-samples=200000000"], stdout=log, stderr=log)
    try:
        import urllib.request
        for _ in range(300):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/-/ready", timeout=1)
                break
            except OSError:
                time.sleep(0.2)
        from orchestrator.usecases.init import init_workspace
        ws = base / "pull-ws"
        init_workspace(ws, "bazhong", examples=False)
        (ws / "metrics.yaml").write_text(
            "queries:\n  mem_pct: govcloud_bench_mem_pct\n  cpu_pct: absent_cpu\n"
            "  disk_used_pct: absent_disk\n  disk_free_gb: absent_free\n  up: absent_up\n")
        cmd = [sys.executable, str(Path(__file__).resolve()), "--_pull", str(ws),
               f"http://127.0.0.1:{port}", str(t0), str(t0 + (n - 1) * step), str(servers)]
        u = timed("metrics pull", cmd, base / "pull.log")
        res = json.loads((base / "pull.log").read_text().strip().splitlines()[-1])
        print(f"    {res['requests']} requests, {res['series']} series, {res['points']:,} points "
              f"stored; target < 60 s: {'met' if u['wall_s'] < 60 else 'NOT met'}")
    finally:
        p.terminate()
        p.wait(20)
        log.close()


def child_pull(ws: str, url: str, since: str, until: str, servers: str) -> None:
    from orchestrator.usecases.metrics import pull
    from orchestrator.workspace import Workspace
    known = {f"server:local/d{s // 10:04d}/s{s:05d}-internet/app-1" for s in range(int(servers))}
    res = pull(Workspace.at(ws), url, int(since), int(until), 300, servers=known)
    print(json.dumps(res.to_dict()))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--approvals", type=int, default=12500)
    ap.add_argument("--servers", type=int, default=1000)
    ap.add_argument("--days", type=int, default=30)
    ap.add_argument("--skip", default="")
    ap.add_argument("--workdir")
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--_pull", nargs=5)
    args = ap.parse_args(argv)
    if args._pull:
        child_pull(*args._pull)
        return 0
    skip = set(filter(None, args.skip.split(",")))
    base = Path(tempfile.mkdtemp(prefix="bench-money-", dir=args.workdir))
    print(f"bench_money on {os.cpu_count()} cores, in {base}")
    try:
        if not {"bill", "report"} <= skip:
            ws = setup_bill(base / "bill", args.approvals)
            if "bill" not in skip:
                bench_bill(ws)
            if "report" not in skip:
                bench_report(ws)
        if "pull" not in skip:
            (base / "pull").mkdir()
            bench_pull(base / "pull", args.servers, args.days)
    finally:
        if not args.keep:
            shutil.rmtree(base, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
