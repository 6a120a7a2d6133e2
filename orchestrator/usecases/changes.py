"""Applied approvals are not edited in place: their file's bytes must stay the ones that were
applied (the state store's applied-approval digests); a change is a change document,
``changes/<CHANGE-NO>.yaml`` with ``changes: <approval number>``. Also: two approval files with
the same bytes are recognised as one duplicate, not reported as two contradicting approvals."""
from __future__ import annotations

from pathlib import Path

from ..errors import InputError, Issue
from ..models.approval import Approval
from ..workspace import Workspace


def _has_state(ws: Workspace) -> bool:
    url = ws.config.state.url
    if url.startswith("sqlite:///"):
        p = Path(url[len("sqlite:///"):])
        return (p if p.is_absolute() else ws.root / p).is_file()
    return True


def applied_digests(ws: Workspace) -> dict[str, tuple[str, str]]:
    if not _has_state(ws):
        return {}
    from .session import open_state       # validate of a workspace without state loads none
    with open_state(ws) as store:
        return store.approval_digests()


def sha256_of(ws: Workspace, file: str) -> str:
    return ws.file_sha256(file)


def duplicates(ws: Workspace, approvals: dict[str, Approval]) -> tuple[dict[str, Approval],
                                                                      list[InputError]]:
    """Files whose bytes are those of an earlier file: reported as duplicates and left out."""
    first: dict[str, str] = {}
    errors, kept = [], {}
    for f in sorted(approvals):
        sha = sha256_of(ws, f)
        if sha in first:
            errors.append(InputError(f, [Issue("", f"identical duplicate of {first[sha]} (the same "
                                         f"bytes, approval {approvals[f].approval_no}): one approval, "
                                         f"one file; delete {f}; 重复的批复文件")]))
            continue
        first[sha] = f
        kept[f] = approvals[f]
    return kept, errors


def in_place_edits(ws: Workspace, approvals: dict[str, Approval]) -> list[InputError]:
    digests = applied_digests(ws)
    out = []
    for f, a in sorted(approvals.items()):
        seen = digests.get(a.approval_no)
        if seen is None or seen[0] == sha256_of(ws, f):
            continue
        out.append(InputError(f, [Issue("", (
            f"approval {a.approval_no} was applied from {seen[1]} and this file differs from the "
            f"applied one (sha256 {seen[0][:12]}…): an applied approval is never edited in place, "
            f"so that the change rules (major change, the provider's deadline) see the change; "
            f"已施行的批复不得直接修改，变更须另行提交变更文件"),
            rule="applied_approval")],
            fix=(f"restore {f} as it was applied (e.g. `git checkout -- {f}`), then file the change "
                 f"as changes/<CHANGE-NO>.yaml with `changes: {a.approval_no}`, its approved_on, "
                 f"approvers and the system's zones after the change (README: Change documents)")))
    return out
