"""Faults in the EC2 API: apply, expire and decommission of a two-system workspace on moto
through tests/faults/proxy.py, once without faults (the baseline, same run) and once per fault
type at chosen call numbers of the changing calls, then a seeded random mix over every call.
Prints per fault type: calls, faults injected, runs to converge per phase (apply/expire/
decommission; decommission takes 2 by design: hold, then resume), duplicates (objects beyond
the baseline's, or two objects with one address), wall seconds, and the ratios of calls and
wall time to the baseline.

    .venv/bin/python benchmarks/bench_api_faults.py [--faults 500,reset,...] [--at 2,5,9]
                                                    [--seed 16] [--rate 0.08]
"""
from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.faults import moto_harness as h  # noqa: E402
from tests.faults.proxy import FAULTS, FaultPlan  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--faults", default=",".join(FAULTS))
    ap.add_argument("--at", default="2,5,9", help="changing-call numbers per phase")
    ap.add_argument("--seed", type=int, default=16)
    ap.add_argument("--rate", type=float, default=0.08, help="of the random mix (0: no mix)")
    args = ap.parse_args()
    at = [int(n) for n in args.at.split(",")]
    rows, failed = [], []
    with tempfile.TemporaryDirectory(prefix="bench-api-faults-") as tmp:
        def run(label: str, plan: FaultPlan, baseline=None):
            d = Path(tmp) / label
            d.mkdir()
            res = h.lifecycle(d, plan)
            r = h.row(label, res, baseline)
            rows.append(r)
            print(f"  {label}: {r['runs']} runs, {r['faults']} faults, {r['seconds']:.1f} s",
                  file=sys.stderr)
            if not r["converged"] or r["duplicates"]:
                failed.append(label)
            return res
        base = run("none", FaultPlan())
        for fault in [f for f in args.faults.split(",") if f]:
            run(fault, FaultPlan(at={n: fault for n in at}, path=h.MUTATING, hang_seconds=2.0,
                                 latency_ms=300), base)
        if args.rate:
            run(f"mix@{args.seed}", FaultPlan(rate=args.rate, fault="mix", seed=args.seed,
                                              hang_seconds=2.0, latency_ms=200), base)
    b = rows[0]
    print(h.table(rows))
    print("\nratios to the fault-free baseline (same run): calls / wall")
    for r in rows[1:]:
        print(f"  {r['fault']:<12} {r['calls'] / b['calls']:.2f} / {r['seconds'] / b['seconds']:.2f}")
    if failed:
        print(f"NOT CONVERGED or DUPLICATES: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
