"""`govcloud pulumi preview | up`: the compiled specs through the optional Pulumi engine."""
from __future__ import annotations

from pathlib import Path


def pulumi_run(directory: Path, command: str, stack: str) -> str:
    """``command``: preview or up; returns Pulumi's output."""
    from drivers.pulumi.engine import run
    return run(directory, command, stack)
