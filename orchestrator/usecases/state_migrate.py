"""`govcloud state migrate --to postgresql://...`: move a workspace's SQLite state into
PostgreSQL (many runners then share it), verify the copy and its audit chain, and point
govcloud.toml at it. The SQLite file stays where it was, untouched, as the backup."""
from __future__ import annotations

import re
from typing import Any

from .. import checkpoint
from ..core.audit import verify_chain
from ..errors import GovcloudError, Issue
from ..models.config import redact_url
from ..state import POSTGRES_SCHEMES, open_store
from ..state.migrate import copy, refuse, registered, same
from ..workspace import Workspace
from .session import locked, open_state

MIGRATE_FORMAT = "govcloud-state-migrate/1"
_URL_LINE = re.compile(r'^(\s*url\s*=\s*)"(sqlite:///[^"]*)"\s*$', re.M)


def state_migrate(ws: Workspace, to: str, lock_timeout: float, switch: bool = True) -> dict[str, Any]:
    src_url = ws.config.state.url
    if not src_url.startswith("sqlite:///"):
        raise GovcloudError(f"state migrate moves a SQLite state; this workspace's is "
                            f"{redact_url(src_url)}", [Issue("govcloud.toml", "[state] url")])
    if not to.startswith(POSTGRES_SCHEMES):
        raise GovcloudError(f"--to {redact_url(to)!r}: not a PostgreSQL URL",
                            [Issue("--to", "must start with postgresql:// or postgres://")])
    ws_id = ws.config.workspace.id
    try:
        known = registered(to, ws_id)
    except Exception as exc:   # psycopg's, redacted by the store's own message below
        known = None
        del exc
    if known:
        raise refuse(redact_url(to), ws_id, "its workspace row and meta")
    with open_state(ws) as source, locked(source, "state migrate", lock_timeout, ws), \
            open_store(to, ws.root, ws_id) as target:
        counts = copy(source, target)
        problems = same(source, target)
        brk = verify_chain(target.audit_entries(), target.audit_head(), target.audit_anchor())
        if brk is not None:
            problems.append(f"the copied audit chain breaks at entry {brk.seq}: {brk.reason}")
        if not problems:
            try:   # the published checkpoint is continued by the copy, as by the source
                checkpoint.guard(ws.root, ws_id, target)
            except GovcloudError as exc:
                problems.append(exc.summary)
        if problems:
            raise GovcloudError("the copy in PostgreSQL differs from the SQLite state; "
                                "govcloud.toml was not changed",
                                [Issue(redact_url(to), p) for p in problems],
                                fix="drop this workspace's rows in the target and migrate again")
        head = target.audit_head()
    switched, how = _switch(ws, src_url, to) if switch else (False, _how(to))
    return {"format": MIGRATE_FORMAT, "from": src_url, "to": redact_url(to), "workspace": ws_id,
            "copied": counts, "audit_verified": True, "audit_head": head[0] if head else None,
            "switched": switched, "how": how}


def _how(to: str) -> str:
    shown = redact_url(to)
    return (f'set [state] url = "{shown}" in govcloud.toml'
            + (" (the password in PGPASSWORD or ~/.pgpass)" if shown != to else ""))


def _switch(ws: Workspace, src_url: str, to: str) -> tuple[bool, str | None]:
    """Point govcloud.toml's [state] url at the target, unless the URL carries a password
    (never written into a file that is committed): then say how."""
    if redact_url(to) != to or '"' in to:
        return False, _how(to)
    path = ws.root / "govcloud.toml"
    text = path.read_text(encoding="utf-8")
    lines = [m for m in _URL_LINE.finditer(text) if m.group(2) == src_url]
    if len(lines) != 1:
        return False, _how(to)
    m = lines[0]
    path.write_text(text[:m.start()] + f'{m.group(1)}"{to}"' + text[m.end():], encoding="utf-8")
    return True, None
