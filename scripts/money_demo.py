"""The money commands end to end on the example workspace after a scripted year of events.

    python scripts/money_demo.py [WORKSPACE_DIR] [--screenshot PNG]

Creates the example workspace (巴中, the two shipped approvals), compiles and applies it on the
embedded cloud on 2026-04-20, records the go-live events of 2026 (deployment completed,
delivery confirmed: straight into the state store for the kinds whose commands other work
adds) and a year of hourly utilisation (CSV import: the web tier busy,
the database's memory idle), then runs bill (text, CSV, XLSX; closes June), rightsize (with
change drafts) and the November report, and with --screenshot renders the report's first
screen in headless Chromium.
"""
from __future__ import annotations

import argparse
import csv
import datetime as dt
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
CHINA = dt.timezone(dt.timedelta(hours=8))


def gc(ws: Path, *args: str, today: str = "2026-12-01") -> str:
    env = {**os.environ, "GOVCLOUD_TODAY": today, "PYTHONPATH": str(ROOT)}
    cmd = [sys.executable, "-m", "orchestrator.cli", *args, "-C", str(ws)]
    print(f"\n$ govcloud {' '.join(args)} -C {ws.name}" + f"   (GOVCLOUD_TODAY={today})")
    r = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT)
    out = r.stdout + r.stderr
    print(out if len(out) < 4000 else out[:4000] + "\n...")
    if r.returncode != 0:
        raise SystemExit(f"failed: exit {r.returncode}")
    return r.stdout


def usage(ws: Path) -> Path:
    """Hourly series March-November 2026 per server: web busy (peaks over 70 %), db memory
    idle (under 30 %), the rest in between."""
    from orchestrator.usecases.metrics import known_servers
    from orchestrator.workspace import Workspace
    path = ws / "usage.csv"
    t0 = int(dt.datetime(2026, 3, 1, tzinfo=CHINA).timestamp())
    t1 = int(dt.datetime(2026, 11, 30, 23, tzinfo=CHINA).timestamp())
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["server", "metric", "timestamp", "value"])
        for srv in sorted(known_servers(Workspace.at(ws))):
            name = srv.rsplit("/", 1)[1]
            for k, t in enumerate(range(t0, t1 + 1, 3600)):
                hour = (k % 24)
                day = 8 <= hour <= 18
                if name.startswith("web"):
                    cpu, mem = (62 + (k % 13) if day else 35), (60 + (k % 17) if day else 50)
                elif name.startswith("db"):
                    cpu, mem = (18 if day else 8), (22 + (k % 5))
                else:
                    cpu, mem = (40 if day else 20), (45 if day else 38)
                w.writerow([srv, "cpu_pct", t, cpu])
                w.writerow([srv, "mem_pct", t, mem])
                w.writerow([srv, "disk_used_pct", t, 35])
                w.writerow([srv, "disk_free_gb", t, 650])
                w.writerow([srv, "up", t, 1])
    return path


def record(ws: Path, subject: str, kind: str, on: str, **detail) -> None:
    from orchestrator.usecases.session import open_state
    from orchestrator.workspace import Workspace
    with open_state(Workspace.at(ws)) as store:
        store.record_event(subject, kind, on, detail)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("workspace", nargs="?")
    ap.add_argument("--screenshot")
    args = ap.parse_args()
    ws = Path(args.workspace or Path(tempfile.mkdtemp(prefix="govcloud-money-")) / "ws")
    env = {**os.environ, "GOVCLOUD_TODAY": "2026-04-20", "PYTHONPATH": str(ROOT)}
    subprocess.run([sys.executable, "-m", "orchestrator.cli", "init", str(ws), "--profile",
                    "bazhong"], check=True, env=env, cwd=ROOT, capture_output=True)
    print(f"workspace {ws}")
    gc(ws, "compile", today="2026-04-20")
    gc(ws, "apply", "--auto-approve", today="2026-04-20")
    record(ws, "BZ-2026-0012", "deployment-completed", "2026-04-23", document="部署完成报告-0012")
    record(ws, "BZ-2026-0031", "deployment-completed", "2026-04-27", document="部署完成报告-0031")
    gc(ws, "confirm-delivery", "BZ-2026-0012", "--date", "2026-04-24", today="2026-04-24")
    gc(ws, "confirm-delivery", "BZ-2026-0031", "--date", "2026-04-28", today="2026-04-28")
    gc(ws, "metrics", "import", str(usage(ws)))
    for fmt in ("csv", "xlsx"):
        gc(ws, "bill", "--month", "2026-06", "--output", fmt, "--out", str(ws / f"bill-2026-06.{fmt}"))
    gc(ws, "bill", "--month", "2026-04")
    gc(ws, "bill", "--month", "2026-06", "--close", today="2026-07-01")
    # drafts go beside changes/: they are incomplete until the bureau signs them off
    gc(ws, "rightsize", "--now", "2026-11-30T23:00", "--draft", str(ws / "drafts"))
    gc(ws, "report", "--month", "2026-11", "--out", str(ws / "reports"))
    if args.screenshot:
        page = ws / "reports" / "report-2026-11.html"
        subprocess.run(["chromium", "--headless", "--no-sandbox", "--disable-gpu",
                        "--hide-scrollbars", "--window-size=1100,1900",
                        f"--screenshot={Path(args.screenshot).resolve()}", page.as_uri()],
                       check=True, capture_output=True, cwd=ws)
        print(f"screenshot: {args.screenshot}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
