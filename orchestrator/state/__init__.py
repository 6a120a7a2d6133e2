"""State stores. SQLite by default; every backend implements orchestrator.state.base.StateStore."""
from __future__ import annotations

from pathlib import Path

from .base import LockInfo, StateRecord, StateSnapshot, StateStore


def open_store(url: str, workspace_root: Path) -> StateStore:
    if url.startswith("sqlite:///"):
        from .sqlite import SQLiteStateStore
        path = Path(url[len("sqlite:///"):])
        return SQLiteStateStore(path if path.is_absolute() else workspace_root / path)
    raise ValueError(f"unsupported state URL {url!r}")


__all__ = ["open_store", "StateStore", "StateRecord", "StateSnapshot", "LockInfo"]
