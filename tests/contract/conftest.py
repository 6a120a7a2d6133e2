"""Driver factories for the contract suite. Each new driver adds one entry to FACTORIES;
the suite in test_driver_contract.py then runs against it unchanged."""
from __future__ import annotations

import uuid

import pytest

from drivers.base import driver_class


def _local(tmp_path, owner):
    return driver_class("local")("local", {"data_dir": str(tmp_path / "cloud")}, tmp_path, owner)


_fresh_for: list = []


def _libcloud(tmp_path, owner):
    """EC2-compatible cloud through apache-libcloud, against a real moto server on 127.0.0.1.

    The suite reuses fixed workspace ids across tests, so each test starts from an empty moto
    (the first driver a test makes resets it; ~0.5 s)."""
    from tests.libcloud.moto_server import reset, target_options
    if _fresh_for != [tmp_path]:
        reset()
        _fresh_for[:] = [tmp_path]
    options = target_options()
    options.pop("driver")
    return driver_class("libcloud")("aws", options, tmp_path, owner)


def _openstack(tmp_path, owner):
    """The real OpenStack test cloud (scripts/openstack/up.sh); fails when it is not running."""
    from tests.openstack.cloud import purge_stale, require_cloud
    cloud = require_cloud()
    if not _swept:  # once per session: what an interrupted earlier run left behind
        purge_stale(r"ctd[0-9a-f]{8}|d[0-9a-f]{8}")
        _swept.append(True)
    return driver_class("openstack")("x", {"cloud": cloud}, tmp_path, owner)


_swept: list = []


FACTORIES = {"local": _local, "libcloud": _libcloud, "openstack": _openstack}


@pytest.fixture(params=sorted(FACTORIES))
def make_driver(request, tmp_path):
    made = []

    def make(owner=None):
        d = FACTORIES[request.param](tmp_path, owner or f"ws-{uuid.uuid4().hex[:12]}")
        made.append(d)
        return d
    yield make
    for d in made:
        if request.param == "openstack":
            from tests.openstack.cloud import purge
            purge(d)
        d.close()
