"""The root of `govcloud`: what every command shares, the way git and terraform do it.

- `govcloud -C DIR COMMAND`: DIR becomes the default of every command's `-C` (click's
  default_map), so a `-C` after the command still wins.
- `--version`; `--install-completion [SHELL]` and `--show-completion [SHELL]` (complete.py).
- A usage error (unknown option, missing argument, bad value) exits 1, not click's 2: 2 means
  "changes present" to a pipeline reading `plan --detailed-exitcode`. It is done in the root
  group, so `main()` and typer's CliRunner (which calls the group's `main`) agree.
- `main()` has typer build the invoked command only (invoked_only).

Kept free of rich and pydantic: `govcloud --help` and `govcloud CMD --help` load neither.
"""
from __future__ import annotations

import copy
import os
from contextlib import contextmanager
from typing import Annotated, Any, Optional

import typer
from typer.core import TyperGroup

try:
    from typer import _click   # typer >= 0.2x carries its own click
except ImportError:            # pragma: no cover - an older typer on click itself
    import click as _click

from .. import __version__
from . import complete
from .complete import COMPLETE_VAR, COMPLETION_FLAGS, PROG, SHELLS


@contextmanager
def usage_exits_1():
    try:
        yield
    except _click.exceptions.UsageError as exc:
        exc.exit_code = 1
        raise


class RootGroup(TyperGroup):
    """typer's group with the root behaviour above (`typer.Typer(cls=RootGroup)`)."""

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        _pass_through(self.params)

    def make_context(self, info_name, args, parent=None, **extra):
        with usage_exits_1():
            return super().make_context(info_name, args, parent, **extra)

    def invoke(self, ctx):
        # Nested groups (state, audit, ...) process their -h before the subcommand's --help.
        for group in _groups(self):
            _pass_through([group.get_help_option(ctx)])
        # subcommands and nested groups parse their arguments in here
        with usage_exits_1():
            return super().invoke(ctx)

    def get_help_option(self, ctx):   # processed before anything else on every run
        option = super().get_help_option(ctx)
        _pass_through([option])
        return option

    def parse_args(self, ctx, args):
        return super().parse_args(ctx, complete.flag_values(args))

    def _main_shell_completion(self, ctx_args, prog_name, complete_var=None):
        complete_var = complete_var or COMPLETE_VAR
        instruction = os.environ.get(complete_var)
        if not instruction:
            return
        os.environ[complete_var] = complete.typer_instruction(instruction)
        complete.register_shells()
        super()._main_shell_completion(ctx_args, PROG, complete_var)


def invoked_only(app: typer.Typer, args: list[str]) -> typer.Typer:
    """`app` with only the command that `args` runs: typer builds the click objects of every
    command on each run (~0.05 s for 30 commands) and a run needs one. `app` itself when the
    whole tree is needed (root help, completion) or the command is not found (click's error
    names the alternatives)."""
    if COMPLETE_VAR in os.environ:
        return app
    name = _command_name(args)
    from typer.main import get_command_name
    commands = [c for c in app.registered_commands
                if (c.name or get_command_name(c.callback.__name__)) == name]
    groups = [g for g in app.registered_groups if g.name == name]
    if name is None or (name and len(commands) + len(groups) != 1):
        return app
    pruned = copy.copy(app)
    pruned.registered_commands, pruned.registered_groups = commands, groups
    return pruned


def _command_name(args: list[str]) -> str | None:
    """The first word of `args` that is not a root option or its value; "" when no command
    runs (--version); None when every command is needed."""
    i = 0
    while i < len(args):
        a = args[i]
        if a in ("-C", "--dir"):
            i += 2
        elif a == "--version":
            return ""
        elif a in ("-h", "--help") or a.startswith(COMPLETION_FLAGS):
            return None
        elif a.startswith("-"):
            i += 1
        else:
            return a
    return None


def _pass_through(params) -> None:
    """typer coerces every option through a pydantic TypeAdapter, and the first one imports
    pydantic (about 0.15 s CPU). The root's options are plain strings and flags: give them
    typer's pass-through coercion so that help and --version never import pydantic."""
    try:
        from typer._coercion import PassThroughRuntimeParam
    except ImportError:  # another typer: slower, same behaviour
        return
    for p in params:
        desc = getattr(p, "type_descriptor", None)  # None: no option (add_help_option=False)
        if desc is not None and desc.annotation in (str, bool):
            p._runtime_param = PassThroughRuntimeParam(parameter_info=desc.parameter_info,
                                                       annotation=desc.annotation)


def _groups(group):
    """`group` and every group below it."""
    yield group
    for cmd in getattr(group, "commands", {}).values():
        if hasattr(cmd, "commands"):
            yield from _groups(cmd)


def workspace_defaults(group, directory: str) -> dict[str, Any]:
    """A default_map giving every (sub)command's `-C` option the value `directory`."""
    out: dict[str, Any] = {}
    for name, cmd in getattr(group, "commands", {}).items():
        sub = {p.name: directory for p in cmd.params if "-C" in getattr(p, "opts", ())}
        sub.update(workspace_defaults(cmd, directory))
        if sub:
            out[name] = sub
    return out


def _set_workspace(ctx: typer.Context, param, value: Optional[str]):
    if value is not None:
        ctx.default_map = {**(ctx.default_map or {}), **workspace_defaults(ctx.command, value)}
    return value


def _show_version(ctx: typer.Context, param, value: bool):
    if value and not ctx.resilient_parsing:
        typer.echo(f"{PROG} {__version__}")
        raise typer.Exit(0)
    return value


def _set_os_cloud(ctx, param, value: str | None) -> None:
    if value and not ctx.resilient_parsing:
        os.environ["OS_CLOUD"] = value


def _set_debug(ctx, param, value: bool) -> None:
    if value and not ctx.resilient_parsing:
        os.environ["GOVCLOUD_DEBUG"] = "1"


def callback(
    directory: Annotated[Optional[str], typer.Option(
        "-C", "--dir", metavar="DIR", expose_value=False, callback=_set_workspace,
        help="Run every command on the workspace in DIR, like git -C (default: the current "
             "directory). A -C given after the command wins.")] = None,
    version: Annotated[bool, typer.Option(
        "--version", is_eager=True, expose_value=False, callback=_show_version,
        help="Print the version and exit.")] = False,
    install_completion: Annotated[Optional[str], typer.Option(
        "--install-completion", metavar="[SHELL]", expose_value=False,
        callback=complete.install,
        help=f"Install completion for SHELL ({', '.join(SHELLS)}; default: this shell).")] = None,
    show_completion: Annotated[Optional[str], typer.Option(
        "--show-completion", metavar="[SHELL]", expose_value=False, callback=complete.show,
        help="Print the completion script for SHELL (default: this shell).")] = None,
    os_cloud: Annotated[Optional[str], typer.Option(
        "--os-cloud", metavar="CLOUD", expose_value=False, callback=_set_os_cloud,
        help="The clouds.yaml entry for OpenStack targets that name no cloud (also OS_CLOUD).")] = None,
    debug: Annotated[bool, typer.Option(
        "--debug", expose_value=False, callback=_set_debug,
        help="Log every cloud API call on stderr (method, URL, status, time; credentials "
             "redacted) and show tracebacks; also GOVCLOUD_DEBUG=1.")] = False,
) -> None:
    """Turn approved 政务云 quotas into applied, isolated stacks.

    Exit codes: 0 success or no changes; 1 error, usage errors included; 2 changes present
    (plan --detailed-exitcode); 3 attention needed (status --overdue with overdue approvals,
    calendar is-workday on a day off).
    """
