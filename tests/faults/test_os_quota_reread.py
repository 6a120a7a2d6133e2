"""The quota's read-back after a create, when a read fails (no cloud needed: the SDK calls are
stubbed, the handler is the product's). Before the fix a transient failure while reading the
quota sets was taken for "a project whose quota cannot be read" (None), the create returned
None and apply failed with AttributeError 'cloud_id' (found by the random fault mix)."""
from __future__ import annotations

import contextlib
from types import SimpleNamespace as NS

import pytest

from drivers.base import ADDRESS_TAG, DriverError, TransientError
from drivers.openstack.identity import Quota
from drivers.openstack.kind import enc
from orchestrator.models.cloud import Request


def quota_handler(get_quota_set):
    project = NS(id="p1", tags=[enc(ADDRESS_TAG, "project:os/edu/edu-portal-internet")])
    quota = NS(cores=4, ram=8192, instances=2, volumes=4, gigabytes=100, floatingip=1, get=None)
    conn = NS(identity=NS(get_project=lambda pid: project),
              compute=NS(get_quota_set=get_quota_set, update_quota_set=lambda *a, **k: None),
              block_storage=NS(get_quota_set=lambda pid: quota, update_quota_set=lambda *a, **k: None),
              network=NS(get_quota=lambda pid: quota, update_quota=lambda *a, **k: None))
    drv = NS(conn=conn, api_calls=0, _api=contextlib.nullcontext)
    return Quota(drv)


REQ = Request("quota:os/edu/edu-portal-internet/quota", "quota", "quota", {"vcpus": 4},
              {"project": "p1"}, {})


def test_a_transient_failure_reading_the_quota_back_is_raised_to_be_retried():
    def flaky(pid):
        raise TransientError("nova: HTTP 503")
    with pytest.raises(TransientError):
        quota_handler(flaky).create(REQ)


def test_a_quota_that_cannot_be_read_back_is_an_error_not_none():
    def refused(pid):
        raise DriverError("project in a disabled domain")
    q = quota_handler(refused)
    assert q.shape(q.conn.identity.get_project("p1")) is None      # observe: still skipped
    with pytest.raises(DriverError, match="cannot be read back"):
        q.create(REQ)
