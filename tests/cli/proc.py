"""`govcloud` as a user runs it: a whole process (the console script, so `main()` and not
typer's CliRunner), on this checkout."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def govcloud_argv() -> list[str]:
    script = Path(sys.executable).with_name("govcloud")
    if script.is_file():
        return [sys.executable, str(script)]
    return [sys.executable, "-m", "orchestrator.cli"]


def govcloud(*args, env: dict | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess:
    full_env = {**os.environ, **(env or {})}
    full_env["PYTHONPATH"] = os.pathsep.join([str(REPO)] + [p for p in [os.environ.get("PYTHONPATH")] if p])
    return subprocess.run([*govcloud_argv(), *map(str, args)], capture_output=True, text=True,
                          env=full_env, cwd=cwd or REPO, timeout=120)
