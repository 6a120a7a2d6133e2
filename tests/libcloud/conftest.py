"""Fixtures for the libcloud driver's tests: a real moto server on 127.0.0.1 (moto_server.py),
drivers with their own workspace ids, and workspaces whose zones point at it."""
from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from tests.libcloud.moto_server import reset, target_options, workspace


@pytest.fixture
def new_driver(tmp_path):
    from drivers.libcloud.driver import LibcloudDriver
    made = []

    def make(owner: str | None = None, **options):
        opts = target_options(**options)
        opts.pop("driver")
        d = LibcloudDriver("aws", opts, tmp_path, owner or f"ws-{uuid.uuid4().hex[:12]}")
        made.append(d)
        return d
    yield make
    for d in made:
        d.close()


@pytest.fixture
def aws_ws_both(tmp_path) -> Path:
    """The two shipped example approvals, both zones on an EC2-compatible target (moto)."""
    reset()   # an empty moto per workflow test keeps its listings (and the test) fast
    return workspace(tmp_path)


@pytest.fixture
def aws_ws(tmp_path) -> Path:
    """One example approval (edu-portal: 2 zones, 4 servers) on an EC2-compatible target (moto):
    small enough for a fast apply, large enough for two VPCs."""
    reset()   # an empty moto per workflow test keeps its listings (and the test) fast
    path = workspace(tmp_path)
    (path / "approvals" / "BZ-2026-0031.yaml").unlink()
    return path
