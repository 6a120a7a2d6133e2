"""State stores. SQLite by default, PostgreSQL for shared state; every backend implements
orchestrator.state.base.StateStore."""
from __future__ import annotations

from pathlib import Path

from .base import LockInfo, StateRecord, StateSnapshot, StateStore

POSTGRES_SCHEMES = ("postgresql://", "postgres://")


def sqlite_path(url: str, workspace_root: Path) -> Path:
    """The database file of a ``sqlite:///PATH`` URL (relative to the workspace)."""
    path = Path(url[len("sqlite:///"):])
    return path if path.is_absolute() else workspace_root / path


def open_store(url: str, workspace_root: Path, workspace_id: str | None = None) -> StateStore:
    if url.startswith("sqlite:///"):
        from .sqlite import SQLiteStateStore
        return SQLiteStateStore(sqlite_path(url, workspace_root))
    if url.startswith(POSTGRES_SCHEMES):
        from ..models.config import redact_url
        from .postgres import PostgresStateStore
        if not workspace_id:
            raise ValueError(f"the PostgreSQL state URL {redact_url(url)!r} needs a workspace id")
        return PostgresStateStore(url, workspace_id)
    if "://" in url:
        from ..models.config import redact_url
        url = redact_url(url)
    raise ValueError(f"unsupported state URL {url!r}")


__all__ = ["open_store", "StateStore", "StateRecord", "StateSnapshot", "LockInfo"]
