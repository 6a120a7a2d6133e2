"""Money: billing a month, a Prometheus pull, the monthly report, at province scale.

    python benchmarks/bench_money.py [--approvals 12500] [--servers 1000] [--days 30]
                                     [--skip bill,pull,report] [--workdir DIR] [--keep]
                                     [--reuse DIR] [--against CHECKOUT] [--rounds 1]

  bill    a datong workspace of N synthetic approvals (benchmarks/bench_scale.py's generator:
          about 0.8 N systems, every application material named) with a year of lifecycle
          events (provisioned, delivery-confirmed, changed; one in twelve systems leaves:
          exit-requested, exit-approved, reclaimed, terminated; windows provisioned), written
          straight into the state's events table; then (after `govcloud compile`, which leaves
          the approval parse cache bills read) `govcloud bill --month 2026-11 --output json`
          and `--output xlsx` in a fresh child process each (wall time from spawn to exit, the
          child's CPU and peak RSS)
  report  `govcloud report --month 2026-11` on the bill workspace (HTML + XLSX, six bills)
  pull    a real Prometheus (Debian's, on 127.0.0.1) loaded through promtool with one gauge
          per server (`--servers` x `--days` at 5-minute resolution), then `metrics pull` of
          that range into metrics.db (batched query_range: every server in each request)

``--against CHECKOUT`` runs every timed step also with another checkout's code (e.g. a
`git worktree add /tmp/before <commit>`), round after round on the same workspace and the same
Prometheus, prints the ratio, and checks that both wrote byte-identical bills and reports.
``--keep`` leaves the work directory; ``--reuse DIR`` measures a kept one again (no setup).

Targets (issue 19): bill < 5 s and < 500 MiB for 10,000 systems; pull < 60 s for 1,000 servers
x 30 days x 5 min; report < 15 s for 10,000 systems. Figures are printed, not asserted.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# The code measured: this checkout, or (in a child started for --against) another one.
CODE = Path(os.environ.get("BENCH_MONEY_CODE", ROOT))
sys.path.insert(0, str(CODE))

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


def add_materials(approvals_dir: Path) -> None:
    """Every application material named (大同 第十一条 asks for them; the generator, written for
    巴中's rules, names only 巴中's): the missing keys added to each file."""
    import yaml
    from orchestrator.models.approval import MATERIALS
    for f in approvals_dir.glob("*.yaml"):
        a = yaml.load(f.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader)
        have = a.setdefault("materials", {})
        for k in MATERIALS:
            have.setdefault(k, f"bench {k}")
        f.write_text(yaml.dump(a, Dumper=yaml.CSafeDumper, allow_unicode=True, sort_keys=False),
                     encoding="utf-8")


def setup_bill(base: Path, n: int) -> Path:
    sys.path.insert(1, str(ROOT / "benchmarks"))
    from bench_scale import generate      # (it puts this checkout first on sys.path)
    from orchestrator.usecases.init import init_workspace
    ws = base / "ws"
    init_workspace(ws, "datong", examples=False)
    stats = generate(ws / "approvals", n, TODAY, 1)
    add_materials(ws / "approvals")
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


def spawn(cmd: list[str], log: Path, code: Path) -> tuple[int, dict]:
    """Run ``cmd`` with ``code``'s orchestrator (cwd and BENCH_MONEY_CODE); its exit code, wall
    seconds, CPU seconds (user + system) and peak RSS (MiB) of that child alone, and the
    1-minute load average when it started."""
    load = os.getloadavg()[0]
    env = {**os.environ, "BENCH_MONEY_CODE": str(code), "GOVCLOUD_TODAY": TODAY.isoformat()}
    with open(log, "w") as out:
        t0 = time.perf_counter()
        p = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, cwd=code, env=env)
        _, status, ru = os.wait4(p.pid, 0)
        wall = time.perf_counter() - t0
    p.returncode = os.waitstatus_to_exitcode(status)   # reaped here: tell Popen
    return p.returncode, {"wall_s": wall, "cpu_s": ru.ru_utime + ru.ru_stime,
                          "peak_rss_mib": ru.ru_maxrss / 1024, "load_1min": load}


class Step:
    """One timed command, run with each checkout round after round."""

    def __init__(self, label: str, codes: dict[str, Path], rounds: int):
        self.label, self.codes, self.rounds = label, codes, rounds
        self.runs: dict[str, list[dict]] = {tag: [] for tag in codes}

    def run(self, make_cmd, log_dir: Path) -> None:
        for r in range(self.rounds):
            for tag, code in self.codes.items():
                cmd = make_cmd(tag)
                log = log_dir / f"{re.sub(r'[^a-z]+', '-', self.label).strip('-')}-{tag}-{r}.log"
                rc, u = spawn(cmd, log, code)
                if rc != 0:
                    raise SystemExit(f"{self.label} ({tag}) failed:\n{log.read_text()[-3000:]}")
                u["log"] = log
                self.runs[tag].append(u)
                print(f"{self.label:<26} {tag:<6} wall {u['wall_s']:6.2f} s   cpu "
                      f"{u['cpu_s']:6.2f} s   peak RSS {u['peak_rss_mib']:6.0f} MiB   "
                      f"(load {u['load_1min']:.1f})", flush=True)
        print(f"    step alone: cd {self.codes['after']} && GOVCLOUD_TODAY={TODAY} python "
              f"{' '.join(make_cmd('after')[1:])}")

    def best(self, tag: str = "after") -> dict:
        return min(self.runs[tag], key=lambda u: u["wall_s"])

    def ratio(self) -> None:
        if "before" in self.runs:
            a, b = self.best("after"), self.best("before")
            print(f"    before / after (best of {self.rounds}): wall {b['wall_s'] / a['wall_s']:.1f}x, "
                  f"cpu {b['cpu_s'] / a['cpu_s']:.1f}x, peak RSS {b['peak_rss_mib']:.0f} -> "
                  f"{a['peak_rss_mib']:.0f} MiB")


def same_files(label: str, paths: dict[str, list[Path]]) -> None:
    """The files each checkout wrote, compared byte for byte."""
    if len(paths) < 2:
        return
    a, b = paths["after"], paths["before"]
    diff = [x.name for x, y in zip(a, b) if x.read_bytes() != y.read_bytes()]
    print(f"    {label}: {len(a)} files, " + ("byte-identical before and after" if not diff
                                              else f"DIFFER: {', '.join(diff)}"))


def bench_bill(ws: Path, codes: dict[str, Path], rounds: int) -> None:
    out = ws.parent
    files: dict[str, list[Path]] = {}
    for fmt in ("json", "xlsx"):
        step = Step(f"bill --output {fmt}", codes, rounds)
        step.run(lambda tag: govcloud("bill", "--month", MONTH, "--output", fmt, "--out",
                                      str(out / f"bill-{tag}.{fmt}"), "-C", str(ws)), out)
        step.ratio()
        for tag in codes:
            files.setdefault(tag, []).append(out / f"bill-{tag}.{fmt}")
        if fmt == "json":
            a = step.best()
            doc = json.loads((out / "bill-after.json").read_text(encoding="utf-8"))
            lines = sum(len(s["lines"]) for s in doc["systems"])
            ded = sum(len(s["deductions"]) for s in doc["systems"])
            print(f"    {len(doc['systems'])} systems billed, {lines} lines, {ded} deductions, "
                  f"payable {doc['payable']} CNY; target < 5 s and < 500 MiB: "
                  f"{'met' if a['wall_s'] < 5 and a['peak_rss_mib'] < 500 else 'NOT met'}")
    same_files("bills", files)


def bench_report(ws: Path, codes: dict[str, Path], rounds: int) -> None:
    step = Step("report (HTML + XLSX)", codes, rounds)
    step.run(lambda tag: govcloud("report", "--month", MONTH, "--out",
                                  str(ws.parent / f"report-{tag}"), "-C", str(ws)), ws.parent)
    step.ratio()
    out = ws.parent / "report-after"
    size = sum(f.stat().st_size for f in out.iterdir())
    print(f"    {len(list(out.iterdir()))} files, {size / 1e6:.1f} MB; target < 15 s: "
          f"{'met' if step.best()['wall_s'] < 15 else 'NOT met'}")
    same_files("reports", {tag: sorted((ws.parent / f"report-{tag}").iterdir()) for tag in codes})


BLOCK = 7200          # promtool's block length (2 h); its OpenMetrics input is cut to match


def load_tsdb(base: Path, servers: int, days: int, step: int, t0: int) -> Path:
    """One OpenMetrics file per two-hour block, each turned into its block by promtool (two at
    a time). promtool 2.42 parses its whole input once per block it writes, so one file of 30
    days would be parsed 360 times (the 1,000-server load ran for over 20 minutes)."""
    tool = shutil.which("promtool")
    tsdb = base / "tsdb"
    if tsdb.is_dir():
        return tsdb
    n = days * 86400 // step
    per = BLOCK // step
    om_dir = base / "om"
    om_dir.mkdir(parents=True, exist_ok=True)
    t = time.perf_counter()
    labels = [f'govcloud_bench_mem_pct{{govcloud_address="{server_address(s)}"}} '
              for s in range(servers)]
    files = []
    for b in range(0, n, per):
        f = om_dir / f"{b // per:05d}.om"
        with f.open("w") as out:
            out.write("# TYPE govcloud_bench_mem_pct gauge\n")
            for s, lab in enumerate(labels):
                out.writelines(f"{lab}{(s + k) % 97} {t0 + k * step}\n"
                               for k in range(b, min(b + per, n)))
            out.write("# EOF\n")
        files.append(f)
    gen = time.perf_counter() - t
    t = time.perf_counter()
    tmp = base / "tsdb.tmp"
    tmp.mkdir(exist_ok=True)
    running: list[subprocess.Popen] = []
    for f in files:
        if len(running) >= 2:
            running.pop(0).wait()
        running.append(subprocess.Popen([tool, "tsdb", "create-blocks-from", "openmetrics",
                                         "-q", str(f), str(tmp)], stdout=subprocess.DEVNULL))
    for r in running:
        r.wait()
    if any(r.returncode for r in running):
        raise SystemExit("promtool failed")
    blocks = time.perf_counter() - t
    shutil.rmtree(om_dir)
    tmp.rename(tsdb)
    print(f"setup: {servers} servers x {n} points = {servers * n:,} samples in "
          f"{len(files)} blocks (OpenMetrics {gen:.1f} s, promtool {blocks:.1f} s)")
    return tsdb


def server_address(s: int) -> str:
    return f"server:local/d{s // 10:04d}/s{s:05d}-internet/app-1"


def bench_pull(base: Path, servers: int, days: int, codes: dict[str, Path],
               rounds: int) -> None:
    prom = shutil.which("prometheus")
    if not prom or not shutil.which("promtool"):
        raise SystemExit("Prometheus is missing: bash scripts/prometheus/up.sh")
    step_s = 300
    t0 = int(dt.datetime(2026, 10, 1, tzinfo=CHINA).timestamp())
    n = days * 86400 // step_s
    tsdb = load_tsdb(base, servers, days, step_s, t0)
    from tests.money.prometheus import _free_port
    port = _free_port()
    (base / "prometheus.yml").write_text("global: {scrape_interval: 1h}\nscrape_configs: []\n")
    log = open(base / "prometheus.log", "w")
    # Blocks stay as promtool wrote them (no compaction while the pulls run).
    p = subprocess.Popen([prom, f"--config.file={base / 'prometheus.yml'}",
                          f"--storage.tsdb.path={tsdb}", "--storage.tsdb.retention.time=100y",
                          "--storage.tsdb.min-block-duration=2h",
                          "--storage.tsdb.max-block-duration=2h",
                          f"--web.listen-address=127.0.0.1:{port}",
                          "--query.max-samples=200000000"], stdout=log, stderr=log)
    try:
        import urllib.request
        for _ in range(600):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/-/ready", timeout=1)
                break
            except OSError:
                time.sleep(0.2)
        from orchestrator.usecases.init import init_workspace

        def ws_for(tag: str) -> Path:
            ws = base / f"pull-ws-{tag}"
            if not ws.is_dir():
                init_workspace(ws, "bazhong", examples=False)
                (ws / "metrics.yaml").write_text(
                    "queries:\n  mem_pct: govcloud_bench_mem_pct\n  cpu_pct: absent_cpu\n"
                    "  disk_used_pct: absent_disk\n  disk_free_gb: absent_free\n"
                    "  up: absent_up\n")
            return ws
        step = Step("metrics pull", codes, rounds)
        step.run(lambda tag: [sys.executable, str(Path(__file__).resolve()), "--_pull",
                              str(ws_for(tag)), f"http://127.0.0.1:{port}", str(t0),
                              str(t0 + (n - 1) * step_s), str(servers)], base)
        step.ratio()
        res = {tag: json.loads(step.best(tag)["log"].read_text().strip().splitlines()[-1])
               for tag in codes}
        a = res["after"]
        print(f"    {a['requests']} requests, {a['series']} series, {a['points']:,} points "
              f"stored; target < 60 s: {'met' if step.best()['wall_s'] < 60 else 'NOT met'}")
        if "before" in res:
            b = res["before"]
            digest = {}
            for tag in codes:        # what each stored, read back by this checkout (untimed)
                r = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--_digest",
                                    str(ws_for(tag)), str(t0), str(t0 + (n - 1) * step_s)],
                                   capture_output=True, text=True, cwd=ROOT, check=True)
                digest[tag] = r.stdout.strip()
            print(f"    before: {b['requests']} requests, {b['series']} series; samples stored: "
                  + ("identical" if digest["after"] == digest["before"] else "DIFFER"))
    finally:
        p.terminate()
        p.wait(20)
        log.close()


def child_pull(ws: str, url: str, since: str, until: str, servers: str) -> None:
    from orchestrator.usecases.metrics import pull
    from orchestrator.workspace import Workspace
    known = {server_address(s) for s in range(int(servers))}
    res = pull(Workspace.at(ws), url, int(since), int(until), 300, servers=known).to_dict()
    print(json.dumps(res))


def child_digest(ws: str, since: str, until: str) -> None:
    """SHA-256 of every sample a pull stored, as this checkout reads them back."""
    import hashlib
    from orchestrator.usecases.metrics import open_metrics
    from orchestrator.workspace import Workspace
    h = hashlib.sha256()
    with open_metrics(Workspace.at(ws)) as st:
        got = st.samples(int(since), int(until))
    for server in sorted(got):
        for metric in sorted(got[server]):
            h.update(f"{server}\0{metric}\0{got[server][metric]!r}\n".encode())
    print(h.hexdigest())


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--approvals", type=int, default=12500)
    ap.add_argument("--servers", type=int, default=1000)
    ap.add_argument("--days", type=int, default=30)
    ap.add_argument("--skip", default="")
    ap.add_argument("--workdir")
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--reuse", help="a work directory kept by --keep: measure again, no setup")
    ap.add_argument("--against", help="another checkout, timed in the same rounds")
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("--_pull", nargs=5)
    ap.add_argument("--_digest", nargs=3)
    args = ap.parse_args(argv)
    if args._pull:
        child_pull(*args._pull)
        return 0
    if args._digest:
        child_digest(*args._digest)
        return 0
    skip = set(filter(None, args.skip.split(",")))
    codes = {"after": ROOT}
    if args.against:
        codes["before"] = Path(args.against).resolve()
    base = Path(args.reuse) if args.reuse else Path(tempfile.mkdtemp(prefix="bench-money-",
                                                                       dir=args.workdir))
    print(f"bench_money on {os.cpu_count()} cores, in {base}"
          + (f"; before = {codes['before']}" if args.against else ""))
    try:
        if not {"bill", "report"} <= skip:
            ws = base / "bill" / "ws"
            if not args.reuse:
                setup_bill(base / "bill", args.approvals)
            if "bill" not in skip:
                bench_bill(ws, codes, args.rounds)
            if "report" not in skip:
                bench_report(ws, codes, args.rounds)
        if "pull" not in skip:
            (base / "pull").mkdir(exist_ok=True)
            bench_pull(base / "pull", args.servers, args.days, codes, args.rounds)
    finally:
        if not args.keep and not args.reuse:
            shutil.rmtree(base, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
