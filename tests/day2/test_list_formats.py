"""`-f table|json|yaml|csv|value` and `-c COLUMN` on the list commands (the openstack CLI's),
and OS_CLOUD / --os-cloud for OpenStack targets that name no cloud."""
from __future__ import annotations

import csv
import io
import json

import yaml


def test_formats_and_columns_on_state_list(applied_ws, cli):
    ws = applied_ws
    rows = json.loads(cli("state", "list", "-C", ws, "-f", "json").output)
    assert len(rows) == 56 and set(rows[0]) == {"address", "kind", "target", "cloud_id", "status",
                                                "stack", "approval"}
    only = json.loads(cli("state", "list", "-C", ws, "-f", "json", "-c", "cloud_id",
                          "-c", "address").output)
    assert list(only[0]) == ["cloud_id", "address"]
    assert yaml.safe_load(cli("state", "list", "-C", ws, "-f", "yaml").output) == rows
    values = cli("state", "list", "-C", ws, "-f", "value", "-c", "address").output.split()
    assert values == [r["address"] for r in rows]
    table = cli("state", "list", "-C", ws, "-c", "address", "-c", "status").output.splitlines()
    assert table[1].split("|")[1].strip() == "address" and len(table) == 56 + 4
    r = cli("state", "list", "-C", ws, "-c", "nope")
    assert r.exit_code == 1 and "columns: address" in r.output


def test_csv_of_audit_list_and_value_of_profile_list(applied_ws, cli):
    out = cli("audit", "list", "-C", applied_ws, "--last", "3", "-f", "csv", "-c", "seq",
              "-c", "action").output
    got = list(csv.reader(io.StringIO(out)))
    assert got[0] == ["seq", "action"] and len(got) == 4 and got[-1][1] == "apply-end"
    assert '"seq"' in out.splitlines()[0] and not out.splitlines()[1].startswith('"')  # numbers bare
    codes = cli("profile", "list", "-f", "value", "-c", "code").output.split()
    assert codes == ["bazhong", "bozhou", "chongqing", "datong", "sichuan"]


def test_os_cloud_names_the_cloud_of_a_target_that_names_none(monkeypatch, tmp_path):
    """The driver reads OS_CLOUD when its target has no `cloud`; --os-cloud sets it. Checked
    with a cloud name no clouds.yaml has: the error names it (and no cloud is contacted)."""
    from drivers.base import DriverError, driver_class
    monkeypatch.setenv("OS_CLIENT_CONFIG_FILE", str(tmp_path / "clouds.yaml"))
    (tmp_path / "clouds.yaml").write_text("clouds: {}\n")
    monkeypatch.setenv("OS_CLOUD", "os17-nowhere")
    try:
        driver_class("openstack")("t", {}, tmp_path, "ws-000000000017")
        raise AssertionError("connected to a cloud that does not exist")
    except DriverError as exc:
        assert "os17-nowhere" in str(exc)
    try:   # an explicit cloud in the target wins over OS_CLOUD
        driver_class("openstack")("t", {"cloud": "os17-explicit"}, tmp_path, "ws-000000000017")
    except DriverError as exc:
        assert "os17-explicit" in str(exc)


def test_the_os_cloud_option_sets_the_environment(ws, cli, monkeypatch):
    import os
    # setenv first: monkeypatch records nothing for deleting an absent variable, and the CLI
    # sets it in this process (a leak would point later subprocesses at cloud os17-x)
    monkeypatch.setenv("OS_CLOUD", "")
    assert cli("--os-cloud", "os17-x", "validate", "-C", ws).exit_code == 0
    assert os.environ.get("OS_CLOUD") == "os17-x"
    monkeypatch.delenv("OS_CLOUD")
