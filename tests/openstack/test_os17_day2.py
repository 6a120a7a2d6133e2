"""Issue 17's OpenStack specifics against the test cloud (scripts/openstack/up.sh): the
--debug API log through keystoneauth's requests session. Read-only on the shared cloud except
where a test says so (its objects are under the os17 prefix and removed)."""
from __future__ import annotations

import re
import tempfile
from pathlib import Path

import yaml

from tests.openstack.cloud import CLOUD, require_cloud

OWNER = "ws-05170517aaaa"   # nothing in the cloud carries it: observe lists nothing of others'


def _password() -> str:
    import os
    clouds = yaml.safe_load(Path(os.environ["OS_CLIENT_CONFIG_FILE"]).read_text())
    return clouds["clouds"][CLOUD]["auth"]["password"]


def test_debug_logs_keystone_and_service_calls_without_credentials(monkeypatch, capfd):
    require_cloud()
    monkeypatch.setenv("GOVCLOUD_DEBUG", "1")
    from drivers.base import driver_class
    d = driver_class("openstack")("os17", {"cloud": CLOUD}, Path(tempfile.gettempdir()), OWNER)
    try:
        assert d.observe() == []
    finally:
        d.close()
    err = capfd.readouterr().err
    lines = [x for x in err.splitlines() if x.startswith("govcloud api:")]
    pat = re.compile(r"^govcloud api: (GET|POST|PUT|PATCH|DELETE|HEAD) http://127\.0\.0\.1:\d+/\S* "
                     r"-> \d{3} \(\d+\.\d ms\)$")
    assert lines and all(pat.match(x) for x in lines), lines[:5]
    assert any(re.search(r"POST http://127\.0\.0\.1:5000/v3/auth/tokens -> 201", x) for x in lines)
    ports = {re.search(r":(\d+)/", x).group(1) for x in lines}
    assert {"5000", "9696", "8774", "8776"} <= ports, ports     # keystone, neutron, nova, cinder
    assert _password() not in err


def test_no_debug_no_log(monkeypatch, capfd):
    require_cloud()
    monkeypatch.delenv("GOVCLOUD_DEBUG", raising=False)
    from drivers.base import driver_class
    d = driver_class("openstack")("os17", {"cloud": CLOUD}, Path(tempfile.gettempdir()), OWNER)
    d.close()
    assert "govcloud api" not in capfd.readouterr().err


def test_inventory_lists_a_projects_unowned_objects(tmp_path):
    """A project made through the driver (department os17…), an owned network in it and one
    made beside it with the admin connection: inventory lists both, only ours tagged."""
    require_cloud()
    import uuid

    from drivers.base import driver_class
    from tests.contract.test_driver_contract import Tenant
    from tests.openstack.cloud import purge
    owner = f"ws-{uuid.uuid4().hex[:12]}"
    d = driver_class("openstack")("x", {"cloud": CLOUD}, tmp_path, owner)
    stray = None
    try:
        t = Tenant(d, dept=f"os17{uuid.uuid4().hex[:8]}")
        t.make("domain", t.dept, {"name": t.dept, "description": "os17"},
               address=f"domain:x/{t.dept}")
        t.make("project", t.proj, {"name": t.proj, "description": "", "cidr": t.cidr},
               {"domain": f"domain:x/{t.dept}"}, address=f"project:x/{t.dept}/{t.proj}")
        t.project = f"project:x/{t.dept}/{t.proj}"
        net = t.make("network", "net", {"name": "net"}, {"project": t.project})
        pid = t.ids[t.project]
        stray = d.conn.network.create_network(name="os17-stray", project_id=pid)
        got = {o.cloud_id: o for o in d.inventory([pid])}
        assert got[net.cloud_id].address == net.address and got[net.cloud_id].kind == "network"
        assert got[stray.id].address == "" and got[stray.id].kind == "network"
        assert all(o.refs["project"] == pid for o in got.values())
        assert d.inventory([]) == []
    finally:
        if stray is not None:
            d.conn.network.delete_network(stray.id)
        errors: list = []
        purge(d, errors)
        d.close()
        assert not errors, errors


def test_os_cloud_picks_the_cloud_when_the_target_names_none(monkeypatch):
    require_cloud()
    from drivers.base import driver_class
    monkeypatch.setenv("OS_CLOUD", CLOUD)
    d = driver_class("openstack")("os17", {}, Path(tempfile.gettempdir()), OWNER)
    try:
        assert d.cloud == CLOUD and d.observe() == []
    finally:
        d.close()
