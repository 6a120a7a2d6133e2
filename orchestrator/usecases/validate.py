"""`govcloud validate`: every input checked, every problem reported at once; touches nothing."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..core import policy
from ..core.changes import apply_changes, change_issues, reference_errors
from ..core.validate import check_all
from ..errors import InputError, InputErrors
from ..extensions import extension_issues
from ..inputs import ParseCache
from ..models.approval import Approval
from ..target_options import offers as target_offers
from ..workspace import Workspace
from . import changes as changes_mod

if TYPE_CHECKING:
    from .approval_checks import ApprovalChecks

VALIDATE_FORMAT = "govcloud-validate/1"


@dataclass
class ValidateResult:
    approvals: dict[str, Approval]    # file -> approval
    profile: str
    profile_name_zh: str
    profile_status: str
    catalog_items: int
    warnings: list[str]               # the profile's own: draft, expired, not yet in force

    def to_dict(self) -> dict[str, Any]:
        return {"format": VALIDATE_FORMAT, "valid": True, "approvals": sorted(self.approvals),
                "profile": self.profile, "catalog_items": self.catalog_items,
                "warnings": self.warnings}


def validate(ws: Workspace, today: dt.date) -> ValidateResult:
    approvals = check_inputs(ws, today)
    p = ws.profile
    from ..core.obligations import catalog_warning
    extra = [w for w in [catalog_warning(p, ws.catalog.revised_on, today)] if w]
    return ValidateResult(approvals, p.code, p.name_zh, p.status, len(ws.catalog.items),
                          p.warnings(today) + extra)


def check_inputs(ws: Workspace, today: dt.date, parse_cache: ParseCache | None = None,
                 checks: "ApprovalChecks | None" = None) -> dict[str, Approval]:
    """Every input checked (the profile's rules as of ``today``); raises with all problems
    (``parse_cache``: see Workspace.load_approvals; ``checks``: the approvals known to pass
    their own checks, usecases/approval_checks.py)."""
    errors = InputErrors()
    ws.config  # the profile's name comes from it: a broken config is reported alone
    offers = target_offers(ws.config)   # every [targets.X] table against its driver's schema
    for load in (lambda: ws.catalog, lambda: ws.profile):
        try:
            load()
        except InputError as exc:
            errors.add(exc)
    errors.raise_if_any()
    if ws.config.approvals.require_signatures:   # signatures first: nothing unsigned is parsed
        from .approval import seals
        seals(ws, today)
    raw = ws.load_approvals(parse_cache, raw=True)
    raw, dup = changes_mod.duplicates(ws, raw)
    changes = ws.load_changes()
    for err in dup + changes_mod.in_place_edits(ws, raw) + reference_errors(raw, changes):
        errors.add(err)
    errors.raise_if_any()
    for err in change_issues(raw, changes, ws.catalog, ws.profile):
        errors.add(err)
    approvals = apply_changes(raw, changes)
    known = checks.passed(approvals, offers) if checks is not None else ()
    base = check_all(approvals, ws.catalog, ws.profile, ws.config, offers, known)
    # cross-document errors, then the profile's rules, then the extension files
    for err in policy.check_all(approvals, ws.catalog, ws.profile, ws.config, today, base) + \
            extension_issues(ws, approvals):
        errors.add(err)
    errors.raise_if_any()
    return approvals
