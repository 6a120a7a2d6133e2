"""`govcloud ci plan` (the merge-request job) and `govcloud ci apply` (the main-branch job).

ci plan: signatures, validation, compile (the committed stacks/ must be what compile makes),
the plan, the quota view, the fee change against the target branch and the policy findings;
the plan file and a Markdown report are written, and the reviewed plan is bound in the state
store to the commit's tree (``ci-plan:<tree>``), so that the main pipeline finds it whether the
merge fast-forwarded or made a merge commit of exactly the reviewed content.

ci apply: applies exactly the plan bound to HEAD's tree, refused when the branch moved on, no
plan was reviewed for this content, the plan is stale (the state moved) or the approvals changed
since; one pipeline at a time (the workspace lock names the pipeline that holds it).
"""
from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from ..ci import env as ci_env
from ..ci import git
from ..ci.report import render as render_report
from ..core import policy, review
from .. import planfile
from ..errors import GovcloudError, Issue, PlanRefused
from ..inputs import parse
from ..models.approval import Approval
from ..models.catalog import Catalog
from ..workspace import Workspace
from . import approval as approval_uc
from .apply import ApplyResult
from .apply import apply as run_apply
from .compile import compile_workspace
from .plan import plan as run_plan
from .review import ExceedsApproval
from .session import open_state
from .validate import check_inputs

CI_PLAN_FORMAT = "govcloud-ci-plan/1"
CI_APPLY_FORMAT = "govcloud-ci-apply/1"
BINDING = "ci-plan:"


@dataclass
class CiPlanResult:
    commit: str
    tree: str
    pipeline: str
    plan_file: str
    report_file: str
    summary: dict[str, int]
    has_changes: bool
    fee_total: dict[str, str]
    quota_excess: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"format": CI_PLAN_FORMAT, "commit": self.commit, "tree": self.tree,
                "pipeline": self.pipeline, "plan_file": self.plan_file,
                "report_file": self.report_file, "summary": self.summary,
                "has_changes": self.has_changes, "fee_total": self.fee_total,
                "quota_excess": self.quota_excess}


def _approvals_at(repo: Path, rev: str, ws: Workspace) -> tuple[list[Approval], Catalog | None]:
    """The approvals and catalog of the workspace at ``rev`` (what the target branch holds)."""
    import yaml
    prefix = str(ws.root.relative_to(repo)) if ws.root != repo else ""
    join = (lambda p: f"{prefix}/{p}") if prefix else (lambda p: p)
    cat_files = git.files_at(repo, rev, join("catalog/services.yaml"))
    catalog = None
    if cat_files:
        try:
            catalog = parse(Catalog, yaml.safe_load(next(iter(cat_files.values()))), "catalog")
        except Exception:   # an old, invalid catalog: no "before" figures
            catalog = None
    out = []
    for name, raw in git.files_at(repo, rev, join("approvals")).items():
        if not name.endswith((".yaml", ".yml")):
            continue
        try:
            out.append(parse(Approval, yaml.safe_load(raw), name))
        except Exception:   # not valid there: it has no fee "before"
            continue
    return out, catalog


def ci_plan(ws: Workspace, today: dt.date, plan_out: Path, report_out: Path,
            lock_timeout: float, environ=None) -> CiPlanResult:
    repo = git.toplevel(ws.root)
    commit, tree = git.head(repo)
    pipeline = ci_env.pipeline_id(environ)
    # 1. signatures and 2. every input, before anything is written
    approval_uc.seals(ws, today)
    approvals = check_inputs(ws, today)
    # 3. the committed specs must be what compile makes of the committed approvals
    compile_workspace(ws, today)
    drift = git.changed_under(repo, ws.stacks_dir)
    if drift:
        raise GovcloudError("the committed stacks/ differ from what `govcloud compile` produces",
                            [Issue("stacks", "differs from compile's output", file=f)
                             for f in drift[:50]],
                            fix="run `govcloud compile` and commit stacks/ with the approvals")
    # 4. the fee baseline: what the target branch holds (its approvals, its catalog)
    base = git.merge_base(repo, ci_env.target_branch(environ))
    baseline = None
    if base and base != commit:
        old, old_catalog = _approvals_at(repo, base, ws)
        baseline = (base, review.monthly_fees(old, old_catalog) if old_catalog is not None else {})
    elif base == commit:
        baseline = (base, review.monthly_fees(approvals.values(), ws.catalog))
    # 5. the plan against the real targets, with its review; beyond the approval: the report
    # shows why, no plan file is written, exit 1
    try:
        p = run_plan(ws, today, lock_timeout, None, fees_before=baseline).plan
        refused = None
    except ExceedsApproval as exc:
        p, refused = exc.plan, exc
    with open_state(ws) as store:
        found = policy.approval_findings(approvals, ws.catalog, ws.profile, ws.config, today)
        findings = [{"file": f, **x.to_dict()} for f, xs in sorted(found.items()) for x in xs]
        sigs = [v.to_dict() for v in approval_uc.verify(ws, today).verdicts] \
            if ws.config.approvals.require_signatures else []
        text = render_report(p, commit=commit, pipeline=pipeline, base=base, signatures=sigs,
                             findings=findings, warnings=ws.profile.warnings(today))
        report_out.parent.mkdir(parents=True, exist_ok=True)
        report_out.write_text(text, encoding="utf-8")
        if refused is not None:
            raise refused
        from ..trust import provider_key
        planfile.save(p, plan_out, provider_key.load_or_create(ws.root))
        store.put_workflow(BINDING + tree, {
            "commit": commit, "tree": tree, "pipeline": pipeline, "digest": p.digest,
            "planned_at": p.created_at, "plan": p.to_dict(), "applied_by": None})
    rev = p.review or {}
    return CiPlanResult(commit, tree, pipeline, str(plan_out), str(report_out), p.summary,
                        p.has_changes, rev.get("fee_total", {}), rev.get("excess", []))


@dataclass
class CiApplyResult:
    commit: str
    pipeline: str
    status: str                      # applied | no-changes | already-applied
    apply: ApplyResult | None = None
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        a = self.apply
        return {"format": CI_APPLY_FORMAT, "commit": self.commit, "pipeline": self.pipeline,
                "status": self.status, "note": self.note,
                "applied": len(a.results) - len(a.failed) if a else 0,
                "failed": len(a.failed) if a else 0,
                "summary": a.plan.summary if a else None}


def _pipeline_of(operation: str) -> str:
    if "pipeline " in operation:
        return "pipeline " + operation.split("pipeline ", 1)[1].rstrip(")")
    return f"'{operation}'"


def ci_apply(ws: Workspace, today: dt.date, lock_timeout: float, parallelism: int = 4,
             plan_file: Path | None = None, say: Callable[[str], None] = lambda s: None,
             environ=None) -> CiApplyResult:
    repo = git.toplevel(ws.root)
    commit, tree = git.head(repo)
    pipeline = ci_env.pipeline_id(environ)
    branch = ci_env.branch(environ) or ci_env.target_branch(environ)
    tip = git.remote_tip(repo, branch)
    if tip is not None and tip != commit:
        raise PlanRefused(f"branch {branch} moved: this pipeline is for {commit[:12]}, the branch "
                          f"is at {tip[:12]} now", fix="nothing to do here: the pipeline of the "
                          "newer commit applies")
    with open_state(ws) as store:
        bound = store.get_workflow(BINDING + tree)
        if bound is None:
            raise PlanRefused(f"no plan was reviewed for commit {commit[:12]} (tree {tree[:12]})",
                              fix="the merge-request pipeline (`govcloud ci plan`) must run on "
                                  "exactly this content before it is applied; with a merge "
                                  "commit, enable merged-results pipelines or fast-forward merges")
        if bound.get("applied_by"):
            from .plan import plan as fresh
            p = fresh(ws, today, lock_timeout).plan
            if p.has_changes:
                raise PlanRefused(f"the plan of this commit was applied by pipeline "
                                  f"{bound['applied_by']}, and the cloud has changed since",
                                  fix="run the merge-request pipeline again")
            return CiApplyResult(commit, pipeline, "already-applied",
                                 note=f"applied by pipeline {bound['applied_by']}; no changes")
        data = bound["plan"]
        if plan_file is not None:
            data = json.loads(plan_file.read_text(encoding="utf-8"))
            if data.get("digest") != bound["digest"]:
                raise PlanRefused(f"{plan_file} is not the plan reviewed for this commit",
                                  fix="apply the plan file of this commit's merge-request pipeline")
        held = store.current_lock()
        if held is not None:
            say(f"waiting for lock held by {_pipeline_of(held.operation)} ({held.holder}, pid "
                f"{held.pid}, since {held.created_at})")
    ws.data_dir.mkdir(parents=True, exist_ok=True)
    saved = ws.data_dir / f"ci-plan-{tree[:12]}.json"
    saved.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    try:
        res = run_apply(ws, saved, today, parallelism, lock_timeout,
                        operation=f"ci apply (pipeline {pipeline})")
    except PlanRefused:
        # Another pipeline may have applied this very plan while this one waited for the lock.
        with open_state(ws) as store:
            now_bound = store.get_workflow(BINDING + tree) or {}
        if now_bound.get("applied_by"):
            return CiApplyResult(commit, pipeline, "already-applied",
                                 note=f"applied meanwhile by pipeline {now_bound['applied_by']}")
        raise
    finally:
        saved.unlink(missing_ok=True)
    with open_state(ws) as store:
        if not res.failed:
            store.put_workflow(BINDING + tree, {**bound, "applied_by": pipeline})
    return CiApplyResult(commit, pipeline, "applied" if res.plan.has_changes else "no-changes", res)
