"""Start-up cost of the govcloud CLI: whole processes, paired with a bare `python -c pass`.

    python benchmarks/bench_startup.py [-n 15] [--govcloud CMD] [--case NAME=ARGS]...
                                       [--against DIR] [--json]

Default cases: `govcloud --help`, `govcloud --version` and `govcloud validate -C WS` (WS: a
workspace made by `govcloud init` with the example approvals, not timed), their output going to
/dev/null; and validate with FORCE_COLOR=1, which prints what a terminal gets (rich, colours). Every round runs each
case right after a bare `python -c pass` of the same interpreter (A B A B ...), so machine drift
hits both alike; the difference is taken pair by pair. CPU is user + system of the finished
child (os.wait4), wall is a monotonic clock around start and reap. Prints the medians.
`--against DIR` also runs every case on another checkout (PYTHONPATH=DIR, e.g. one made with
`git worktree add DIR COMMIT`) in the same rounds: before/after under the same load.
Target: --help and validate below 0.3 s CPU above the bare interpreter.
"""
from __future__ import annotations

import argparse
import json
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def default_govcloud() -> list[str]:
    """The console script next to this interpreter, as a user runs it; else `python -m`."""
    script = Path(sys.executable).with_name("govcloud")
    if script.is_file():
        return [sys.executable, str(script)]
    return [sys.executable, "-m", "orchestrator.cli"]


def run_once(argv: list[str], env: dict | None = None) -> tuple[float, float, int]:
    """(cpu seconds, wall seconds, exit code) of one whole process."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, env=env)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
    return usage.ru_utime + usage.ru_stime, wall, proc.returncode


def make_workspace(govcloud: list[str], parent: str) -> Path:
    ws = Path(parent) / "ws"
    subprocess.run([*govcloud, "init", str(ws)], check=True, stdout=subprocess.DEVNULL)
    return ws


def measure(cases: dict[str, tuple[list[str], dict | None]], baseline: list[str], rounds: int,
            warmup: int) -> dict:
    samples = {name: {"cpu": [], "wall": [], "base_cpu": [], "base_wall": [], "codes": set()}
               for name in cases}
    for i in range(warmup + rounds):
        for name, (argv, env) in cases.items():
            b_cpu, b_wall, _ = run_once(baseline)
            cpu, wall, code = run_once(argv, env)
            if i < warmup:      # writes .pyc files, warms the page cache
                continue
            s = samples[name]
            s["cpu"].append(cpu)
            s["wall"].append(wall)
            s["base_cpu"].append(b_cpu)
            s["base_wall"].append(b_wall)
            s["codes"].add(code)
    med = statistics.median
    report = {}
    for name, s in samples.items():
        report[name] = {
            "cpu": med(s["cpu"]), "base_cpu": med(s["base_cpu"]),
            "cpu_above_base": med([a - b for a, b in zip(s["cpu"], s["base_cpu"])]),
            "wall": med(s["wall"]), "base_wall": med(s["base_wall"]),
            "wall_above_base": med([a - b for a, b in zip(s["wall"], s["base_wall"])]),
            "exit_codes": sorted(s["codes"]), "rounds": len(s["cpu"]),
        }
    return report


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-n", "--rounds", type=int, default=15)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--govcloud", help="command that runs govcloud (default: the console script "
                                       "next to this python, else python -m orchestrator.cli)")
    ap.add_argument("--case", action="append", default=[], metavar="NAME=ARGS",
                    help="extra case: govcloud arguments, split like a shell; {ws} is the workspace")
    ap.add_argument("--against", metavar="DIR",
                    help="another checkout to time in the same rounds (PYTHONPATH=DIR)")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()

    govcloud = shlex.split(args.govcloud) if args.govcloud else default_govcloud()
    with tempfile.TemporaryDirectory(prefix="bench-startup-") as tmp:
        return bench(args, govcloud, make_workspace(govcloud, tmp))


def bench(args, govcloud: list[str], ws: Path) -> int:
    # (arguments, environment): output goes to /dev/null, not a terminal; FORCE_COLOR=1 prints
    # what a terminal gets (rich, colours)
    cases = {"--help": (["--help"], {}), "--version": (["--version"], {}),
             "validate": (["validate", "-C", "{ws}"], {}),
             "validate, colour": (["validate", "-C", "{ws}"], {"FORCE_COLOR": "1"})}
    for spec in args.case:
        name, _, rest = spec.partition("=")
        cases[name] = (shlex.split(rest), {})
    runs = {}
    for name, (argv, extra) in cases.items():
        argv = [*govcloud, *(a.replace("{ws}", str(ws)) for a in argv)]
        runs[name] = (argv, {**os.environ, **extra})
        if args.against:
            env = {**os.environ, **extra}
            env["PYTHONPATH"] = os.pathsep.join(
                [str(Path(args.against).resolve())] + [p for p in [env.get("PYTHONPATH")] if p])
            runs[f"{name} [against]"] = (argv, env)
    report = measure(runs, [sys.executable, "-c", "pass"], args.rounds, args.warmup)

    if args.json:
        print(json.dumps({"govcloud": govcloud, "cases": report}, indent=2))
        return 0
    print(f"govcloud: {' '.join(govcloud)}; {args.rounds} paired rounds; medians in seconds")
    if args.against:
        print(f"[against]: the same cases on {Path(args.against).resolve()}")
    width = max(12, *(len(n) for n in report))
    print(f"{'case':<{width}} {'cpu':>7} {'bare cpu':>9} {'cpu above':>10} {'wall':>7} "
          f"{'bare wall':>10} {'wall above':>11}  exit")
    for name, r in report.items():
        print(f"{name:<{width}} {r['cpu']:>7.3f} {r['base_cpu']:>9.3f} {r['cpu_above_base']:>10.3f} "
              f"{r['wall']:>7.3f} {r['base_wall']:>10.3f} {r['wall_above_base']:>11.3f}  "
              f"{','.join(map(str, r['exit_codes']))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
