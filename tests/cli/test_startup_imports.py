"""Start-up: what a command imports is what it costs before doing anything (see
benchmarks/bench_startup.py for the seconds). Help and --version load neither rich nor pydantic
nor any command's dependencies; validate loads no driver, state store, executor, compiler or
planner, and no rich when its output is not a terminal."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.cli.proc import REPO

HELP_NEVER = {"rich", "pydantic", "yaml", "jinja2", "drivers", "orchestrator.models",
              "orchestrator.usecases", "orchestrator.workspace"}
# validate checks each target's options through the drivers' SDK-free option models
# (drivers/options.py), never a driver itself or a cloud SDK
VALIDATE_NEVER = {"rich", "jinja2", "tenacity", "openstack", "libcloud", "pulumi", "boto3",
                  "drivers.local.driver", "drivers.openstack.driver", "drivers.libcloud.driver",
                  "orchestrator.state",
                  "orchestrator.executor", "orchestrator.core.compile", "orchestrator.core.planner",
                  "urllib.request", "http.client"}

RUN = """import atexit, json, sys
atexit.register(lambda: print(json.dumps(sorted(sys.modules)), file=sys.__stderr__))
sys.argv = ["govcloud", *json.loads(sys.argv[1])]
from orchestrator.cli.app import main
main()"""


def modules_loaded(*args, env: dict | None = None) -> set[str]:
    """Every module a whole `govcloud ARGS` process imported (its output goes to a pipe)."""
    env = {**os.environ, **(env or {}), "PYTHONPATH": str(REPO)}
    p = subprocess.run([sys.executable, "-c", RUN, json.dumps([str(a) for a in args])],
                       capture_output=True, text=True, env=env, cwd=REPO, timeout=120)
    return set(json.loads(p.stderr.strip().splitlines()[-1]))


def loaded(modules: set[str], never: set[str]) -> set[str]:
    return {n for n in never for m in modules if m == n or m.startswith(n + ".")}


@pytest.mark.parametrize("args", [["--help"], ["--version"], ["plan", "--help"],
                                  ["-C", "{ws}", "state", "list", "--help"], ["valdate"]])
def test_help_and_version_load_no_command_dependency(ws, args):
    mods = modules_loaded(*[str(ws) if a == "{ws}" else a for a in args])
    assert loaded(mods, HELP_NEVER) == set()


@pytest.mark.parametrize("output", ["text", "json"])
def test_validate_loads_only_what_it_uses(ws, output):
    mods = modules_loaded("validate", "-C", ws, "--output", output)
    assert "orchestrator.models.approval" in mods           # it did validate
    assert loaded(mods, VALIDATE_NEVER) == set()


def test_the_check_sees_rich_when_colour_is_forced(ws):
    mods = modules_loaded("validate", "-C", ws, env={"FORCE_COLOR": "1"})
    assert loaded(mods, VALIDATE_NEVER) == {"rich"}


def test_completion_loads_no_rich(ws):
    mods = modules_loaded(env={"_GOVCLOUD_COMPLETE": "complete_zsh",
                               "_TYPER_COMPLETE_ARGS": f"govcloud -C {ws} decommission "})
    assert loaded(mods, {"rich", "drivers", "orchestrator.usecases"}) == set()
