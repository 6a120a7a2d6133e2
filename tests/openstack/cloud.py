"""The OpenStack test cloud for the tests: found, or a failure that says how to start it."""
from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

OSBOX_DIR = Path(os.environ.get("OSBOX_DIR", "/var/tmp/govcloud-osbox"))
CLOUD = "govcloud-admin"
START = "bash scripts/openstack/up.sh   (about 3 minutes cold, 30 s warm)"


def require_cloud() -> str:
    """Point openstacksdk at the test cloud's clouds.yaml; fail (never skip) when it is down."""
    clouds = Path(os.environ.get("OS_CLIENT_CONFIG_FILE", OSBOX_DIR / "clouds.yaml"))
    if not clouds.is_file():
        pytest.fail(f"OpenStack test cloud not set up: no {clouds}. Start it with: {START}",
                    pytrace=False)
    os.environ["OS_CLIENT_CONFIG_FILE"] = str(clouds)
    for port in (5000, 9696, 8774, 8776, 9292):
        with socket.socket() as s:
            s.settimeout(2)
            if s.connect_ex(("127.0.0.1", port)) != 0:
                pytest.fail(f"OpenStack test cloud is not running (nothing on 127.0.0.1:{port}). "
                            f"Start it with: {START}", pytrace=False)
    return CLOUD


def purge(driver, errors: list | None = None) -> None:
    """Delete everything a test's driver owns, children first (keeps the shared cloud clean).

    One listing, then each kind's objects deleted four at a time (the driver is thread-safe:
    apply runs it in parallel too); an object already gone with its parent is fine. A second
    listing catches what is left and retries it one by one, reporting what still fails."""
    from concurrent.futures import ThreadPoolExecutor

    from drivers.base import NotFound

    def gone(o) -> Exception | None:
        try:
            driver.delete(o)
        except NotFound:
            pass
        except Exception as exc:  # best effort: the second pass reports what is left
            return exc
        return None

    for attempt in (1, 2):
        observed = driver.observe()
        for kind in PURGE_ORDER:
            batch = [o for o in observed if o.kind == kind]
            if attempt == 1:
                with ThreadPoolExecutor(max_workers=4) as pool:
                    results = list(pool.map(gone, batch))
            else:
                results = [gone(o) for o in batch]
            if attempt == 2 and errors is not None:
                errors += [f"{o.kind} {o.address}: {type(e).__name__}: {e}"
                           for o, e in zip(batch, results) if e is not None]
        if attempt == 1 and not any(o.kind in PURGE_ORDER for o in driver.observe()):
            return


PURGE_ORDER = ["volume_attachment", "floating_ip", "server", "volume", "security_group", "router",
               "subnet", "network", "quota", "project", "domain"]


def purge_stale(pattern: str) -> list[str]:
    """Remove what an earlier, interrupted test run left: every workspace owning a domain
    whose whole name matches ``pattern`` (test departments only)."""
    import re
    import tempfile

    from drivers.base import driver_class
    from drivers.openstack.driver import DOMAIN_MARK, OpenStackDriver
    require_cloud()
    probe = driver_class("openstack")("x", {"cloud": CLOUD}, Path(tempfile.gettempdir()), "ws-000000000000")
    owners = set()
    for d in probe.conn.identity.domains():
        m = DOMAIN_MARK.search(d.description or "")
        if m and re.fullmatch(pattern, d.name):
            owners.add(m.group(1))
    probe.close()
    errors: list[str] = []
    for owner in sorted(owners):
        drv: OpenStackDriver = driver_class("openstack")("x", {"cloud": CLOUD}, Path(tempfile.gettempdir()), owner)
        purge(drv, errors)
        drv.close()
    return errors
