"""When each cloud target was last read in full by a plan (`.govcloud/refresh.json`): the clock of
`plan --refresh=auto` (core/refresh_scope.py). A cache, not state: a missing, unreadable or
foreign file (another state lineage) means "never", so the next plan reads everything."""
from __future__ import annotations

import datetime as dt
import json

from ..workspace import Workspace
from ..cache_file import write_cache

FILE = "refresh.json"


def last_full(ws: Workspace, lineage: str) -> dict[str, dt.datetime]:
    """Target -> when its last full check finished, for this state lineage."""
    try:
        data = json.loads((ws.data_dir / FILE).read_text(encoding="utf-8"))
        if data.get("lineage") != lineage:
            return {}
        return {t: dt.datetime.fromisoformat(v) for t, v in data.get("full", {}).items()}
    except (OSError, ValueError, AttributeError, TypeError):
        return {}


def mark_full(ws: Workspace, lineage: str, targets: list[str], at: dt.datetime) -> None:
    """Record a full check of ``targets`` (written atomically; best effort: a cache)."""
    if not targets:
        return
    seen = {t: v.isoformat() for t, v in last_full(ws, lineage).items()}
    seen.update({t: at.isoformat(timespec="seconds") for t in targets})
    # a read-only workspace: not written, and the next plan reads everything again
    write_cache(ws.data_dir / FILE, json.dumps({"lineage": lineage, "full": seen}, indent=1))
