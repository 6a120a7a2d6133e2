"""The OpenStack test cloud behind fault proxies: one proxy per service endpoint of the catalog
(Keystone, Nova, Cinder, Glance, Neutron, Placement), one ``FaultPlan`` counting across them,
and every answer's URLs rewritten to the proxies (the token's catalog, the version documents),
so the SDK never reaches a service around its proxy. A clouds.yaml entry ``f16p`` points at the
Keystone proxy with the admin's credentials.
"""
from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Iterator
from urllib.parse import urlparse

import yaml

from tests.faults.proxy import FaultPlan, FaultProxy, url_rewrite
from tests.openstack.cloud import CLOUD, require_cloud

PROXIED_CLOUD = "f16p"


def _bases() -> list[str]:
    import openstack
    conn = openstack.connect(cloud=CLOUD, api_timeout=30)
    try:
        conn.authorize()
        urls = {conn.config.auth["auth_url"]}
        urls |= {e["url"] for s in conn.service_catalog for e in s["endpoints"]}
    finally:
        conn.close()
    return sorted({f"{u.scheme}://{u.hostname}:{u.port}" for u in map(urlparse, urls)})


@contextlib.contextmanager
def proxied_cloud(plan: FaultPlan, where: Path) -> Iterator[dict[str, FaultProxy]]:
    """Proxies for every endpoint, and OS_CLIENT_CONFIG_FILE set to a clouds.yaml (in
    ``where``) that has the real entries plus ``f16p`` through the proxies; restored after."""
    real = Path(require_cloud() and os.environ["OS_CLIENT_CONFIG_FILE"])
    proxies = {b: FaultProxy(b, plan) for b in _bases()}
    rewrite = url_rewrite({b: p.url for b, p in proxies.items()})
    for p in proxies.values():
        p.rewrite = rewrite
        p.start()
    clouds = yaml.safe_load(real.read_text(encoding="utf-8"))
    entry = yaml.safe_load(yaml.safe_dump(clouds["clouds"][CLOUD]))
    auth = urlparse(entry["auth"]["auth_url"])
    entry["auth"]["auth_url"] = rewrite("", entry["auth"]["auth_url"].encode()).decode()
    assert str(auth.port) not in entry["auth"]["auth_url"].rsplit(":", 1)[-1].split("/")[0]
    clouds["clouds"][PROXIED_CLOUD] = entry
    path = where / "clouds-f16p.yaml"
    path.write_text(yaml.safe_dump(clouds), encoding="utf-8")
    path.chmod(0o600)
    os.environ["OS_CLIENT_CONFIG_FILE"] = str(path)
    try:
        yield proxies
    finally:
        os.environ["OS_CLIENT_CONFIG_FILE"] = str(real)
        for p in proxies.values():
            p.stop()
