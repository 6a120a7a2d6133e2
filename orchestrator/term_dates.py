"""How a workspace's term dates read (README: Temporary windows; ``[dates]`` in govcloud.toml).

Today a term's ``end`` (and an extension's ``until``) is the last day of service. A workspace
made before (no ``[dates] term_end``) is refused where it holds dated inputs, naming `govcloud
workspace upgrade`; an approval the upgrade recorded by its sha256 keeps its old exclusive
``end`` in its (signed, never rewritten) file and is read as ``end - 1`` while its bytes are
unchanged."""
from __future__ import annotations

import hashlib
from datetime import timedelta
from pathlib import Path

from .errors import GovcloudError
from .models.approval import Approval
from .models.config import DatesSection

CONFIG_NAME = "govcloud.toml"


def require_date_format(dates: DatesSection | None, root: Path,
                        approvals: dict[str, Approval]) -> None:
    """Refuse to read the dates of a workspace made when a term's ``end`` was the first day
    without resources (no ``[dates] term_end``) and that has dated inputs (a window or emergency
    term, or an extension file): reading them now would lose a day."""
    if dates is not None:
        return
    dated = sorted(a.approval_no for a in approvals.values() if a.term.kind != "permanent")
    if not dated and not (root / "extensions").is_dir():
        return
    what = (f"approvals {', '.join(dated[:3])}{' ...' if len(dated) > 3 else ''}" if dated
            else "extensions/")
    raise GovcloudError(
        f"{CONFIG_NAME}: no [dates] term_end: this workspace was made when a term's end was the "
        f"first day without resources, and {what} carry such dates",
        fix="run `govcloud workspace upgrade` once (it records the format and migrates "
            "extensions; signed approvals are kept as they are), then commit govcloud.toml, "
            "extensions/ and stacks/")


def legacy_end(dates: DatesSection | None, a: Approval, path: Path) -> Approval:
    """``a`` as the current format reads it: an approval recorded in ``legacy_approvals`` (its
    number -> the sha256 of its file at the upgrade) whose file still has those bytes has its
    old exclusive ``end`` read as the last day, ``end - 1``; a changed file is read as written."""
    digest = dates.legacy_approvals.get(a.approval_no) if dates else None
    if digest is None or a.term.kind == "permanent" \
            or hashlib.sha256(path.read_bytes()).hexdigest() != digest:
        return a
    return a.model_copy(update={"term": a.term.model_copy(
        update={"end": a.term.end - timedelta(days=1)})})
