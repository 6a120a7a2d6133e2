"""The expiry job's term index: per temporary term (and per approval with a duty clock), the
first day the job may have to act on it (its earliest expiry warning or duty notice, or its
end), kept in the state (``term_due``, indexed by date) with a fingerprint of what it was
computed from. A tick on which that is unchanged and nothing is due reads one index range and
stops: it neither loads the approvals nor plans. A changed input (``files_fingerprint``), a
state change or a new day changes the fingerprint: the next tick runs in full and rebuilds."""
from __future__ import annotations

import datetime as dt
import hashlib
import math
import os
from pathlib import Path

from ..core.lifecycle import warning_thresholds
from ..models.approval import Approval, PermanentTerm
from ..models.profile import Profile
from ..state.base import StateStore
from ..workspace import Workspace

META = "term_due_inputs"
# Working days counted as calendar days, plus room for the longest holiday runs (Spring
# Festival, National Day: 8 days off in a row, made up on weekends): the index may wake the
# job early, never late.
HOLIDAY_ROOM_DAYS = 15


def due_on(end: dt.date, profile: Profile) -> dt.date:
    """The first day a term ending on ``end`` may need the job."""
    most = max(warning_thresholds(profile), default=0)
    return end - dt.timedelta(days=math.ceil(most * 7 / 5) + HOLIDAY_ROOM_DAYS)


def _stat_tree(h, root: Path) -> None:
    try:
        entries = sorted(os.scandir(root), key=lambda e: e.name)
    except (FileNotFoundError, NotADirectoryError):
        h.update(b"-")
        return
    for e in entries:
        st = e.stat()
        h.update(f"{e.name}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
        if e.is_dir(follow_symlinks=False):
            _stat_tree(h, Path(e.path))


def fingerprint(ws: Workspace, store: StateStore, today: dt.date,
                files: str | None = None) -> str:
    """The day (the first tick of each day runs in full), the input files'
    (``files_fingerprint``, or the one given) and the state's: its serial, audit head and
    newest lifecycle event (a delivery confirmed moves a duty's clock)."""
    state = f"{store.get_meta('serial')}|{store.get_meta('audit_head')}|{store.last_event_id()}"
    return f"{today.isoformat()}|{files or files_fingerprint(ws)}|{state}"


def _stat(h, p: Path) -> None:
    try:
        st = p.stat()
        h.update(f"{p.name}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    except OSError:
        h.update(b"-\n")


def files_fingerprint(ws: Workspace) -> str:
    """Extensions, catalog (profiles, calendars) and govcloud.toml: every file's name, size
    and modification time (they are few). approvals/ (a province has 100,000 files there):
    the directory's own time, which a new, removed or renamed approval (and an editor's
    save-by-rename) moves, and the compile index's, which every compile, plan and apply
    rewrites; an applied approval is never edited in place (replay and in-place-edit checks).
    A draft edited in place and not compiled yet is seen by the day's first tick, a full run."""
    h = hashlib.sha256()
    for rel in ("extensions", "catalog"):
        h.update(rel.encode() + b"\n")
        _stat_tree(h, ws.root / rel)
    for p in (ws.root / "govcloud.toml", ws.root / "approvals", ws.compile_index_path):
        _stat(h, p)
    return h.hexdigest()


def duty_due_on(due: dt.date) -> dt.date:
    """The first day a duty due on ``due`` may need the job (its "due within a working day")."""
    return due - dt.timedelta(days=math.ceil(7 / 5) + HOLIDAY_ROOM_DAYS)


def nothing_due(ws: Workspace, store: StateStore, today: dt.date) -> bool:
    """True when the index is current and no term is due on ``today``."""
    inputs = store.get_meta(META)
    if inputs is None or store.terms_due(today.isoformat(), 1):
        return False
    return inputs == fingerprint(ws, store, today)


def rebuild(ws: Workspace, store: StateStore, today: dt.date, approvals: dict[str, Approval],
            ends: dict[str, dt.date], expired: set[str], duties: dict[str, dt.date],
            files: str) -> int:
    """The index after a full run: every temporary term not expired yet, and every approval
    with a duty whose notices are not all sent (``duties``: approval -> first day)."""
    due: dict[str, dt.date] = dict(duties)
    for no, a in approvals.items():
        if not isinstance(a.term, PermanentTerm) and no not in expired:
            d = due_on(ends.get(no, a.term.end), ws.profile)
            due[no] = min(d, due.get(no, d))
    store.replace_term_due(sorted((no, d.isoformat()) for no, d in due.items()),
                           fingerprint(ws, store, today, files))
    return len(due)
