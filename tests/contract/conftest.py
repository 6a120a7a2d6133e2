"""Driver factories for the contract suite. Each new driver adds one entry to FACTORIES;
the suite in test_driver_contract.py then runs against it unchanged."""
from __future__ import annotations

import uuid

import pytest

from drivers.base import driver_class


def _local(tmp_path, owner):
    return driver_class("local")("local", {"data_dir": str(tmp_path / "cloud")}, tmp_path, owner)


FACTORIES = {"local": _local}


@pytest.fixture(params=sorted(FACTORIES))
def make_driver(request, tmp_path):
    made = []

    def make(owner=None):
        d = FACTORIES[request.param](tmp_path, owner or f"ws-{uuid.uuid4().hex[:12]}")
        made.append(d)
        return d
    yield make
    for d in made:
        d.close()
