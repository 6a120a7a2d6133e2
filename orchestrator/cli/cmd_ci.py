"""`govcloud ci plan | apply | init`: the GitOps pipeline's two jobs and its templates."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from .options import Backdated, recording_today, Dir, LockTimeout, Now, Out, OutputTJ, handled, today_from, workspace

ci_app = typer.Typer(no_args_is_help=True, help="The GitOps pipeline: merge request -> plan and "
                                                "report; main branch -> apply (README: GitOps).")


@handled
def plan(directory: Dir = Path("."),
         plan_out: Annotated[Path, typer.Option("--plan-out", help="Where to write the plan file.")] = Path("govcloud.plan.json"),
         report: Annotated[Path, typer.Option("--report", help="Where to write the Markdown report.")] = Path("govcloud-plan.md"),
         detailed_exitcode: Annotated[bool, typer.Option("--detailed-exitcode",
             help="Exit 2 when the plan has changes.")] = False,
         now: Now = None, lock_timeout: LockTimeout = 60.0, output: Out = OutputTJ.text):
    """Merge-request job: verify signatures, validate, check stacks/, plan, write the report."""
    from ..usecases.ci import ci_plan
    from . import render
    res = ci_plan(workspace(directory), today_from(now), plan_out, report, lock_timeout)
    if output == OutputTJ.json:
        render.emit_json(res.to_dict())
    else:
        s = res.summary
        render.console.print(render.escape(
            f"Plan for {res.commit[:12]} (pipeline {res.pipeline}): {s['create']} to create, "
            f"{s['update']} to update, {s['replace']} to replace, {s['delete']} to delete; "
            f"monthly fee {res.fee_total['before']} -> {res.fee_total['after']}. "
            f"Report: {res.report_file}; plan: {res.plan_file}."))
    if detailed_exitcode and res.has_changes:
        raise typer.Exit(2)


@handled
def apply(directory: Dir = Path("."),
          plan_file: Annotated[Optional[Path], typer.Option("--plan", help="The reviewed plan file (default: the one bound to this commit in the state).")] = None,
          parallelism: Annotated[int, typer.Option(min=1, max=64)] = 4,
          now: Now = None, backdated: Backdated = None, lock_timeout: LockTimeout = 600.0,
          output: Out = OutputTJ.text):
    """Main-branch job: apply exactly the plan reviewed for this commit."""
    from ..usecases.ci import ci_apply
    from . import render
    as_json = output == OutputTJ.json
    say = (lambda s: None) if as_json else (lambda s: render.console.print(render.escape(s)))
    res = ci_apply(workspace(directory), recording_today(now, backdated), lock_timeout, parallelism, plan_file, say)
    if as_json:
        render.emit_json(res.to_dict())
    elif res.status == "applied":
        render.console.print(f"Applied the reviewed plan of {res.commit[:12]}: "
                             f"{len(res.apply.results) - len(res.apply.failed)} steps done, "
                             f"{len(res.apply.failed)} failed or skipped.")
    else:
        render.console.print(render.escape(f"No changes for {res.commit[:12]}. {res.note}".strip()))
    if res.apply is not None and res.apply.failed:
        raise typer.Exit(1)


@handled
def init(system: Annotated[str, typer.Argument(help="gitlab, github, gitea or jenkins.")],
         directory: Dir = Path("."),
         force: Annotated[bool, typer.Option("--force", help="Replace an existing file.")] = False,
         output: Out = OutputTJ.text):
    """Write the pipeline template for SYSTEM into the repository."""
    from ..ci.templates import write
    from . import render
    out = write(system, directory, force)
    if output == OutputTJ.json:
        return render.emit_json({"format": "govcloud-ci-init/1", "system": system,
                                 "file": str(out)})
    render.console.print(render.escape(f"Wrote {out}. Commit it; README: GitOps says what to "
                                       "protect and which variables to set."))


def register(app: typer.Typer) -> None:
    ci_app.command()(plan)
    ci_app.command()(apply)
    ci_app.command()(init)
    app.add_typer(ci_app, name="ci")
