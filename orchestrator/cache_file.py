"""govcloud's own cache files under .govcloud/ (plan index, stack index, compile index,
approval checks, refresh marks): written whole or not at all, and best effort."""
from __future__ import annotations

from pathlib import Path


def write_cache(path: Path, text: str) -> None:
    """``path`` becomes ``text`` atomically (a temporary file renamed over it). A write that fails
    (a read-only workspace, a full disk) leaves the old file or none, and is not an error: a
    cache only saves work, and the next run recomputes what it would have held."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(path)
    except OSError:
        pass
