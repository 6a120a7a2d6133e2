"""--debug through libcloud's connection: each EC2 request logged (method, URL with its Action,
status, time) against the moto server, without the secret key."""
from __future__ import annotations

import re

from tests.libcloud.conftest import new_driver  # noqa: F401  (fixture)
from tests.libcloud.moto_server import target_options


def test_each_ec2_request_is_logged(new_driver, monkeypatch, capfd):  # noqa: F811
    monkeypatch.setenv("GOVCLOUD_DEBUG", "1")
    d = new_driver()
    d.observe()
    err = capfd.readouterr().err
    lines = [x for x in err.splitlines() if x.startswith("govcloud api:")]
    assert lines, err[-500:]
    assert all(re.match(r"^govcloud api: (GET|POST) https?://127\.0\.0\.1:\d+/\S*\?Action=Describe\w+ "
                        r"-> 200 \(\d+\.\d ms\)$", x) for x in lines), lines[:3]
    secret = target_options().get("secret_key") or ""
    import os
    for v in (os.environ.get("AWS_SECRET_ACCESS_KEY"), secret):
        if v:
            assert v not in err
