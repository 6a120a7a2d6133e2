"""Incremental compile: a full compile vs one after one approval was touched, in one run.

    python benchmarks/bench_incremental.py [--sizes 1000,10000] [--workdir DIR] [--json] [--keep]
                                           [--against DIR]

For each N: a fresh workspace of N synthetic approvals (bench_scale.generate), compiled once
(setup: the first compile, no caches). Then one approval's content is changed (a system disk
40 -> 60 GB) in copies of that workspace, and each copy is compiled in a fresh child Python:

  full         the copy without .govcloud/stack-index.json: every stack is compiled and written
  cold checks  with the stack index, without the validation caches (approval-check-cache.json
               removed, the parse cache's code digest cleared): every approval's own checks and
               text checks run again, only the touched approval's stack is compiled
  incremental  with every cache: only the touched approval is checked on its own and compiled;
               the checks between approvals and IPAM still see every approval

The outputs of the three (stacks/, spec cache, server index) must be byte-identical, or the run
stops with an error. Printed: CPU seconds (user + system of the child), wall, peak RSS, stacks
compiled, and full / incremental as a ratio. ``--against DIR``: the same steps with another
checkout's code (e.g. `git worktree add --detach DIR main`), in the same run, for a before/after.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import bench_scale  # noqa: E402  (the synthetic approvals and the child-process timing)

CHILD = """
import sys
sys.path.insert(0, sys.argv[3])   # the checkout whose code is measured
import datetime as dt, json, time
from pathlib import Path
from orchestrator.usecases import compile as c
from orchestrator.workspace import Workspace
compiled = []
real = c.compile_one
c.compile_one = lambda g, *a, **k: (compiled.append(1), real(g, *a, **k))[1]
t0 = time.process_time()
rep = c.compile_workspace(Workspace.at(Path(sys.argv[1])), dt.date.fromisoformat(sys.argv[2]))
print(json.dumps({"in_phase_cpu_s": time.process_time() - t0, "stacks": rep.stacks,
                  "compiled": len(compiled), "written": len(rep.written)}))
"""


def child_compile(ws: Path, today: dt.date, code: Path = ROOT) -> dict:
    log = ws.parent / f"{ws.name}.compile.log"
    rc, usage = bench_scale.spawn([sys.executable, "-c", CHILD, str(ws), today.isoformat(),
                                   str(code)], log)
    text = log.read_text(errors="replace")
    if rc:
        raise bench_scale.BenchFailure(f"compile of {ws} failed (exit {rc}):\n{text[-4000:]}")
    return {**json.loads(text.strip().splitlines()[-1]), **usage}


def outputs(ws: Path) -> dict[str, bytes]:
    out = {str(p.relative_to(ws)): p.read_bytes() for p in sorted((ws / "stacks").rglob("*"))
           if p.is_file()}
    for name in ("spec-cache.json", "spec-servers.json"):
        out[name] = (ws / ".govcloud" / name).read_bytes()
    return out


MODES = ("full", "cold checks", "incremental")


def _cold_checks(ws: Path) -> None:
    """The validation caches of ``ws`` dropped (the stack index kept)."""
    (ws / ".govcloud" / "approval-check-cache.json").unlink(missing_ok=True)
    cache = ws / ".govcloud" / "approval-parse-cache.json"
    head, sep, rest = cache.read_text(encoding="utf-8").partition("\n")
    if '"checked_by"' in head:   # (a baseline's cache has no code digest)
        head = json.dumps({**json.loads(head.split(',"entries":')[0] + "}"),
                           "checked_by": None})[:-1] + ',"entries":{'
        cache.write_text(head + sep + rest, encoding="utf-8")


def bench_size(n: int, base: Path, today: dt.date, log, code: Path = ROOT,
               label: str = "") -> dict:
    ws = base / f"ws-{n}{label}"
    if label:   # the same inputs as this tree's run (its workspace id too), no outputs
        shutil.copytree(base / f"ws-{n}", ws, symlinks=True,
                        ignore=lambda d, names: [x for x in names if x in ("stacks", ".govcloud")])
    else:
        rc, _ = bench_scale.spawn([sys.executable, "-m", "orchestrator.cli", "init",
                                   "--no-examples", str(ws)], base / f"init-{n}.log")
        if rc:
            raise bench_scale.BenchFailure((base / f"init-{n}.log").read_text())
        cfg = ws / "govcloud.toml"
        cfg.write_text(cfg.read_text().replace("require_signatures = true",
                                               "require_signatures = false"))
        bench_scale.generate(ws / "approvals", n, today, 1)
    first = child_compile(ws, today, code)
    log(f"  setup, first compile (no caches): {first['cpu_s']:.2f} s CPU, {first['wall_s']:.2f} s "
        f"wall, {first['peak_rss_mib']:.0f} MiB, {first['stacks']} specs")
    victim = next(p for p in sorted((ws / "approvals").glob("*.yaml"))[n // 2:]
                  if "gb: 40\n" in p.read_text(encoding="utf-8"))
    runs = {}
    for mode in MODES:
        copy = base / f"ws-{n}{label}-{mode.replace(' ', '-')}"
        shutil.copytree(ws, copy, symlinks=True)
        if mode == "full":
            (copy / ".govcloud" / "stack-index.json").unlink()
        elif mode == "cold checks":
            _cold_checks(copy)
        p = copy / "approvals" / victim.name
        p.write_text(p.read_text(encoding="utf-8").replace("gb: 40\n", "gb: 60\n", 1),
                     encoding="utf-8")
        runs[mode] = child_compile(copy, today, code)
        r = runs[mode]
        log(f"  {mode}: {r['cpu_s']:.2f} s CPU, {r['wall_s']:.2f} s wall, "
            f"{r['peak_rss_mib']:.0f} MiB, {r['compiled']} of {r['stacks']} stacks compiled "
            f"(load {r['load_1min']:.1f})")
    dirs = [base / f"ws-{n}{label}-{m.replace(' ', '-')}" for m in MODES]
    if any(outputs(d) != outputs(dirs[0]) for d in dirs[1:]):
        raise bench_scale.BenchFailure(f"{n}: the compiles' outputs differ")
    ratio = runs["full"]["cpu_s"] / runs["incremental"]["cpu_s"]
    cold = runs["cold checks"]["cpu_s"] / runs["incremental"]["cpu_s"]
    log(f"  full / incremental CPU: {ratio:.1f}x, cold checks / incremental: {cold:.1f}x "
        f"(outputs byte-identical)")
    return {"n": n, "code": str(code), "first_compile": first, **runs, "cpu_ratio": ratio}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="1000")
    ap.add_argument("--workdir", type=Path, default=None)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--against", type=Path, default=None, metavar="DIR",
                    help="another checkout, measured the same way in the same run")
    args = ap.parse_args(argv)
    base = Path(tempfile.mkdtemp(prefix="bench-incremental-", dir=args.workdir))
    today = dt.date.today()
    log = (lambda s: print(s, file=sys.stderr)) if args.json else print
    try:
        results = []
        for n in (int(s) for s in args.sizes.split(",")):
            log(f"{n} approvals, this tree ({ROOT})")
            results.append(bench_size(n, base, today, log))
            if args.against:
                log(f"{n} approvals, {args.against}")
                results.append(bench_size(n, base, today, log, args.against.resolve(),
                                          "-against"))
                same = outputs(base / f"ws-{n}-full") == outputs(base / f"ws-{n}-against-full")
                log(f"  outputs of the two checkouts: {'byte-identical' if same else 'DIFFER'}")
        if args.json:
            print(json.dumps(results, indent=2))
    except bench_scale.BenchFailure as exc:
        print(f"bench_incremental: {exc}", file=sys.stderr)
        return 1
    finally:
        if not args.keep:
            shutil.rmtree(base, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
