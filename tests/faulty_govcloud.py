"""The govcloud CLI with faults installed, for tests that need a real process (kill -9).

    python -m tests.faulty_govcloud [--crash-after STEP] [--crash-at POINT[:WHAT][@N]]
                                    [--wipe-fraction F] -- <govcloud args>

``--crash-at executor.state-written:create@3`` kills the process the 3rd time the executor has
written a created resource's state inside its transaction, before its audit entry;
``--crash-at decommission.workflow-written:certificate`` kills a decommission between the
workflow record of its certificate step and the step's audit entry (same transaction).

Installs hooks at orchestrator.faults' points, then runs the CLI in this process. The product
code reads no environment variable for faults; this launcher is the only way in from outside.
"""
from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def run(ws: Path, *args: str, faults: list[str] | None = None,
        timeout: float = 300, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """``govcloud ARGS -C WS`` as a real process; ``faults``: this launcher's options; ``env``:
    added to the environment (GOVCLOUD_NOW: the clock)."""
    cmd = [sys.executable, "-m", "tests.faulty_govcloud", *faults, "--"] if faults else \
        [sys.executable, "-m", "orchestrator.cli"]
    return subprocess.run([*cmd, *map(str, args), "-C", str(ws)], capture_output=True,
                          text=True, timeout=timeout, cwd=REPO,
                          env={**os.environ, **env} if env else None)


def main(argv: list[str]) -> None:
    sep = argv.index("--") if "--" in argv else len(argv)
    parser = argparse.ArgumentParser(prog="faulty_govcloud")
    parser.add_argument("--crash-after", help="kill -9 this process once this decommission step is recorded")
    parser.add_argument("--crash-at", help="kill -9 at the Nth hit of a fault point: POINT[:WHAT][@N]")
    parser.add_argument("--wipe-fraction", type=float, help="sanitizers overwrite only this fraction")
    opts = parser.parse_args(argv[:sep])
    from orchestrator import faults
    if opts.crash_after:
        def crash(value, step):
            if step == opts.crash_after:
                os.kill(os.getpid(), signal.SIGKILL)
            return value
        faults.install("decommission.step-done", crash)
    if opts.crash_at:
        spec, _, nth = opts.crash_at.partition("@")
        name, _, what = spec.partition(":")
        hits = [0]

        def crash_at(value=None, **info):
            if what and what not in (info.get("what"), info.get("step")):
                return value
            hits[0] += 1
            if hits[0] == int(nth or 1):
                os.kill(os.getpid(), signal.SIGKILL)
            return value
        faults.install(name, crash_at)
    if opts.wipe_fraction is not None:
        faults.install("sanitizer.options",
                       lambda kw, method: {**kw, "fault_fraction": opts.wipe_fraction}
                       if method in ("zeros", "random") else kw)
    from orchestrator.cli.app import main as govcloud
    sys.argv = ["govcloud", *argv[sep + 1:]]
    govcloud()


if __name__ == "__main__":
    main(sys.argv[1:])
