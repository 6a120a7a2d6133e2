"""The `govcloud` command line. Each command: parse -> one use-case call -> render.

Exit codes: 0 success or no changes; 1 error, usage errors included; 2 changes present
(plan --detailed-exitcode); 3 attention needed (status --overdue, calendar is-workday).
The root's options (-C, --version, completion) and the usage exit code: root.py.
"""
from __future__ import annotations

import os
import sys

import typer

from .. import __version__
from . import (cmd_approval, cmd_backup, cmd_ci, cmd_decommission, cmd_expire, cmd_inputs, cmd_isolation,
               cmd_lifecycle, cmd_money, cmd_notify, cmd_plan, cmd_policy, cmd_pulumi, cmd_server,
               cmd_show, cmd_state, cmd_workspace, root)

# Plain click help (rich_markup_mode=None): rich's help formatter cost ~0.2 s CPU per --help.
app = typer.Typer(name="govcloud", cls=root.RootGroup, no_args_is_help=True,
                  add_completion=False, rich_markup_mode=None, pretty_exceptions_enable=False,
                  context_settings={"help_option_names": ["-h", "--help"]})
app.callback()(root.callback)

# Command modules register themselves here, in the order of `govcloud --help`; they never
# import this module.
for _module in (cmd_inputs, cmd_approval, cmd_plan, cmd_show, cmd_state, cmd_server,
                cmd_decommission, cmd_backup, cmd_isolation, cmd_lifecycle, cmd_expire, cmd_notify, cmd_money,
                cmd_policy, cmd_pulumi, cmd_ci, cmd_workspace):
    _module.register(app)


@app.command()
def version():
    """Print the govcloud version."""
    typer.echo(f"govcloud {__version__}")


def main() -> None:
    # pydantic looks for plugins in every installed distribution's entry points on its first
    # model; govcloud uses none. PYDANTIC_DISABLE_PLUGINS= (set, empty) keeps the lookup.
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    root.invoked_only(app, sys.argv[1:])(prog_name=root.PROG)
