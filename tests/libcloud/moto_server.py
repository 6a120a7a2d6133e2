"""One real moto server on 127.0.0.1 for the whole test run, started on first use.

Tests share it and stay apart through ownership: every test uses its own workspace id (the
``govcloud.workspace`` tag), which is exactly how govcloud tells its objects from others'.
The credentials are made-up values in environment variables whose names the target options
give (``access_key_env`` / ``secret_key_env``): the driver reads nothing else.
"""
from __future__ import annotations

import atexit
import logging
import os
import threading

KEY_ENV, SECRET_ENV = "GOVCLOUD_TEST_EC2_KEY_ID", "GOVCLOUD_TEST_EC2_SECRET"
# Distinctive values so a test can prove they never land in files or output.
KEY_ID, SECRET = "AKIAGOVCLOUDTEST0001", "s3cr3t-Gv7pQx2LmZ-never-in-state"
IMAGES = ("kylin-v10-sp3", "uos-server-20", "openeuler-22.03", "centos-7.9", "ubuntu-22.04")

_lock = threading.Lock()
_endpoint: str | None = None
_server = None


def endpoint() -> str:
    """The moto server's URL (started once per process; stopped at exit)."""
    global _endpoint, _server
    with _lock:
        if _endpoint is None:
            logging.getLogger("werkzeug").setLevel(logging.ERROR)
            from moto.server import ThreadedMotoServer
            _server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
            _server.start()
            atexit.register(_server.stop)
            _host, port = _server.get_host_and_port()
            _endpoint = f"http://127.0.0.1:{port}"
            os.environ[KEY_ENV], os.environ[SECRET_ENV] = KEY_ID, SECRET
            _register_images(_endpoint)
        return _endpoint


def target_options(**more) -> dict:
    return {"driver": "libcloud", "provider": "ec2", "endpoint": endpoint(),
            "region": "us-east-1", "access_key_env": KEY_ENV, "secret_key_env": SECRET_ENV,
            "poll_seconds": 0.01, "wait_seconds": 10, **more}


def raw_ec2():
    """A quirk-fixed libcloud EC2 driver on the moto server (for setting up and inspecting)."""
    from drivers.libcloud.quirks import FixedEC2NodeDriver
    port = int(endpoint().rsplit(":", 1)[1])
    return FixedEC2NodeDriver(KEY_ID, SECRET, secure=False, host="127.0.0.1", port=port,
                              region="us-east-1", signature_version="4")


def _register_images(url: str) -> None:
    from drivers.libcloud.quirks import FixedEC2NodeDriver
    port = int(url.rsplit(":", 1)[1])
    ec2 = FixedEC2NodeDriver(KEY_ID, SECRET, secure=False, host="127.0.0.1", port=port,
                             region="us-east-1", signature_version="4")
    for name in IMAGES:
        ec2.connection.request("/", params={
            "Action": "RegisterImage", "Name": name, "RootDeviceName": "/dev/sda1",
            "BlockDeviceMapping.1.DeviceName": "/dev/sda1",
            "BlockDeviceMapping.1.Ebs.VolumeSize": "8"})


def reset() -> None:
    """Empty the moto server (every region and service) and register the images again."""
    import requests
    url = endpoint()
    requests.post(f"{url}/moto-api/reset", timeout=30).raise_for_status()
    _register_images(url)


def aws_config(url: str) -> str:
    """A govcloud.toml section for a target on the moto server (credentials: env names only)."""
    return "\n".join([
        "", "[targets.aws]", 'driver = "libcloud"', 'provider = "ec2"', f'endpoint = "{url}"',
        'region = "us-east-1"', f'access_key_env = "{KEY_ENV}"', f'secret_key_env = "{SECRET_ENV}"',
        "poll_seconds = 0.01", ""])


def workspace(tmp_path):
    """The shipped examples (init) with every zone on the moto target ``aws``."""
    from orchestrator.usecases.init import init_workspace
    path = tmp_path / "ws"
    init_workspace(path, "bazhong")
    cfg = path / "govcloud.toml"
    text = cfg.read_text(encoding="utf-8").replace('target = "local"', 'target = "aws"')
    cfg.write_text(text + aws_config(endpoint()), encoding="utf-8")
    return path
