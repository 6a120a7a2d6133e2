"""Plan at scale: a whole plan (`--refresh=full`, the baseline) against the scoped plan of
`--refresh=auto` (core/plan_scope.py), no-op and with one approval touched, in one run.

Runs on a workspace that bench_scale.py built, applied and kept (`--keep`):

  .venv/bin/python benchmarks/bench_plan_scale.py --ws /var/tmp/bench/bench-scale-XXXX/ws-10000

Each step is `govcloud` in a fresh child Python (wall, CPU = user + system, peak RSS, imports
included), on the workspace's day (its .setup.json):
  (0) compile (untimed: a code change since the last compile compiles everything)
  (1) plan --refresh=full, no-op: every spec, state row and cloud object read (baseline)
  (2) plan (auto), no-op: right after (1), every department skipped as unchanged
  (3) one approval touched (a change document growing one data disk by 10 %): plan (auto),
      which compiles first: "compile + plan" of a touched approval, one process
  (4) the same touched workspace, plan --refresh=full (baseline for (3)); its action counts
      must equal (3)'s, or the run fails
The change document is removed again at the end (and compiled away), so the workspace can be
measured again. ``--check K``: K random departments planned alone, in this process, must give
the whole plan's actions for them, field for field. The workspace must have at least ``[plan] skip_unchanged_from`` (default
1,000) spec files, or (2) and (3) plan everything too.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import sys
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_scale import spawn  # noqa: E402

CHANGE = "BENCH-PLAN-SCALE"
SUMMARY = re.compile(r"Plan: .*|No changes\..*")
STACKS = re.compile(r"Stacks: (?:all \d+ planned|.*? planned \(departments [^)]*\), \d+ skipped)")


def govcloud(ws: Path, log: Path, *args: str, profile: Path | None = None
             ) -> tuple[int, dict, str]:
    prof = ["-m", "cProfile", "-o", str(profile)] if profile else []
    rc, usage = spawn([sys.executable, *prof, "-m", "orchestrator.cli", *args, "-C", str(ws)], log)
    return rc, usage, log.read_text(errors="replace")


def top(profile: Path, n: int = 22) -> None:
    """The functions of this project that took the most time, cumulative, in ``profile``."""
    import pstats
    st = pstats.Stats(str(profile))
    rows = sorted(((ct, nc, f) for f, (_cc, nc, _tt, ct, _) in st.stats.items()
                   if "/orchestrator/" in f[0] or "/drivers/" in f[0]), reverse=True)
    total = max((ct for ct, _, _ in rows), default=1.0)
    for ct, nc, (file, line, fn) in rows[:n]:
        where = file.split("/orchestrator/")[-1] if "/orchestrator/" in file else \
            "drivers/" + file.split("/drivers/")[-1]
        print(f"      {ct:7.2f} s {100 * ct / total:4.0f}%  {nc:>7}  {where}:{line} {fn}",
              file=sys.stderr)


def touch_one(ws: Path, today: dt.date) -> str:
    """changes/<CHANGE>.yaml: the first approval with a data disk, that disk 10 % larger."""
    for path in sorted((ws / "approvals").glob("*.yaml")):
        base = yaml.safe_load(path.read_text(encoding="utf-8"))
        for zone in base["zones"].values():
            for server in zone.get("servers") or ():
                if server.get("data_disks"):
                    server["data_disks"][0]["gb"] = int(server["data_disks"][0]["gb"] * 1.1)
                    doc = {"change_no": CHANGE, "changes": base["approval_no"],
                           "approved_on": today.isoformat(), "approvers": base["approvers"],
                           "zones": base["zones"]}
                    (ws / "changes").mkdir(exist_ok=True)
                    (ws / "changes" / f"{CHANGE}.yaml").write_text(
                        yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")
                    return base["approval_no"]
    raise SystemExit("no approval with a data disk to touch")


def check_departments(ws: Path, today: dt.date, k: int, seed: int = 1) -> str:
    """In this process: ``k`` random departments planned alone (their state rows, their
    objects by address) give exactly the whole plan's actions for them."""
    import gc
    import random
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from orchestrator.core import planner
    from orchestrator.state.base import department_of
    from orchestrator.usecases import plan_scope
    from orchestrator.usecases.session import open_drivers, open_state
    from orchestrator.workspace import Workspace
    gc.disable()
    w = Workspace.at(ws)
    serialized: dict = {}
    specs = w.load_specs(serialized)
    with open_state(w) as store, open_drivers(w) as drivers:
        snap = store.read()
        desired = planner.collect_desired(r for s in specs for r in s.resources)
        drivers.need({r.target for r in desired.values()})
        caps = {n: d.kinds for n, d in drivers.items()}
        whole = planner.make_actions(dict(desired), snap.records,
                                     [o for d in drivers.values() for o in d.observe()], caps,
                                     today, serialized)
        pick = frozenset(random.Random(seed).sample(
            sorted({s.stack.partition("/")[0] for s in specs}), k))
        mine = planner.collect_desired(r for s in specs if s.stack.partition("/")[0] in pick
                                       for r in s.resources)
        part_snap = store.read_departments(set(pick))
        part = planner.make_actions(dict(mine), part_snap.records,
                                    plan_scope.observe(drivers, pick, set()), caps, today)
    want = [a.to_dict() for a in whole if department_of(a.address) in pick]
    got = [a.to_dict() for a in part]
    if got != want:
        raise SystemExit(f"departments {sorted(pick)} planned alone differ from the whole plan")
    return f"departments {', '.join(sorted(pick))} planned alone: {len(got)} actions, " \
           f"equal to the whole plan's"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ws", type=Path, required=True, help="a kept bench_scale workspace (ws-N)")
    ap.add_argument("--json", action="store_true", help="print the figures as JSON")
    ap.add_argument("--check", type=int, default=0, metavar="K",
                    help="also plan K random departments alone in this process and require "
                         "the whole plan's actions for them, field for field")
    ap.add_argument("--profile", type=Path, default=None, metavar="DIR",
                    help="run (2) and (3) under cProfile (their figures inflated), keep the "
                         "profiles in DIR and print where the time went")
    args = ap.parse_args()
    ws = args.ws.resolve()
    setup = json.loads((ws.parent / f"{ws.name}.setup.json").read_text())
    today = dt.date.fromisoformat(setup["today"])
    now = ["--now", today.isoformat()]
    logs = ws.parent
    out: dict[str, dict] = {}

    def step(name: str, want_rc: int, *cmd: str, profiled: bool = False) -> str:
        prof = None
        if profiled and args.profile:
            args.profile.mkdir(parents=True, exist_ok=True)
            prof = args.profile / f"plan-scale-{name[1]}.prof"
        rc, usage, text = govcloud(ws, logs / f"plan-scale-{name}.log", *cmd, *now, profile=prof)
        if rc != want_rc and not (prof and rc == 0):   # cProfile's runner drops the exit code
            raise SystemExit(f"{name}: `govcloud {' '.join(cmd)}` exited {rc}, not "
                             f"{want_rc}:\n{text[-3000:]}")
        summary = SUMMARY.findall(text)
        stacks = STACKS.findall(text)
        out[name] = {**usage, "summary": summary[-1] if summary else "",
                     "stacks": stacks[-1] if stacks else "every stack planned"}
        print(f"  {name:<34} {usage['wall_s']:7.2f} s wall {usage['cpu_s']:7.2f} s CPU "
              f"{usage['peak_rss_mib']:6.0f} MiB  load {usage['load_1min']:.1f}  "
              f"{out[name]['stacks']}" + ("  (under cProfile)" if prof else ""),
              file=sys.stderr, flush=True)
        if prof:
            top(prof)
        return text

    print(f"bench_plan_scale: {ws} ({setup['generated']['approvals']:,} approvals), "
          f"{os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}", file=sys.stderr)
    os.environ["GOVCLOUD_TODAY"] = today.isoformat()   # compile's day too (it takes no --now)
    change = ws / "changes" / f"{CHANGE}.yaml"
    change.unlink(missing_ok=True)

    def compile_(name: str) -> None:
        rc, _, text = govcloud(ws, logs / f"plan-scale-{name}.log", "compile")
        if rc != 0:
            raise SystemExit(f"{name}: `govcloud compile` exited {rc}:\n{text[-3000:]}")

    compile_("compile")
    try:
        step("(1) plan --refresh=full, no-op", 0, "plan", "--detailed-exitcode", "--refresh", "full")
        step("(2) plan (auto), no-op", 0, "plan", "--detailed-exitcode", profiled=True)
        touched = touch_one(ws, today)
        step("(3) touched: plan (auto) + compile", 2, "plan", "--detailed-exitcode", profiled=True)
        step("(4) touched: plan --refresh=full", 2, "plan", "--detailed-exitcode",
             "--refresh", "full")
    finally:
        change.unlink(missing_ok=True)
        compile_("restore")
    a, b = out["(3) touched: plan (auto) + compile"], out["(4) touched: plan --refresh=full"]
    counts = [re.sub(r", \d+ unchanged.*", "", x["summary"]) for x in (a, b)]
    if counts[0] != counts[1] or not counts[0].startswith("Plan:"):
        raise SystemExit(f"the scoped and the whole plan differ: {counts[0]!r} vs {counts[1]!r}")
    print(f"  touched approval {touched}: {counts[0]}", file=sys.stderr)
    for base, new in (("(1) plan --refresh=full, no-op", "(2) plan (auto), no-op"),
                      ("(4) touched: plan --refresh=full", "(3) touched: plan (auto) + compile")):
        print(f"  {new}: {out[base]['wall_s'] / out[new]['wall_s']:.1f}x wall, "
              f"{out[base]['cpu_s'] / out[new]['cpu_s']:.1f}x CPU, "
              f"{out[base]['peak_rss_mib'] / out[new]['peak_rss_mib']:.1f}x less memory than "
              f"{base}", file=sys.stderr)
    if args.check:
        print("  " + check_departments(ws, today, args.check), file=sys.stderr)
    if args.json:
        print(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
