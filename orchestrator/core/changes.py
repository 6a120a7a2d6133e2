"""Change documents applied on top of their approvals, and the change rules that apply to them
(major change: growth and reduction against the request before the change). Pure."""
from __future__ import annotations

from ..errors import InputError, Issue
from ..models.approval import Approval, PermanentTerm
from ..models.catalog import Catalog
from ..models.change import ChangeDocument
from ..models.profile import Profile
from . import major_change
from .policy import MEASURE_NAMES, measures
from .pricing import price_approval, total


def ordered(changes: dict[str, ChangeDocument]) -> list[tuple[str, ChangeDocument]]:
    return sorted(changes.items(), key=lambda kv: (kv[1].approved_on, kv[1].change_no))


def reference_errors(approvals: dict[str, Approval],
                     changes: dict[str, ChangeDocument]) -> list[InputError]:
    """A change must name an approval of this workspace, a permanent one, and come after it."""
    by_no = {a.approval_no: a for a in approvals.values()}
    numbers = {a.approval_no: f for f, a in approvals.items()}
    seen: dict[str, str] = {}
    out = []
    for f, c in ordered(changes):
        issues = []
        base = by_no.get(c.changes)
        if base is None:
            issues.append(Issue("changes", f"{c.changes!r} is not an approval under approvals/"))
        elif not isinstance(base.term, PermanentTerm):
            issues.append(Issue("changes", f"{c.changes} is a {base.term.kind}: a temporary term is "
                                           f"extended (govcloud extend) or applied for anew, not changed"))
        elif c.approved_on < base.approved_on:
            issues.append(Issue("approved_on", f"change approved on {c.approved_on}, before "
                                               f"{c.changes} itself ({base.approved_on})"))
        if c.change_no in seen:
            issues.append(Issue("change_no", f"{c.change_no!r} is also the number of {seen[c.change_no]}"))
        elif c.change_no in numbers:
            issues.append(Issue("change_no", f"{c.change_no!r} is the number of the approval "
                                             f"{numbers[c.change_no]}"))
        seen.setdefault(c.change_no, f)
        if issues:
            out.append(InputError(f, issues))
    return out


def _update(a: Approval, c: ChangeDocument) -> dict:
    update: dict = {"zones": c.zones}
    for k in ("services", "system"):
        if getattr(c, k) is not None:
            update[k] = getattr(c, k)
    if c.moved:  # renames accumulate: an earlier change's moves stay followed
        update["moved"] = [*a.moved, *(m for m in c.moved if m not in a.moved)]
    return update


def apply_changes(approvals: dict[str, Approval],
                  changes: dict[str, ChangeDocument]) -> dict[str, Approval]:
    """The approvals as changed: each change, in approval order, replaces its approval's zones
    (and services when it names them). Assumes reference_errors found nothing."""
    file_of = {a.approval_no: f for f, a in approvals.items()}
    out = dict(approvals)
    for _, c in ordered(changes):
        f = file_of[c.changes]
        out[f] = out[f].model_copy(update=_update(out[f], c))
    return out


def change_issues(approvals: dict[str, Approval], changes: dict[str, ChangeDocument],
                  catalog: Catalog, profile: Profile) -> list[InputError]:
    """The profile's major-change rule on each change document, growth and reduction alike,
    compared exactly (no rounding) against the request just before it."""
    r = profile.rules.major_change
    if r is None:
        return []
    mc, word = r.value, r.word or "超过"
    file_of = {a.approval_no: f for f, a in approvals.items()}
    current = dict(approvals)
    out = []
    for f, c in ordered(changes):
        base_file = file_of[c.changes]
        before = current[base_file]
        after = before.model_copy(update=_update(before, c))
        current[base_file] = after
        mb, ma = measures(before, catalog), measures(after, catalog)
        issues = []
        hit = major_change.resource_change(mb, ma, mc.measures, mc.resources_pct, word)
        if hit is not None:
            en, zh = MEASURE_NAMES[hit.key]
            by = "from nothing" if hit.ratio is None else f"by {hit.percent}"
            issues.append(Issue("zones", f"change {c.change_no} {hit.way} the {en} of {c.changes} "
                f"{by} ({hit.before} -> {hit.after}): a change of more than "
                f"{mc.resources_pct}% of the existing resources is a major change (重大变更) and "
                f"needs a full new application ({profile.cite(r)}); {zh}变更超过已有云资源"
                f"{mc.resources_pct}%，属于重大变更，应按照上云申请工作流程办理", rule="major_change"))
        fb, fa = total(price_approval(before, catalog)), total(price_approval(after, catalog))
        hit = major_change.fee_growth(fb, fa, mc.fee_pct, word)
        if hit is not None:
            by = "from nothing" if hit.ratio is None else f"by {hit.percent}"
            issues.append(Issue("zones", f"change {c.change_no} raises the monthly fee of "
                f"{c.changes} {by} (¥{fb} -> ¥{fa}): "
                f"more than {mc.fee_pct}% is a major change (重大变更) ({profile.cite(r)}); "
                f"云服务费增长超过{mc.fee_pct}%，属于重大变更", rule="major_change"))
        if issues:
            out.append(InputError(f, issues))
    return out
