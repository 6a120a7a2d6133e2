"""Running the Pulumi program through Pulumi's Automation API (``govcloud pulumi preview|up``).

The Automation API drives the Pulumi CLI; without it, it fails with a bare
``FileNotFoundError: [Errno 2] No such file or directory: 'pulumi'``. ``run`` turns that (and a
missing ``pulumi`` Python package) into a message saying what is missing and how to install it.
"""
from __future__ import annotations

import shutil
from pathlib import Path
from typing import Callable

from orchestrator.errors import GovcloudError

PROVIDER_VERSION = "5.5.3"   # pulumi-openstack, the provider plugin the program is written for
INSTALL = ("install the Pulumi CLI (https://www.pulumi.com/docs/iac/download-install/, e.g. "
           "`curl -fsSL https://get.pulumi.com | sh`), then the OpenStack provider plugin: "
           f"`pulumi plugin install resource openstack v{PROVIDER_VERSION}`, and log in to a "
           "state backend (`pulumi login --local` keeps it on this machine). govcloud's own engine "
           "(`govcloud plan` / `govcloud apply`) needs none of this")


def cli_missing() -> GovcloudError:
    return GovcloudError("the Pulumi CLI is not installed (no `pulumi` on PATH): the Pulumi engine "
                         "cannot run", fix=INSTALL)


def run(workspace: Path, operation: str, stack: str = "govcloud",
        which: Callable[[str], str | None] = shutil.which) -> str:
    """``preview`` or ``up`` the workspace's specs as a Pulumi stack; returns Pulumi's output."""
    if operation not in ("preview", "up"):
        raise GovcloudError(f"unknown Pulumi operation {operation!r}: use preview or up")
    try:
        import pulumi.automation as auto
    except ImportError:
        raise GovcloudError("the pulumi Python packages are not installed",
                            fix="pip install 'govcloud[pulumi]' (pulumi, pulumi-openstack)") from None
    if which("pulumi") is None:
        raise cli_missing()
    from .program import load, render
    resources, owner, vpc = load(str(workspace))

    def program():
        render(resources, owner, vpc_targets=vpc)
    try:
        st = auto.create_or_select_stack(stack_name=stack, project_name="govcloud", program=program)
        result = st.preview() if operation == "preview" else st.up()
    except FileNotFoundError as exc:        # the CLI vanished between the check and the call
        if "pulumi" in str(exc):
            raise cli_missing() from None
        raise
    except auto.errors.CommandError as exc:
        raise GovcloudError(f"pulumi {operation} failed: {str(exc).strip()[-2000:]}") from None
    return result.stdout
