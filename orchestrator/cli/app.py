"""The `govcloud` command line. Each command: parse -> one use-case call -> render.

Exit codes: 0 success or no changes; 1 error; 2 changes present (plan --detailed-exitcode).
"""
from __future__ import annotations

import typer

from .. import __version__
from . import (cmd_decommission, cmd_expire, cmd_inputs, cmd_isolation, cmd_lifecycle, cmd_plan,
               cmd_policy, cmd_pulumi, cmd_state)

app = typer.Typer(name="govcloud", no_args_is_help=True, pretty_exceptions_enable=False,
                  help="Turn approved 政务云 quotas into applied, isolated stacks.",
                  context_settings={"help_option_names": ["-h", "--help"]})

# Command modules register themselves here, in the order of `govcloud --help`; they never
# import this module.
for _module in (cmd_inputs, cmd_plan, cmd_state, cmd_decommission, cmd_isolation, cmd_lifecycle,
                cmd_expire, cmd_policy, cmd_pulumi):
    _module.register(app)


@app.command()
def version():
    """Print the govcloud version."""
    from . import render
    render.console.print(f"govcloud {__version__}")


def main() -> None:
    app()
