"""Driver options are schema-validated per driver (issue 16, item 9): every driver declares a
strict options model (drivers/options.py), `validate` checks every [targets.X] table before any
cloud is called, and `plan` refuses a bad table before it connects. The file cases are in
tests/badinput/cases/130-152."""
from __future__ import annotations

import pytest

from drivers.base import DRIVERS, driver_class
from drivers.options import OPTION_MODELS, DriverOptions, options_model


def test_every_driver_declares_its_options_model():
    assert set(OPTION_MODELS) == set(DRIVERS)
    for name in DRIVERS:
        model = options_model(name)
        assert issubclass(model, DriverOptions) and model.model_config["extra"] == "forbid"
        assert model.model_config["strict"] is True
        assert driver_class(name).options_model is model, name
        model()   # every option has a default or is optional: an empty table is valid


@pytest.mark.parametrize("driver,options", [
    # what the tests' own targets use (tests/libcloud/moto_server.py, tests/openstack/, gitops e2e)
    ("libcloud", {"layout": "vpc", "provider": "ec2", "endpoint": "http://127.0.0.1:5000",
                  "region": "us-east-1", "access_key_env": "GOVCLOUD_TEST_AWS_KEY",
                  "secret_key_env": "GOVCLOUD_TEST_AWS_SECRET", "poll_seconds": 0.01,
                  "wait_seconds": 10, "images": {"kylin-v10-sp3": "ami-1"},
                  "alternate_access_key_env": "ALT_KEY", "alternate_secret_key_env": "ALT_SECRET"}),
    ("openstack", {"cloud": "govcloud-admin", "volume_files": "/var/tmp/share",
                   "image_files": "/var/tmp/images", "wait_timeout": 600,
                   "operators": ["ops", "ops@Default", "group:noc"]}),
    ("local", {"data_dir": "/srv/shared/cloud", "latency_ms": 40, "fail_create": ["*/server.*"]}),
    ("local", {"data_dir": ".govcloud/other-cloud", "images": ["kylin-v10-sp3"],
               "external_networks": ["internet"]}),
])
def test_the_options_in_use_are_valid(driver, options):
    options_model(driver).model_validate(options)   # negative control of the refusals below


@pytest.mark.parametrize("driver,options,field", [
    ("openstack", {"wait_timeout": float("inf")}, "wait_timeout"),
    ("openstack", {"cloud": ""}, "cloud"),
    ("libcloud", {"timeout": True}, "timeout"),            # a bool is not a number of seconds
    ("libcloud", {"images": ["kylin"]}, "images"),
    ("libcloud", {"password": "x"}, ""),
    ("local", {"latency_ms": -1}, "latency_ms"),
    ("local", {"data_dir": "a/../../b"}, "data_dir"),
])
def test_bad_options_are_refused_by_the_model(driver, options, field):
    from pydantic import ValidationError
    with pytest.raises(ValidationError) as err:
        options_model(driver).model_validate(options)
    assert field in str(err.value)


def _on_openstack(ws, extra: str) -> None:
    cfg = ws / "govcloud.toml"
    text = cfg.read_text(encoding="utf-8").split("\n[targets.os]")[0]   # (a second call: anew)
    text = text.replace('target = "local"', 'target = "os"')
    cfg.write_text(text + f'\n[targets.os]\ndriver = "openstack"\ncloud = "nowhere"\n{extra}\n',
                   encoding="utf-8")


@pytest.fixture
def connects(monkeypatch):
    """Every OpenStack connection attempt, recorded (and refused: there is no cloud here)."""
    import openstack
    calls = []

    def fake(**kw):
        calls.append(kw)
        raise RuntimeError("no cloud in this test")
    monkeypatch.setattr(openstack, "connect", fake)
    return calls


def test_plan_refuses_a_bad_openstack_table_before_connecting(ws, cli, connects):
    _on_openstack(ws, "wait_timeout = 1e12\nvolume_files = \"share\"")
    r = cli("plan", "-C", ws)
    assert r.exit_code == 1, r.output
    assert "targets.os.wait_timeout: Input should be less than or equal to 3600" in r.output
    assert "targets.os.volume_files: 'share' is not an absolute path" in r.output
    assert connects == [], "the cloud was called before the options were checked"
    assert not (ws / "stacks").exists() and not (ws / ".govcloud").exists()


def test_negative_control_a_good_openstack_table_reaches_the_cloud(ws, cli, connects):
    _on_openstack(ws, "wait_timeout = 600")
    assert cli("validate", "-C", ws).exit_code == 0
    assert connects == []                              # validate never calls a cloud
    r = cli("plan", "-C", ws)
    assert r.exit_code == 1 and "cannot open cloud target 'os'" in r.output, r.output
    assert connects, "plan did not try to connect: the check above proves nothing"


def test_declared_images_are_checked_and_undeclared_ones_are_not(ws, cli, connects):
    _on_openstack(ws, 'images = ["kylin-v10-sp3", "uos-server-20"]\n'
                      'external_networks = ["internet", "extranet"]')
    assert cli("validate", "-C", ws).exit_code == 0    # the examples use exactly these
    _on_openstack(ws, 'images = ["kylin-v10-sp3"]')
    r = cli("validate", "-C", ws)
    assert r.exit_code == 1 and "'uos-server-20' is not an image target 'os' offers" in r.output
    assert connects == []


def test_a_credential_in_the_table_is_refused_without_echoing_it(ws, cli):
    cfg = ws / "govcloud.toml"
    cfg.write_text(cfg.read_text(encoding="utf-8") + '\n[targets.aws]\ndriver = "libcloud"\n'
                   'secret_access_key = "wJalrXUtnFEMIK7MDENG"\n', encoding="utf-8")
    r = cli("validate", "-C", ws)
    assert r.exit_code == 1 and "targets.aws.secret_access_key: credentials never go" in r.output
    assert "wJalrXUtnFEMIK7MDENG" not in r.output
