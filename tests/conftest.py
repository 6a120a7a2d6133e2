"""Shared fixtures: fresh workspaces on the embedded local cloud, and a CLI runner."""
from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from orchestrator.cli.app import app
from orchestrator.usecases.init import init_workspace

REPO = Path(__file__).resolve().parent.parent
pytest_plugins = ["tests.pg_support"]   # the pg_url fixture: a fresh PostgreSQL database


@dataclass
class Result:
    exit_code: int
    output: str

    def json(self):
        return json.loads(self.output)


def run_cli(*args: str, env: dict | None = None) -> Result:
    r = CliRunner(env=env).invoke(app, [str(a) for a in args], catch_exceptions=False)
    return Result(r.exit_code, r.output)


@pytest.fixture
def cli():
    return run_cli


@pytest.fixture
def ws(tmp_path) -> Path:
    """A workspace with the shipped catalog and the two example approvals."""
    path = tmp_path / "ws"
    init_workspace(path, "bazhong")
    return path


@pytest.fixture
def applied_ws(ws, cli) -> Path:
    assert cli("compile", "-C", ws).exit_code == 0
    r = cli("apply", "-C", ws, "--auto-approve")
    assert r.exit_code == 0, r.output
    return ws


def cloud_rows(ws: Path, where: str = "1=1") -> list[tuple]:
    db = sqlite3.connect(ws / ".govcloud" / "local-cloud" / "cloud.db")
    try:
        return db.execute(f"SELECT id, kind, address, status, props FROM objects WHERE {where}").fetchall()
    finally:
        db.close()


def edit_yaml(path: Path, fn) -> None:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    fn(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


def _uses_openstack_cloud(path: Path) -> bool:
    """A test module that talks to the OpenStack test cloud (its own files, and the contract
    suite, which runs every driver)."""
    return "/tests/openstack/" in str(path) or "openstack" in path.name \
        or path.name == "test_driver_contract.py"


@pytest.fixture(autouse=True)
def _one_openstack_test_at_a_time(request):
    """Under pytest-xdist (`--dist loadfile`, as scripts/test.sh runs: a file stays on one
    worker) each test that uses the OpenStack test cloud holds one inter-process lock while it
    runs, so no test's stale-object sweep (purge_stale) or fixed test owner meets objects of a
    test running beside it; other tests run in parallel. Per test, not per module: a worker keeps
    a module's last test pending until it gets its next item, so a module-wide lock deadlocks
    (measured). (pytest-xdist's `loadgroup` does not group with pytest 9: measured.)"""
    if not _uses_openstack_cloud(Path(str(request.node.path))):
        yield
        return
    import fcntl
    import tempfile
    with open(Path(tempfile.gettempdir()) / "govcloud-openstack-tests.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def amend(path: Path, fn) -> Path:
    """Change an applied approval the only way govcloud accepts: a change document
    (changes/<NO>-CH<n>.yaml, `changes: <NO>`) with the approval's zones and services after
    ``fn(data)`` (``fn`` edits a copy of the approval's data, like edit_yaml)."""
    import copy
    base = yaml.safe_load(path.read_text(encoding="utf-8"))
    changes = path.parent.parent / "changes"
    changes.mkdir(exist_ok=True)
    mine = sorted(changes.glob(f"{base['approval_no']}-CH*.yaml"))
    current = yaml.safe_load(mine[-1].read_text(encoding="utf-8")) if mine else base
    data = copy.deepcopy({**base, "zones": current["zones"],
                          "services": current.get("services", base.get("services", []))})
    fn(data)
    no = f"{base['approval_no']}-CH{len(mine) + 1}"
    doc = {"change_no": no, "changes": base["approval_no"], "approved_on": base["approved_on"],
           "approvers": base["approvers"], "zones": data["zones"],
           "services": data.get("services", [])}
    out = changes / f"{no}.yaml"
    out.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return out
