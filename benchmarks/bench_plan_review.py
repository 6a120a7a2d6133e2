"""What the plan's review (quota view, fee change, the within-approval check: usecases/review.py
over core/review.py) adds to a plan of N synthetic approvals, against the same plan without it,
in one process and the same rounds (A B A B ...).

    .venv/bin/python benchmarks/bench_plan_review.py [--count 1000] [--rounds 3] [--keep]

Setup (not timed): a workspace without signatures (`init_workspace(..., examples=False)`), the
approvals of benchmarks/bench_scale.py's generator, one compile. Then, under the workspace lock
with the drivers open, `compute_plan` (every object a create: nothing is applied, so the review
walks every action as it would for a no-op plan) without and with ``reviewed=True``; and the
review alone (`review.build`: the approvals read through the parse cache, the quota view, the
excesses, the fees). Prints medians of wall and CPU seconds and the ratio.
"""
from __future__ import annotations

import argparse
import datetime as dt
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_scale import generate  # noqa: E402

from orchestrator.usecases import review  # noqa: E402
from orchestrator.usecases.compile import compile_workspace  # noqa: E402
from orchestrator.usecases.init import init_workspace  # noqa: E402
from orchestrator.usecases.plan import compute_plan  # noqa: E402
from orchestrator.usecases.session import gc_paused, locked, open_drivers, open_state  # noqa: E402
from orchestrator.workspace import Workspace  # noqa: E402


def timed(fn) -> tuple[float, float, object]:
    w, c = time.perf_counter(), time.process_time()
    out = fn()
    return time.perf_counter() - w, time.process_time() - c, out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, default=1000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--profile", default="bazhong")
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args()
    base = Path(tempfile.mkdtemp(prefix="bench-review-", dir="/var/tmp"))
    try:
        ws_dir = base / "ws"
        today = dt.date.today()
        init_workspace(ws_dir, args.profile, examples=False)
        gen = generate(ws_dir / "approvals", args.count, today, 1)
        w, _, rep = timed(lambda: compile_workspace(Workspace.at(ws_dir), today))
        print(f"{args.count} approvals ({gen['systems']} systems), compiled in {w:.1f} s "
              f"(setup, {rep.stacks} stacks)", flush=True)
        ws = Workspace.at(ws_dir)
        res = {"plan": [], "plan+review": [], "review": []}
        with open_state(ws) as store, locked(store, "bench", 60, ws), open_drivers(ws) as drv:
            for _ in range(args.rounds):
                w, c, p = timed(lambda: compute_plan(ws, store, drv, today))
                res["plan"].append((w, c))
                w, c, pr = timed(lambda: compute_plan(ws, store, drv, today, reviewed=True))
                res["plan+review"].append((w, c))
                with gc_paused():   # as inside compute_plan
                    w, c, rv = timed(lambda: review.build(ws, store, p.actions))
                res["review"].append((w, c))
            objects = len(p.actions)
            assert pr.review is not None and not pr.review["excess"]
            assert p.review is None and len(pr.actions) == objects
        print(f"{objects} objects in the plan; {len(rv.quota)} quota rows, {len(rv.fees)} fee "
              f"rows; medians of {args.rounds} rounds")
        med = {k: (statistics.median(x[0] for x in v), statistics.median(x[1] for x in v))
               for k, v in res.items()}
        for k, (w, c) in med.items():
            print(f"  {k:<12} {w:7.2f} s wall {c:7.2f} s CPU")
        print(f"ratio plan+review / plan: {med['plan+review'][0] / med['plan'][0]:.2f} wall, "
              f"{med['plan+review'][1] / med['plan'][1]:.2f} CPU")
    finally:
        if args.keep:
            print(f"kept {base}")
        else:
            shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
