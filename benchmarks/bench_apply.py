"""Apply throughput: objects/s of a setup apply on the embedded cloud, this tree vs a baseline.

    python benchmarks/bench_apply.py [--sizes 1000] [--against DIR] [--rounds 1]
                                     [--parallelism 8] [--profile] [--workdir DIR] [--keep]

For each N: bench_scale.py's generator writes N approvals into one workspace (`govcloud init
--no-examples`, unsigned); then, for every checkout (this tree, and DIR with --against), round
after round (A B A B ...), a copy of that workspace is compiled and applied (as `govcloud apply
--auto-approve`, usecases.apply.apply with --parallelism workers) in a fresh child Python whose
PYTHONPATH is that checkout. Timed: the apply call alone, inside the child ("in-phase"; the
compile before it is not timed). objects/s = objects the cloud holds afterwards / in-phase
seconds. Each apply is checked: no failed step, every object of the plan in the cloud exactly
once (no duplicate address), and a plan afterwards is a no-op. --profile: this tree's last
apply under cProfile, top functions printed.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def child(ws: Path, today: dt.date, parallelism: int, profile_out: str | None) -> None:
    """In the child: compile (untimed), apply (timed), plan (a no-op check); one JSON line."""
    from orchestrator.usecases.apply import apply
    from orchestrator.usecases.compile import compile_workspace
    from orchestrator.usecases.plan import plan
    from orchestrator.workspace import Workspace
    compile_workspace(Workspace.at(ws), today)
    prof = None
    if profile_out:   # the main thread's, plus every step's in the workers (one at a time)
        import cProfile
        import threading
        from orchestrator.executor import Executor
        prof, one = cProfile.Profile(time.thread_time), threading.Lock()   # CPU, not wall
        worker = cProfile.Profile(time.thread_time)   # CPU: the machine may be loaded
        run_step = Executor._run_step

        def profiled(self, step):
            if self.inline:   # in this thread: the main profile has it
                return run_step(self, step)
            with one:
                return worker.runcall(run_step, self, step)
        Executor._run_step = profiled
        prof.enable()
    t0, c0 = time.perf_counter(), time.process_time()
    res = apply(Workspace.at(ws), None, today, parallelism, lock_timeout=600)
    apply_s, apply_cpu = time.perf_counter() - t0, time.process_time() - c0
    if prof is not None:
        prof.disable()
        prof.dump_stats(profile_out)
        worker.dump_stats(profile_out + ".steps")
    after = plan(Workspace.at(ws), today, lock_timeout=60).plan
    print(json.dumps({"apply_s": apply_s, "apply_cpu_s": apply_cpu, "steps": len(res.results),
                      "failed": [f"{r.address}: {r.detail}" for r in res.failed[:5]],
                      "n_failed": len(res.failed), "n_pool": sum(
                          "no free address left for floating_ip" in r.detail for r in res.failed), "after_has_changes": after.has_changes,
                      "after_summary": after.summary}))


def cloud_counts(ws: Path) -> tuple[int, int]:
    """(objects, duplicate addresses) in the embedded cloud of ``ws``."""
    db = sqlite3.connect(ws / ".govcloud" / "local-cloud" / "cloud.db")
    try:
        n = db.execute("SELECT count(*) FROM objects").fetchone()[0]
        dupes = db.execute("SELECT count(*) FROM (SELECT address FROM objects WHERE address "
                           "IS NOT NULL GROUP BY owner, address HAVING count(*) > 1)").fetchone()[0]
    finally:
        db.close()
    return n, dupes


def run_one(checkout: Path, pristine: Path, dest: Path, today: dt.date, args,
            profile_out: str | None = None) -> dict:
    shutil.copytree(pristine, dest, symlinks=True)
    env = {**os.environ, "PYTHONPATH": str(checkout)}
    cmd = [sys.executable, str(Path(__file__).resolve()), "--_child", str(dest),
           "--_today", today.isoformat(), "--parallelism", str(args.parallelism)]
    if profile_out:
        cmd += ["--_profile", profile_out]
    p = subprocess.run(cmd, env=env, cwd=checkout, capture_output=True, text=True)
    if p.returncode != 0:
        raise SystemExit(f"bench_apply: the apply with {checkout} failed (exit {p.returncode}):\n"
                         f"{p.stderr[-4000:]}")
    r = json.loads(p.stdout.strip().splitlines()[-1])
    r["objects"], r["duplicates"] = cloud_counts(dest)
    # Before 2026-12-03 the embedded cloud's floating pools were one /24 each: a baseline that
    # old fails the floating IPs past the 254th (counted, not fatal); anything else is.
    r["pool_exhausted"] = r["n_failed"] if r["n_pool"] == r["n_failed"] else 0
    if (r["n_failed"] and not r["pool_exhausted"]) or r["duplicates"] or \
            (r["after_has_changes"] and not r["pool_exhausted"]):
        raise SystemExit(f"bench_apply: the apply with {checkout} is wrong: {r}")
    r["objects_per_s"] = r["objects"] / r["apply_s"]
    if not args.keep:
        shutil.rmtree(dest, ignore_errors=True)
    return r


def print_profile(path: str, limit: int = 35) -> None:
    import io
    import pstats
    out = io.StringIO()
    pstats.Stats(path, stream=out).sort_stats("cumulative").print_stats(limit)
    out.write("\n")
    pstats.Stats(path, stream=out).sort_stats("tottime").print_stats(limit)
    print(out.getvalue())


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="1000", help="comma-separated approval counts")
    ap.add_argument("--against", type=Path, default=None, metavar="DIR",
                    help="a baseline checkout, measured in the same rounds")
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("--parallelism", type=int, default=8, help="apply workers")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--profile", action="store_true", help="cProfile this tree's last apply")
    ap.add_argument("--workdir", type=Path, default=None)
    ap.add_argument("--keep", action="store_true", help="keep the workspaces (prints where)")
    ap.add_argument("--_child", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--_today", help=argparse.SUPPRESS)
    ap.add_argument("--_profile", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args._child:
        child(args._child, dt.date.fromisoformat(args._today), args.parallelism, args._profile)
        return 0

    sys.path.insert(0, str(ROOT / "benchmarks"))
    from bench_scale import generate
    today = dt.date.today()
    checkouts = [("this tree", ROOT)] + ([("baseline", args.against.resolve())]
                                         if args.against else [])
    if args.workdir:
        args.workdir.mkdir(parents=True, exist_ok=True)
    base = Path(tempfile.mkdtemp(prefix="bench-apply-", dir=args.workdir))
    print(f"bench_apply: data in {base}, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}, "
          f"P={args.parallelism}", flush=True)
    try:
        for n in [int(s) for s in args.sizes.split(",") if s.strip()]:
            pristine = base / f"ws-{n}"
            subprocess.run([sys.executable, "-m", "orchestrator.cli", "init", "--no-examples",
                            str(pristine)], cwd=ROOT, check=True, capture_output=True,
                           env={**os.environ, "PYTHONPATH": str(ROOT)})
            cfg = pristine / "govcloud.toml"
            cfg.write_text(cfg.read_text().replace("require_signatures = true",
                                                   "require_signatures = false"))
            generate(pristine / "approvals", n, today, args.seed)
            results: dict[str, list[dict]] = {name: [] for name, _ in checkouts}
            for rnd in range(args.rounds):
                for name, co in checkouts:
                    prof = str(base / f"apply-{n}.prof") if args.profile and name == "this tree" \
                        and rnd == args.rounds - 1 else None
                    r = run_one(co, pristine, base / f"ws-{n}-{rnd}-{name.replace(' ', '-')}",
                                today, args, prof)
                    results[name].append(r)
                    print(f"  N={n} round {rnd + 1} {name:9s}: {r['objects']} objects in "
                          f"{r['apply_s']:.1f} s ({r['apply_cpu_s']:.1f} s CPU) = "
                          f"{r['objects_per_s']:.0f} objects/s, load {os.getloadavg()[0]:.1f}"
                          + (f" ({r['pool_exhausted']} floating IPs failed: its pools are /24s)"
                             if r["pool_exhausted"] else ""),
                          flush=True)
            best = {name: max(rs, key=lambda r: r["objects_per_s"]) for name, rs in results.items()}
            cpu = {name: max(r["objects"] / r["apply_cpu_s"] for r in rs)
                   for name, rs in results.items()}
            line = f"N={n}: this tree {best['this tree']['objects_per_s']:.0f} objects/s " \
                   f"({cpu['this tree']:.0f} per CPU second)"
            if "baseline" in best:
                ratio = best["this tree"]["objects_per_s"] / best["baseline"]["objects_per_s"]
                line += f", baseline {best['baseline']['objects_per_s']:.0f} objects/s " \
                        f"({cpu['baseline']:.0f} per CPU second), ratio {ratio:.1f}x wall, " \
                        f"{cpu['this tree'] / cpu['baseline']:.1f}x CPU"
            print(line + " (best of rounds; target >= 2,000 objects/s)")
            if args.profile:
                print_profile(str(base / f"apply-{n}.prof"))
                print("--- the steps (worker threads, serialised while profiled) ---")
                print_profile(str(base / f"apply-{n}.prof.steps"))
    finally:
        if args.keep:
            print(f"kept {base}")
        else:
            shutil.rmtree(base, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
