"""Fixtures for the libcloud driver's tests: a real moto server on 127.0.0.1 (moto_server.py),
drivers with their own workspace ids, and workspaces whose zones point at it."""
from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from orchestrator.service import init_workspace
from tests.libcloud.moto_server import endpoint, target_options


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


def aws_config(url: str, **extra: str) -> str:
    lines = [f'{k} = {v!r}'.replace("'", '"') for k, v in extra.items()]
    return "\n".join([
        "", "[targets.aws]", 'driver = "libcloud"', 'provider = "ec2"', f'endpoint = "{url}"',
        'region = "us-east-1"', 'access_key_env = "GOVCLOUD_TEST_EC2_KEY_ID"',
        'secret_key_env = "GOVCLOUD_TEST_EC2_SECRET"', "poll_seconds = 0.01", *lines, ""])


@pytest.fixture
def aws_ws_both(tmp_path) -> Path:
    """The two shipped example approvals, both zones on an EC2-compatible target (moto)."""
    return _workspace(tmp_path)


@pytest.fixture
def aws_ws(tmp_path) -> Path:
    """One example approval (edu-portal: 2 zones, 4 servers) on an EC2-compatible target (moto):
    small enough for a fast apply, large enough for two VPCs."""
    path = _workspace(tmp_path)
    (path / "approvals" / "BZ-2026-0031.yaml").unlink()
    return path


def _workspace(tmp_path) -> Path:
    path = tmp_path / "ws"
    init_workspace(path, "bazhong")
    cfg = path / "govcloud.toml"
    text = cfg.read_text(encoding="utf-8").replace('target = "local"', 'target = "aws"')
    cfg.write_text(text + aws_config(endpoint()), encoding="utf-8")
    return path
